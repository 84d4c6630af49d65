import { decodeAwsChunked } from '../../../infra/local-cloud/s3-gateway';
import { serviceOf } from '../../../infra/local-cloud/edge';
import { compileRoutes, findRoute, toHttpResponse, type HttpRoute } from '../../../infra/local-cloud/http-api';
import { lifecycleRulesFromTemplate } from '../../../infra/local-cloud/local-cloud';
import { parseContext } from '../../../infra/local-cloud/cli-args';

describe('decodeAwsChunked', () => {
  it('joins the chunks of a signed streaming body and drops signatures and trailers', () => {
    const body = Buffer.from(
      '5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=000\r\nx-amz-checksum-crc32:AAAA\r\n\r\n',
    );
    expect(decodeAwsChunked(body).toString()).toBe('hello world');
  });

  it('keeps binary payloads intact, including CRLF inside chunks', () => {
    const payload = Buffer.from([0, 13, 10, 255, 13, 10]);
    const body = Buffer.concat([Buffer.from('6\r\n'), payload, Buffer.from('\r\n0\r\n\r\n')]);
    expect(decodeAwsChunked(body).equals(payload)).toBe(true);
  });

  it('rejects a body that is not chunked', () => {
    expect(() => decodeAwsChunked(Buffer.from('not chunked'))).toThrow(/malformed/);
  });
});

describe('serviceOf', () => {
  const request = (headers: Record<string, string>, url = '/') => ({ method: 'POST', url, headers, body: Buffer.alloc(0) });
  it.each([
    [{ 'x-amz-target': 'Kinesis_20131202.PutRecords' }, '/', 'kinesis'],
    [{ 'x-amz-target': 'DynamoDB_20120810.Query' }, '/', 'dynamodb'],
    [{ 'x-amz-target': 'secretsmanager.GetSecretValue' }, '/', 'secretsmanager'],
    [{ authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x' }, '/', 'iam'],
    [{ authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x' }, '/b/k', 's3'],
    [{}, '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request', 's3'],
    [{}, '/bucket/key', 's3'],
  ])('%j %s → %s', (headers, url, service) => expect(serviceOf(request(headers, url))).toBe(service));
});

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

describe('lifecycleRulesFromTemplate', () => {
  it('maps CloudFormation lifecycle rules to the S3 API shape', () => {
    expect(lifecycleRulesFromTemplate([{ Id: 'r', Status: 'Enabled', ExpirationInDays: 365, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }])).toEqual([
      { ID: 'r', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 365 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
    ]);
  });
});

describe('parseContext', () => {
  it('keeps values as strings, as the CDK CLI passes them', () => {
    expect(parseContext(['exportBatchingWindowSeconds=5', 'a=b=c'])).toEqual({ exportBatchingWindowSeconds: '5', a: 'b=c' });
  });
  it('rejects a pair without a key', () => {
    expect(() => parseContext(['=5'])).toThrow(/key=value/);
    expect(() => parseContext(['novalue'])).toThrow(/key=value/);
  });
});
