import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { compileRoutes, findRoute, LocalHttpApi, toHttpResponse, type HttpRoute } from '../../../../../infra/local-cloud/services/apigateway/http-api';
import { LocalIssuer } from '../../../../../infra/local-cloud/services/apigateway/local-issuer';

describe('HTTP API route selection', () => {
  const invoke = async () => ({ ok: true as const, payload: null, requestId: 'r' });
  const routes = compileRoutes<HttpRoute>(['GET /health', 'GET /items/{id}', 'ANY /items/{id}', 'GET /items/special', 'GET /files/{proxy+}', '$default'].map((routeKey) => ({ routeKey, invoke })));
  const pick = (method: string, path: string) => {
    const found = findRoute(routes, method, path.split('/').filter(Boolean));
    return found && { key: found.route.routeKey, params: found.params };
  };

  it('prefers literal segments, then a method over ANY, then greedy, then $default', () => {
    expect(pick('GET', '/items/special')).toEqual({ key: 'GET /items/special', params: {} });
    expect(pick('GET', '/items/7')).toEqual({ key: 'GET /items/{id}', params: { id: '7' } });
    expect(pick('PUT', '/items/7')).toEqual({ key: 'ANY /items/{id}', params: { id: '7' } });
    expect(pick('GET', '/files/a/b/c.csv')).toEqual({ key: 'GET /files/{proxy+}', params: { proxy: 'a/b/c.csv' } });
    expect(pick('GET', '/health/extra')?.key).toBe('$default');
  });

  it('finds nothing without a matching route or $default', () => {
    const strict = compileRoutes<HttpRoute>([{ routeKey: 'GET /health', invoke }]);
    expect(findRoute(strict, 'GET', ['nope'])).toBeUndefined();
    expect(findRoute(strict, 'POST', ['health'])).toBeUndefined();
  });
});

describe('toHttpResponse (payload format 2.0)', () => {
  it('passes a structured result through', () => {
    const response = toHttpResponse({ statusCode: 201, headers: { 'X-A': 'b' }, body: '{"x":1}', cookies: ['c=1'] }, 'id');
    expect(response).toMatchObject({ status: 201, body: Buffer.from('{"x":1}') });
    expect(response.headers).toMatchObject({ 'x-a': 'b', 'set-cookie': ['c=1'], 'content-type': 'application/json' });
  });

  it('infers 200 and JSON for a plain result, and decodes base64 bodies', () => {
    expect(toHttpResponse({ hello: 'world' }, 'id')).toMatchObject({ status: 200, body: '{"hello":"world"}' });
    expect(toHttpResponse({ statusCode: 200, body: Buffer.from('hi').toString('base64'), isBase64Encoded: true }, 'id').body).toEqual(Buffer.from('hi'));
  });

  it('refuses a response over the 6 MB Lambda payload limit', () => {
    expect(toHttpResponse({ statusCode: 200, body: 'x'.repeat(6 * 1024 * 1024 + 1) }, 'id').status).toBe(500);
  });
});

describe('the local HTTP API answers every error it makes itself with a JSON message', () => {
  const ISSUER = 'https://issuer.example/pool';
  const authorizer = { issuer: ISSUER, audience: ['client'], identitySource: '$request.header.Authorization' };
  const ok = { ok: true as const, payload: { statusCode: 200, body: '{"ok":true}' }, requestId: 'r' };
  let dir: string;
  let issuer: LocalIssuer;
  let api: LocalHttpApi;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'http-api-'));
    issuer = await LocalIssuer.open(path.join(dir, 'issuer.json'), ISSUER, ['client']);
    api = new LocalHttpApi(() => undefined);
    url = `http://127.0.0.1:${await api.start(0)}`;
    api.configure({
      apiId: 'api',
      stage: '$default',
      accountId: '000000000000',
      publicJwk: issuer.file.publicJwk,
      integrationTimeoutMs: 300,
      routes: [
        { routeKey: 'ANY /open', invoke: async () => ok },
        { routeKey: 'GET /private', authorizer, invoke: async () => ok },
        { routeKey: 'GET /scoped', authorizer, authorizationScopes: ['admin'], invoke: async () => ok },
        { routeKey: 'GET /fails', invoke: async () => ({ ok: false as const, error: { errorType: 'Error', errorMessage: 'boom', trace: [] }, requestId: 'r' }) },
        { routeKey: 'GET /slow', invoke: () => new Promise((resolve) => setTimeout(() => resolve(ok), 2_000).unref()) },
      ],
    });
  });
  afterAll(async () => {
    await api?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** One request on its own connection: a refused request must not break the next. */
  async function send(path: string, init: RequestInit = {}): Promise<{ status: number; type: string | null; body: unknown }> {
    const response = await fetch(`${url}${path}`, { ...init, headers: { connection: 'close', ...(init.headers as Record<string, string>) } });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type'), body: text === '' ? '' : JSON.parse(text) };
  }

  /** Writes `raw` on a socket and returns what comes back before the server closes it. */
  function rawExchange(raw: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(new URL(url).port), '127.0.0.1', () => socket.end(raw));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.on('error', reject);
    });
  }

  const json = (status: number, message: string) => ({ status, type: 'application/json', body: { message } });

  it('431 for a request line and headers over API Gateway\'s 10,240 bytes, also past Node\'s own 16 KB parser limit', async () => {
    expect((await send('/open?q=short')).status).toBe(200);
    expect(await send(`/open?q=${'a'.repeat(11_000)}`)).toEqual(json(431, 'Request Header Fields Too Large'));
    expect(await send(`/open?q=${'a'.repeat(17_000)}`)).toEqual(json(431, 'Request Header Fields Too Large'));
    expect(await send('/open', { headers: { 'x-big': 'b'.repeat(11_000) } })).toEqual(json(431, 'Request Header Fields Too Large'));
    expect((await send('/open')).status).toBe(200);
  });

  it('400 for a request Node cannot parse', async () => {
    const answer = await rawExchange('NOT A REQUEST\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.slice(answer.indexOf('\r\n\r\n') + 4)).toBe('{"message":"Bad Request"}');
  });

  it('413 for a body over 10 MB, and the next request works', async () => {
    expect(await send('/open', { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024 + 1) })).toEqual(json(413, 'Request Entity Too Large'));
    expect(await send('/open', { method: 'POST', body: Buffer.alloc(60 * 1024 * 1024) })).toEqual(json(413, 'Request Entity Too Large'));
    expect((await send('/open', { method: 'POST', body: 'small' })).status).toBe(200);
  });

  it('404 without a route, 401 and 403 from the authorizer, 500 on a function error, 503 on a timeout', async () => {
    expect(await send('/nowhere')).toEqual(json(404, 'Not Found'));
    expect(await send('/private')).toEqual(json(401, 'Unauthorized'));
    expect(await send('/private', { headers: { authorization: 'Bearer not-a-jwt' } })).toEqual(json(401, 'Unauthorized'));
    const token = await issuer.sign({ oemId: 'oem-a', audience: 'client' });
    expect((await send('/private', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect(await send('/scoped', { headers: { authorization: `Bearer ${token}` } })).toEqual(json(403, 'Forbidden'));
    expect(await send('/fails')).toEqual(json(500, 'Internal Server Error'));
    expect(await send('/slow')).toEqual(json(503, 'Service Unavailable'));
  });
});
