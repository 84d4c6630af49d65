import { createHash, randomBytes } from 'node:crypto';
import { CODE_LIFETIME_MS, LocalHostedUi, OAuthError, s256 } from '../../../../../infra/local-cloud/services/cognito/models';

const CLIENT = { clientId: 'console', callbackUrls: ['http://127.0.0.1:3001/callback'], logoutUrls: ['http://127.0.0.1:3001/'], scopes: ['openid', 'email', 'profile'], hasSecret: false };

function setup() {
  let now = 1_000_000;
  const ui = new LocalHostedUi(() => now);
  ui.setClients([CLIENT, { ...CLIENT, clientId: 'other', callbackUrls: ['http://other/cb'] }]);
  return { ui, advance: (ms: number) => (now += ms) };
}

const verifier = () => randomBytes(32).toString('base64url');
const authorizeQuery = (challenge: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({ response_type: 'code', client_id: 'console', redirect_uri: CLIENT.callbackUrls[0]!, code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz', ...extra });
const tokenForm = (code: string, codeVerifier: string, extra: Record<string, string> = {}) =>
  new URLSearchParams({ grant_type: 'authorization_code', client_id: 'console', code, redirect_uri: CLIENT.callbackUrls[0]!, code_verifier: codeVerifier, ...extra });

function codeFor(ui: LocalHostedUi, v: string, user = { oemId: 'oem1', admin: true }): string {
  const back = new URL(ui.signIn(ui.authorize(authorizeQuery(s256(v))), user));
  expect(back.searchParams.get('state')).toBe('xyz');
  return back.searchParams.get('code')!;
}

const oauthError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof OAuthError) return error.error;
    throw error;
  }
  throw new Error('no error');
};

describe('LocalHostedUi', () => {
  it('computes the S256 challenge: base64url without padding of the verifier\'s SHA-256', () => {
    // Computed with Python's hashlib and base64.urlsafe_b64encode, padding stripped.
    expect(s256('dBjftJeZ4CVP-mJ0tqp6d5Rl3vl3V2yDuJz4Zb3Pq6Q')).toBe('S-_iLVz8GRhjxogiGdNOJ5V6DCi7yMtdMgqacGo2mKA');
    expect(s256('x')).toBe(createHash('sha256').update('x').digest('base64url'));
  });

  it('redeems a code once with the right verifier, for the OEM and role chosen', () => {
    const { ui } = setup();
    const v = verifier();
    const code = codeFor(ui, v);
    expect(ui.redeem(tokenForm(code, v))).toMatchObject({ oemId: 'oem1', admin: true, clientId: 'console', scopes: ['openid', 'email', 'profile'] });
    expect(oauthError(() => ui.redeem(tokenForm(code, v)))).toBe('invalid_grant');
  });

  it('refuses a wrong verifier, and the code is spent by the try', () => {
    const { ui } = setup();
    const v = verifier();
    const code = codeFor(ui, v);
    expect(oauthError(() => ui.redeem(tokenForm(code, verifier())))).toBe('invalid_grant');
    expect(oauthError(() => ui.redeem(tokenForm(code, v)))).toBe('invalid_grant');
  });

  it('refuses a code after five minutes', () => {
    const { ui, advance } = setup();
    const v = verifier();
    const code = codeFor(ui, v);
    advance(CODE_LIFETIME_MS);
    expect(oauthError(() => ui.redeem(tokenForm(code, v)))).toBe('invalid_grant');
  });

  it('binds the code to its client and redirect URI', () => {
    const { ui } = setup();
    const v = verifier();
    expect(oauthError(() => ui.redeem(tokenForm(codeFor(ui, v), v, { client_id: 'other' })))).toBe('invalid_grant');
    expect(oauthError(() => ui.redeem(tokenForm(codeFor(ui, v), v, { redirect_uri: 'http://127.0.0.1:3001/' })))).toBe('invalid_grant');
    expect(oauthError(() => ui.redeem(tokenForm(codeFor(ui, v), v, { client_id: 'nobody' })))).toBe('invalid_client');
    expect(oauthError(() => ui.redeem(tokenForm(codeFor(ui, v), v, { grant_type: 'password' })))).toBe('unsupported_grant_type');
  });

  it('checks authorize requests: client, callback URL (never redirected to), code flow, PKCE S256, scopes', () => {
    const { ui } = setup();
    const challenge = s256(verifier());
    const unknown = (() => { try { ui.authorize(authorizeQuery(challenge, { client_id: 'nobody' })); } catch (e) { return e as OAuthError & { redirect?: boolean }; } })();
    expect(unknown).toMatchObject({ error: 'invalid_client', redirect: false });
    const badRedirect = (() => { try { ui.authorize(authorizeQuery(challenge, { redirect_uri: 'http://evil/cb' })); } catch (e) { return e as OAuthError & { redirect?: boolean }; } })();
    expect(badRedirect).toMatchObject({ error: 'invalid_request', redirect: false });
    expect(oauthError(() => ui.authorize(authorizeQuery(challenge, { response_type: 'token' })))).toBe('unsupported_response_type');
    expect(oauthError(() => ui.authorize(authorizeQuery(challenge, { code_challenge_method: 'plain' })))).toBe('invalid_request');
    expect(oauthError(() => ui.authorize(authorizeQuery('short')))).toBe('invalid_request');
    expect(oauthError(() => ui.authorize(authorizeQuery(challenge, { scope: 'openid aws.cognito.signin.user.admin' })))).toBe('invalid_scope');
  });

  it('refuses an OEM id the pipeline would not accept', () => {
    const { ui } = setup();
    const request = ui.authorize(authorizeQuery(s256(verifier())));
    for (const oemId of ['', '_x', 'a/b', 'x'.repeat(65)]) expect(oauthError(() => ui.signIn(request, { oemId, admin: false }))).toBe('invalid_request');
  });

  it('signs out only to a registered logout URL', () => {
    const { ui } = setup();
    expect(ui.logout(new URLSearchParams({ client_id: 'console', logout_uri: 'http://127.0.0.1:3001/' }))).toBe('http://127.0.0.1:3001/');
    expect(oauthError(() => ui.logout(new URLSearchParams({ client_id: 'console', logout_uri: 'http://evil/' })))).toBe('invalid_request');
  });
});
