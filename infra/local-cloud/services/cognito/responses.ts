import { createHash } from 'node:crypto';
import type { BufferedRequest, LocalResponse } from '../../aws-protocol/http';
import type { LocalIssuer } from '../apigateway/local-issuer';
import { OAuthError, type AuthorizeRequest, type LocalHostedUi } from './models';

/** ID and access tokens last an hour, as the console's app client says. */
const TOKEN_LIFETIME_SECONDS = 3600;

/** Token endpoint answers carry CORS for any origin: the console calls it from the browser, with no cookies. */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, OPTIONS',
  'access-control-allow-headers': 'content-type, authorization',
  'access-control-max-age': '600',
};

const oauthJson = (status: number, body: unknown): LocalResponse => ({
  status,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...CORS },
  body: JSON.stringify(body),
});

const redirect = (location: string): LocalResponse => ({ status: 302, headers: { location, 'cache-control': 'no-store' } });

/**
 * The hosted UI's endpoints as Cognito serves them on a user pool domain: `GET /oauth2/authorize` (here a
 * sign-in page: an OEM id and whether the user is an OEM admin), `POST /login` (the page's form),
 * `POST /oauth2/token` (authorization code with PKCE) and `GET /logout`. Tokens are the local issuer's, with
 * the claims `npm run token` gives, for the client that asked (its id is the `aud`).
 */
export function hostedUiHandler(ui: LocalHostedUi, issuer: () => LocalIssuer, defaultOemId: string) {
  return async (request: BufferedRequest): Promise<LocalResponse> => {
    const url = new URL(request.url, 'http://local');
    const form = () => new URLSearchParams(request.body.toString('utf8'));
    try {
      switch (`${request.method} ${url.pathname}`) {
        case 'GET /oauth2/authorize':
          return authorize(ui, url.searchParams, (params) => signInPage(params, defaultOemId));
        case 'POST /login': {
          const fields = form();
          return authorize(ui, fields, (params) => {
            try {
              return redirect(ui.signIn(params, { oemId: (fields.get('oem_id') ?? '').trim(), admin: fields.get('admin') === 'on' }));
            } catch (error) {
              if (error instanceof OAuthError) return signInPage(params, fields.get('oem_id') ?? defaultOemId, error.message);
              throw error;
            }
          });
        }
        case 'OPTIONS /oauth2/token':
          return { status: 204, headers: CORS };
        case 'POST /oauth2/token': {
          const issued = ui.redeem(form());
          const subject = uuidFrom(`${issued.oemId}/${issued.admin ? 'admin' : 'member'}`);
          const common = { oemId: issued.oemId, admin: issued.admin, subject, expiresInSeconds: TOKEN_LIFETIME_SECONDS };
          const email = `${issued.admin ? 'admin' : 'user'}@${issued.oemId.toLowerCase()}.example`;
          const idToken = await issuer().sign({ ...common, audience: issued.clientId, claims: { email, ...(issued.nonce ? { nonce: issued.nonce } : {}) } });
          const accessToken = await issuer().sign({ ...common, audience: issued.clientId, claims: { token_use: 'access', client_id: issued.clientId, scope: issued.scopes.join(' ') } });
          return oauthJson(200, { id_token: idToken, access_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_LIFETIME_SECONDS });
        }
        case 'GET /logout':
          return redirect(ui.logout(url.searchParams));
        default:
          return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not found\n' };
      }
    } catch (error) {
      if (error instanceof OAuthError) {
        return url.pathname === '/oauth2/token'
          ? oauthJson(400, { error: error.error, error_description: error.message })
          : page(400, 'Sign-in error', `<p role="alert">${escapeHtml(error.error)}: ${escapeHtml(error.message)}</p>`);
      }
      throw error;
    }
  };
}

/** Validates an authorize request; errors go back to the client's redirect URI unless that URI is the problem. */
function authorize(ui: LocalHostedUi, params: URLSearchParams, then: (request: AuthorizeRequest) => LocalResponse): LocalResponse {
  let request: AuthorizeRequest;
  try {
    request = ui.authorize(params);
  } catch (error) {
    if (!(error instanceof OAuthError) || (error as OAuthError & { redirect?: boolean }).redirect === false) throw error;
    const back = new URL(params.get('redirect_uri') ?? '');
    back.searchParams.set('error', error.error);
    back.searchParams.set('error_description', error.message);
    const state = params.get('state');
    if (state !== null) back.searchParams.set('state', state);
    return redirect(back.toString());
  }
  return then(request);
}

function signInPage(request: AuthorizeRequest, oemId: string, problem?: string): LocalResponse {
  const hidden: Array<[string, string | undefined]> = [
    ['client_id', request.clientId], ['redirect_uri', request.redirectUri], ['response_type', 'code'], ['scope', request.scopes.join(' ')],
    ['state', request.state], ['code_challenge', request.codeChallenge], ['code_challenge_method', 'S256'], ['nonce', request.nonce],
  ];
  const body = `<h1>Sign in</h1>
<p>Local sign-in: the token has the claims <code>npm run token</code> gives.</p>
${problem ? `<p role="alert" class="error">${escapeHtml(problem)}</p>` : ''}
<form method="post" action="/login">
${hidden.filter(([, v]) => v !== undefined).map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v!)}">`).join('\n')}
<p><label for="oem_id">OEM id</label><br><input id="oem_id" name="oem_id" type="text" required autocomplete="off" value="${escapeHtml(oemId)}"></p>
<p><input id="admin" name="admin" type="checkbox"> <label for="admin">OEM admin</label></p>
<p><button type="submit">Sign in</button></p>
</form>`;
  return page(200, 'Sign in', body, new URL(request.redirectUri).origin);
}

const STYLE = 'body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}' +
  'input[type=text]{font:inherit;padding:.4rem;width:100%;box-sizing:border-box}button{font:inherit;padding:.5rem 1.5rem}.error{color:#a40000}';

function page(status: number, title: string, body: string, formTarget?: string): LocalResponse {
  // Chromium applies form-action to the redirect that follows the form: the client's origin is allowed too.
  const csp = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'${formTarget ? ` ${formTarget}` : ''}; frame-ancestors 'none'; base-uri 'none'`;
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'x-frame-options': 'DENY', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>\n`,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A stable UUID-shaped subject per OEM and role: signing in twice is the same user, as in a user pool. */
function uuidFrom(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
