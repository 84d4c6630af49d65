import { compileRoutes, findRoute, toHttpResponse, type HttpRoute } from '../../../../../infra/local-cloud/services/apigateway/http-api';

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
