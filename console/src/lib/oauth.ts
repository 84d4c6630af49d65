/**
 * OAuth 2.0 authorization code with PKCE (RFC 7636, S256), as Cognito managed login and the local cloud's
 * issuer speak it. Uses only Web Crypto (in browsers and in Node), no DOM: unit-tested.
 */

export interface AuthConfig {
  /** `https://<domain>` without a trailing slash. */
  domain: string;
  clientId: string;
  redirectUri: string;
  logoutUri: string;
  scopes: string[];
}

export interface ConsoleConfig {
  /** The HTTP API's base URL, without a trailing slash. */
  apiUrl: string;
  region: string;
  auth: AuthConfig;
  /** An S3 endpoint other than AWS's (the local cloud's): added to the commands shown for the credentials. */
  s3Endpoint?: string;
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A random URL-safe string of `bytes` random bytes (32 bytes: 43 characters, as RFC 7636 asks at least). */
export function randomToken(bytes = 32): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The S256 challenge of a verifier: BASE64URL(SHA-256(verifier)). */
export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

export function authorizeUrl(auth: AuthConfig, state: string, challenge: string): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri,
    scope: auth.scopes.join(' '),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${auth.domain}/oauth2/authorize?${params.toString()}`;
}

/** The form body of the token request that redeems `code`. */
export function tokenRequestBody(auth: AuthConfig, code: string, verifier: string): string {
  return new URLSearchParams({ grant_type: 'authorization_code', client_id: auth.clientId, code, redirect_uri: auth.redirectUri, code_verifier: verifier }).toString();
}

export function logoutUrl(auth: AuthConfig): string {
  return `${auth.domain}/logout?${new URLSearchParams({ client_id: auth.clientId, logout_uri: auth.logoutUri }).toString()}`;
}

/** The claims of a JWT's payload, unverified (the API verifies; the console only reads the expiry). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1];
  if (!payload) return {};
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Whether `config` has the contract's shape (a wrong config.json is reported, not half used). */
export function checkConfig(value: unknown): ConsoleConfig {
  const c = value as Partial<ConsoleConfig> | null;
  const a = c?.auth as Partial<AuthConfig> | undefined;
  const ok =
    typeof c?.apiUrl === 'string' && typeof c.region === 'string' && typeof a?.domain === 'string' && typeof a.clientId === 'string' &&
    typeof a.redirectUri === 'string' && typeof a.logoutUri === 'string' && Array.isArray(a.scopes);
  if (!ok) throw new Error('config.json is missing apiUrl, region or auth (domain, clientId, redirectUri, logoutUri, scopes)');
  return { ...(c as ConsoleConfig), apiUrl: c.apiUrl!.replace(/\/+$/, ''), auth: { ...(a as AuthConfig), domain: a.domain!.replace(/\/+$/, '') } };
}
