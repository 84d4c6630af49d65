import { createHash } from 'node:crypto';
import { authorizeUrl, challengeOf, checkConfig, jwtClaims, logoutUrl, randomToken, tokenRequestBody } from '../../../console/src/lib/oauth';

const AUTH = { domain: 'https://auth.example.com', clientId: 'client123', redirectUri: 'https://console.example.com/callback', logoutUri: 'https://console.example.com/', scopes: ['openid', 'email', 'profile'] };

describe('console sign-in (authorization code + PKCE)', () => {
  it('makes the S256 challenge: BASE64URL(SHA-256(verifier)), unpadded', async () => {
    for (const verifier of ['abc', randomToken(48), randomToken(32)]) {
      expect(await challengeOf(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
    }
    expect(await challengeOf('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });

  it('makes random URL-safe verifiers and states of the length RFC 7636 asks', () => {
    const tokens = new Set(Array.from({ length: 50 }, () => randomToken()));
    expect(tokens.size).toBe(50);
    for (const t of tokens) expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken(96)).toHaveLength(128);
  });

  it('sends the code flow parameters to the authorize endpoint, and the code with its verifier to the token endpoint', () => {
    const url = new URL(authorizeUrl(AUTH, 'state-1', 'challenge-1'));
    expect(url.origin + url.pathname).toBe('https://auth.example.com/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code', client_id: 'client123', redirect_uri: AUTH.redirectUri, scope: 'openid email profile',
      state: 'state-1', code_challenge: 'challenge-1', code_challenge_method: 'S256',
    });
    expect(Object.fromEntries(new URLSearchParams(tokenRequestBody(AUTH, 'code-1', 'verifier-1')))).toEqual({
      grant_type: 'authorization_code', client_id: 'client123', code: 'code-1', redirect_uri: AUTH.redirectUri, code_verifier: 'verifier-1',
    });
    expect(logoutUrl(AUTH)).toBe('https://auth.example.com/logout?client_id=client123&logout_uri=https%3A%2F%2Fconsole.example.com%2F');
  });

  it('reads a token payload (UTF-8 included) and tolerates garbage', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1700000000, name: 'Zoë' })).toString('base64url');
    expect(jwtClaims(`h.${payload}.s`)).toEqual({ exp: 1700000000, name: 'Zoë' });
    expect(jwtClaims('not a token')).toEqual({});
    expect(jwtClaims('a.%%%.b')).toEqual({});
  });

  it('checks config.json and drops trailing slashes', () => {
    expect(checkConfig({ apiUrl: 'https://api.example.com/', region: 'eu-west-1', auth: { ...AUTH, domain: 'https://auth.example.com/' } })).toMatchObject({
      apiUrl: 'https://api.example.com',
      auth: { domain: 'https://auth.example.com' },
    });
    expect(() => checkConfig({ apiUrl: 'https://api.example.com' })).toThrow(/auth/);
    expect(() => checkConfig(null)).toThrow(/config.json/);
  });
});
