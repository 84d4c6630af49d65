import { createHash, randomBytes } from 'node:crypto';
import type { OAuthClient } from './deploy';

/** How long an authorization code may be redeemed (Cognito's codes last five minutes). */
export const CODE_LIFETIME_MS = 5 * 60_000;
/** RFC 7636: a verifier is 43–128 characters of the unreserved set. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** The S256 challenge: base64url of a SHA-256 digest, 43 characters. */
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;
/** The OEM id rule of the pipeline (lambdas/domain/device-events.ts): letters, digits, `_`, `-`. */
const OEM_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** An OAuth error as the hosted UI's endpoints answer it (`error` is RFC 6749's code). */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client' | 'unsupported_grant_type' | 'invalid_scope' | 'unsupported_response_type',
    message: string,
  ) {
    super(message);
  }
}

/** A validated `/oauth2/authorize` request. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state?: string;
  scopes: string[];
  codeChallenge: string;
  nonce?: string;
}

/** Who signs in on the local page. */
export interface LocalUser {
  oemId: string;
  admin: boolean;
}

interface IssuedCode extends AuthorizeRequest, LocalUser {
  expiresAt: number;
}

export const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

/**
 * The local hosted UI's rules: which clients may sign in where, and the authorization codes (one use each,
 * five minutes, bound to the client, the redirect URI and the PKCE challenge). State is in memory: a code
 * never outlives the start that issued it.
 */
export class LocalHostedUi {
  private clients = new Map<string, OAuthClient>();
  private readonly codes = new Map<string, IssuedCode>();

  constructor(private readonly now: () => number = Date.now) {}

  setClients(clients: OAuthClient[]): void {
    this.clients = new Map(clients.map((c) => [c.clientId, c]));
  }

  /**
   * Checks an authorize request. A client or redirect URI that does not match throws `redirect: false` (the
   * error is shown, never sent to an unchecked URI); the other errors go back to the redirect URI.
   */
  authorize(query: URLSearchParams): AuthorizeRequest {
    const client = this.clients.get(query.get('client_id') ?? '');
    if (!client) throw Object.assign(new OAuthError('invalid_client', 'unknown client_id'), { redirect: false });
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!client.callbackUrls.includes(redirectUri)) throw Object.assign(new OAuthError('invalid_request', 'redirect_uri is not a callback URL of the client'), { redirect: false });
    if (query.get('response_type') !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be code');
    const challenge = query.get('code_challenge') ?? '';
    if (query.get('code_challenge_method') !== 'S256' || !CHALLENGE.test(challenge)) {
      throw new OAuthError('invalid_request', 'PKCE is required: code_challenge (S256, base64url) and code_challenge_method=S256');
    }
    const scopes = (query.get('scope') ?? client.scopes.join(' ')).split(/[ +]/).filter(Boolean);
    if (scopes.some((s) => !client.scopes.includes(s))) throw new OAuthError('invalid_scope', `the client allows the scopes ${client.scopes.join(' ')}`);
    const state = query.get('state') ?? undefined;
    const nonce = query.get('nonce') ?? undefined;
    return { clientId: client.clientId, redirectUri, scopes, codeChallenge: challenge, ...(state !== undefined ? { state } : {}), ...(nonce ? { nonce } : {}) };
  }

  /** Issues a code for `user` after the sign-in form; resolves to the URL the browser goes to next. */
  signIn(request: AuthorizeRequest, user: LocalUser): string {
    if (!OEM_ID.test(user.oemId) || user.oemId.startsWith('_')) throw new OAuthError('invalid_request', 'OEM id: 1–64 letters, digits, _ or -, not starting with _');
    this.sweep();
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, { ...request, ...user, expiresAt: this.now() + CODE_LIFETIME_MS });
    const url = new URL(request.redirectUri);
    url.searchParams.set('code', code);
    if (request.state !== undefined) url.searchParams.set('state', request.state);
    return url.toString();
  }

  /** Redeems a code (once: a second try fails, as does one after a failed try). */
  redeem(form: URLSearchParams): IssuedCode {
    if (form.get('grant_type') !== 'authorization_code') throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code');
    const client = this.clients.get(form.get('client_id') ?? '');
    if (!client) throw new OAuthError('invalid_client', 'unknown client_id');
    if (client.hasSecret) throw new OAuthError('invalid_client', 'the local hosted UI serves public clients only');
    const code = form.get('code') ?? '';
    const issued = this.codes.get(code);
    this.codes.delete(code);
    if (!issued || issued.expiresAt <= this.now()) throw new OAuthError('invalid_grant', 'the code is unknown, used or expired');
    if (issued.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'the code was issued to another client');
    if (form.get('redirect_uri') !== issued.redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri differs from the one of the authorize request');
    const verifier = form.get('code_verifier') ?? '';
    if (!VERIFIER.test(verifier) || s256(verifier) !== issued.codeChallenge) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    return issued;
  }

  /** The URL to go to after signing out, when `logout_uri` is a sign-out URL of the client. */
  logout(query: URLSearchParams): string {
    const client = this.clients.get(query.get('client_id') ?? '');
    if (!client) throw new OAuthError('invalid_client', 'unknown client_id');
    const target = query.get('logout_uri') ?? '';
    if (!client.logoutUrls.includes(target)) throw new OAuthError('invalid_request', 'logout_uri is not a sign-out URL of the client');
    return target;
  }

  private sweep(): void {
    const now = this.now();
    for (const [code, issued] of this.codes) if (issued.expiresAt <= now) this.codes.delete(code);
  }
}
