import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { LocalCloud } from '../../infra/local-cloud/local-cloud';
import { startTestCloud } from './local-cloud-helpers';

jest.setTimeout(240_000);

interface ConsoleConfig {
  apiUrl: string;
  region: string;
  auth: { domain: string; clientId: string; redirectUri: string; logoutUri: string; scopes: string[] };
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

describe('console hosting and sign-in on the local cloud', () => {
  let cloud: LocalCloud;
  let config: ConsoleConfig;

  beforeAll(async () => {
    cloud = await startTestCloud();
    const res = await fetch(`${cloud.outputs.ConsoleUrl}/config.json`);
    expect(res.status).toBe(200);
    config = (await res.json()) as ConsoleConfig;
  });
  afterAll(async () => cloud?.stop());

  /** Authorize + sign-in form: the URL the browser is sent back to. */
  async function signIn(oemId: string, admin: boolean, challenge: string, redirectUri = config.auth.redirectUri): Promise<URL> {
    const query = new URLSearchParams({
      response_type: 'code', client_id: config.auth.clientId, redirect_uri: redirectUri, scope: config.auth.scopes.join(' '),
      state: 'st-1', code_challenge: challenge, code_challenge_method: 'S256',
    });
    const page = await fetch(`${config.auth.domain}/oauth2/authorize?${query}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/<label for="oem_id">OEM id<\/label>/);
    expect(html).toMatch(/<label for="admin">OEM admin<\/label>/);
    expect(html).toMatch(/<button type="submit">Sign in<\/button>/);
    const form = new URLSearchParams(query);
    form.set('oem_id', oemId);
    if (admin) form.set('admin', 'on');
    const posted = await fetch(`${config.auth.domain}/login`, { method: 'POST', body: form, redirect: 'manual' });
    expect(posted.status).toBe(302);
    return new URL(posted.headers.get('location')!);
  }

  const token = (form: Record<string, string>) =>
    fetch(`${config.auth.domain}/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.auth.clientId, redirect_uri: config.auth.redirectUri, ...form }) });

  it('writes config.json with the local API, hosted UI and the console client; ConsoleUrl is in the outputs', () => {
    expect(cloud.outputs.ConsoleUrl).toBe(cloud.consoleUrl);
    expect(config).toEqual({
      apiUrl: cloud.apiUrl,
      region: cloud.region,
      s3Endpoint: cloud.edgeUrl,
      auth: {
        domain: cloud.authUrl,
        clientId: cloud.outputs.ConsoleClientId,
        redirectUri: `${cloud.consoleUrl}/callback`,
        logoutUri: `${cloud.consoleUrl}/`,
        scopes: ['openid', 'email', 'profile'],
      },
    });
  });

  it('serves the console with the security headers of the template, and unknown paths as index.html', async () => {
    const root = await fetch(`${cloud.consoleUrl}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toMatch(/text\/html/);
    const index = await root.text();
    const csp = root.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`connect-src 'self' ${cloud.apiUrl} ${cloud.authUrl}`);
    expect(root.headers.get('x-content-type-options')).toBe('nosniff');
    expect(root.headers.get('x-frame-options')).toBe('DENY');
    expect(root.headers.get('referrer-policy')).toBe('no-referrer');
    expect(root.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
    const route = await fetch(`${cloud.consoleUrl}/files/some/where?x=1`);
    expect(route.status).toBe(200);
    expect(await route.text()).toBe(index);
    expect((await fetch(`${cloud.consoleUrl}/`, { method: 'POST' })).status).toBe(403);
  });

  it('signs in with code + PKCE and issues ID tokens the API accepts, with the OEM and role chosen', async () => {
    const { verifier, challenge } = pkce();
    const back = await signIn('c0ffee01', true, challenge);
    expect(`${back.origin}${back.pathname}`).toBe(config.auth.redirectUri);
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code')!;
    const res = await token({ code, code_verifier: verifier });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await res.json()) as { id_token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe('Bearer');
    const claims = decodeJwt(body.id_token);
    expect(claims.aud).toBe(config.auth.clientId);
    expect(claims['custom:oem_id']).toBe('c0ffee01');
    expect(claims['cognito:groups']).toEqual(['oem-admin']);

    const me = await fetch(`${config.apiUrl}/me`, { headers: { authorization: `Bearer ${body.id_token}`, origin: cloud.consoleUrl } });
    expect(me.status).toBe(200);
    expect(me.headers.get('access-control-allow-origin')).toBe(cloud.consoleUrl);
    expect(await me.json()).toMatchObject({ oemId: 'c0ffee01', admin: true });

    // The code is single-use.
    const again = await token({ code, code_verifier: verifier });
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a wrong verifier (and the code is then spent), a member gets no admin group', async () => {
    const { verifier, challenge } = pkce();
    const back = await signIn('c0ffee02', false, challenge);
    const code = back.searchParams.get('code')!;
    const wrong = await token({ code, code_verifier: pkce().verifier });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await token({ code, code_verifier: verifier })).status).toBe(400);

    const other = pkce();
    const member = await signIn('c0ffee02', false, other.challenge);
    const ok = (await (await token({ code: member.searchParams.get('code')!, code_verifier: other.verifier })).json()) as { id_token: string };
    expect(decodeJwt(ok.id_token)['cognito:groups']).toBeUndefined();
  });

  it('refuses a redirect_uri that is not a callback URL, at authorize and at token', async () => {
    const { verifier, challenge } = pkce();
    const query = new URLSearchParams({ response_type: 'code', client_id: config.auth.clientId, redirect_uri: 'http://evil.example/callback', code_challenge: challenge, code_challenge_method: 'S256' });
    const res = await fetch(`${config.auth.domain}/oauth2/authorize?${query}`, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();

    const back = await signIn('c0ffee03', false, challenge);
    const mismatch = await token({ code: back.searchParams.get('code')!, code_verifier: verifier, redirect_uri: `${cloud.consoleUrl}/` });
    expect(mismatch.status).toBe(400);
  });

  it('refuses an authorize request without PKCE by redirecting with an error', async () => {
    const query = new URLSearchParams({ response_type: 'code', client_id: config.auth.clientId, redirect_uri: config.auth.redirectUri, state: 's' });
    const res = await fetch(`${config.auth.domain}/oauth2/authorize?${query}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('state')).toBe('s');
  });

  it('signs out to a registered logout URL only', async () => {
    const ok = await fetch(`${config.auth.domain}/logout?${new URLSearchParams({ client_id: config.auth.clientId, logout_uri: config.auth.logoutUri })}`, { redirect: 'manual' });
    expect(ok.status).toBe(302);
    expect(ok.headers.get('location')).toBe(config.auth.logoutUri);
    const bad = await fetch(`${config.auth.domain}/logout?${new URLSearchParams({ client_id: config.auth.clientId, logout_uri: 'http://evil.example/' })}`, { redirect: 'manual' });
    expect(bad.status).toBe(400);
  });

  it('answers the API preflight for the console origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${config.apiUrl}/me`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    const ok = await preflight(cloud.consoleUrl);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(cloud.consoleUrl);
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
