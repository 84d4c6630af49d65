import { authorizeUrl, challengeOf, jwtClaims, logoutUrl, randomToken, tokenRequestBody, type ConsoleConfig } from './lib/oauth';

/**
 * The signed-in session. The ID token lives in memory and in this tab's sessionStorage (so a reload keeps
 * the session, and closing the tab ends it); nothing goes to localStorage or cookies, and no refresh token is
 * kept: when the ID token expires (one hour) the console signs in again through the identity provider.
 */

const SESSION_KEY = 'console.session';
const PENDING_KEY = 'console.pending-sign-in';

export interface Session {
  idToken: string;
  /** ms since the epoch. */
  expiresAt: number;
}

interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
}

let current: Session | undefined;

export function getSession(): Session | undefined {
  if (!current) {
    const stored = sessionStorage.getItem(SESSION_KEY);
    if (stored) {
      try {
        current = JSON.parse(stored) as Session;
      } catch {
        sessionStorage.removeItem(SESSION_KEY);
      }
    }
  }
  if (current && current.expiresAt <= Date.now() + 30_000) clearSession();
  return current;
}

export function clearSession(): void {
  current = undefined;
  sessionStorage.removeItem(SESSION_KEY);
}

/** Starts sign-in: a fresh state and PKCE verifier kept for the callback, then off to the authorize endpoint. */
export async function signIn(config: ConsoleConfig, returnTo: string): Promise<void> {
  const pending: PendingSignIn = { state: randomToken(), verifier: randomToken(48), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  location.assign(authorizeUrl(config.auth, pending.state, await challengeOf(pending.verifier)));
}

export class SignInError extends Error {}

/**
 * Finishes sign-in on `/callback?code=&state=`: the state must be the one this tab sent (else the reply is
 * refused), then the code is redeemed with the verifier. Returns where to go next.
 */
export async function completeSignIn(config: ConsoleConfig, params: URLSearchParams): Promise<string> {
  const stored = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const error = params.get('error');
  if (error) throw new SignInError(`The sign-in was refused: ${params.get('error_description') ?? error}`);
  const pending = stored ? (JSON.parse(stored) as PendingSignIn) : undefined;
  const code = params.get('code');
  if (!pending || !code || params.get('state') !== pending.state) {
    throw new SignInError('This sign-in reply does not belong to a sign-in started in this tab. Sign in again.');
  }
  const response = await fetch(`${config.auth.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenRequestBody(config.auth, code, pending.verifier),
  });
  const body = (await response.json().catch(() => ({}))) as { id_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (!response.ok || !body.id_token) {
    throw new SignInError(`The token endpoint refused the code (${response.status} ${body.error_description ?? body.error ?? ''}). Sign in again.`);
  }
  const exp = jwtClaims(body.id_token).exp;
  const expiresAt = typeof exp === 'number' ? exp * 1000 : Date.now() + (body.expires_in ?? 3600) * 1000;
  current = { idToken: body.id_token, expiresAt };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(current));
  return pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//') ? pending.returnTo : '/';
}

/** Ends the session here and at the identity provider (which then returns to the console). */
export function signOut(config: ConsoleConfig): void {
  clearSession();
  location.assign(logoutUrl(config.auth));
}
