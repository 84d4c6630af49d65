import type { ConsoleConfig } from './lib/oauth';
import { clearSession, getSession } from './session';

/** An error answer of the API: its status and the `{ code, message }` body (API Gateway's own have no code). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let config: ConsoleConfig | undefined;
let onSignedOut: () => void = () => undefined;

export function configureApi(c: ConsoleConfig, signedOut: () => void): void {
  config = c;
  onSignedOut = signedOut;
}

/** Calls the API with the session's ID token; a JSON reply is parsed, an error reply becomes an {@link ApiError}. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const session = getSession();
  if (!config || !session) {
    onSignedOut();
    throw new ApiError(401, 'SignedOut', 'Your session has ended. Sign in again.');
  }
  const headers: Record<string, string> = { authorization: `Bearer ${session.idToken}` };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${config.apiUrl}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'NetworkError', 'The API could not be reached. Check your connection and try again.');
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = text;
  }
  if (response.status === 401) {
    clearSession();
    onSignedOut();
    throw new ApiError(401, 'Unauthorized', 'Your session has ended. Sign in again.');
  }
  if (!response.ok) {
    const b = body as { code?: string; message?: string } | undefined;
    throw new ApiError(response.status, b?.code ?? String(response.status), b?.message ?? `The API answered ${response.status}.`);
  }
  return body as T;
}

export const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
