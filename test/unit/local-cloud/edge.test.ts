import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BufferedRequest } from '../../../infra/local-cloud/aws-protocol/http';
import { serviceOf, startEdge, type EdgeEndpoint } from '../../../infra/local-cloud/edge';
import { ServiceRegistry, startServices } from '../../../infra/local-cloud/registry';
import type { RequestMatcher } from '../../../infra/local-cloud/service';

const request = (headers: Record<string, string>, url = '/', body = ''): BufferedRequest => ({ method: 'POST', url, headers, body: Buffer.from(body) });
const signedFor = (service: string) => ({ authorization: `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x` });

/** Requests a matcher says are its service's, one per way the edge tells services apart. */
function requestsOf(matcher: RequestMatcher): BufferedRequest[] {
  return [
    request(signedFor(matcher.signingName)),
    request({}, `/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2F${matcher.signingName}%2Faws4_request`),
    ...(matcher.targetPrefixes ?? []).map((prefix) => request({ 'x-amz-target': `${prefix}.Operation`, ...signedFor(matcher.signingName) })),
    ...(matcher.queryVersion ? [request({ 'content-type': 'application/x-www-form-urlencoded' }, '/', `Action=Any&Version=${matcher.queryVersion}`)] : []),
    ...(matcher.fallback ? [request({}, '/bucket/key'), { ...request({}, '/bucket/key'), method: 'GET' }] : []),
  ];
}

describe('the registry and the edge', () => {
  let dir: string;
  let registry: ServiceRegistry;
  let edge: EdgeEndpoint;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'registry-'));
    const stateDir = path.join(dir, 'state');
    await mkdir(stateDir);
    registry = new ServiceRegistry();
    await startServices(registry, { dataDir: dir, stateDir, region: 'us-east-1', accountId: '000000000000', log: () => undefined }, { apiPort: 0 });
    edge = await startEdge(0, registry, () => undefined);
  });
  afterAll(async () => {
    await edge?.close();
    await registry?.close(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('has one entry per service, named as fault injection names them', () => {
    const onEdge = registry.services.filter((s) => s.matcher).map((s) => s.name);
    expect(onEdge).toEqual(expect.arrayContaining(['dynamodb', 'iam', 'kinesis', 's3', 'secretsmanager', 'sts']));
    expect(new Set(registry.services.map((s) => s.name)).size).toBe(registry.services.length);
  });

  it('routes every entry’s own requests to it', () => {
    for (const service of registry.services) {
      if (!service.matcher) continue;
      expect(service.handle).toBeDefined();
      for (const r of requestsOf(service.matcher)) expect({ service: service.name, routed: serviceOf(r, registry.services) }).toEqual({ service: service.name, routed: service.name });
    }
  });

  it.each([
    [{ 'x-amz-target': 'Kinesis_20131202.PutRecords' }, '/', 'kinesis'],
    [{ 'x-amz-target': 'DynamoDB_20120810.Query' }, '/', 'dynamodb'],
    [{ 'x-amz-target': 'secretsmanager.GetSecretValue' }, '/', 'secretsmanager'],
    [{ 'x-amz-target': 'DynamoDBStreams_20120810.GetRecords', ...signedFor('dynamodb') }, '/', 'dynamodbstreams'],
    [signedFor('iam'), '/', 'iam'],
    [signedFor('s3'), '/b/k', 's3'],
    [signedFor('sqs'), '/', 'sqs'],
    [{}, '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request', 's3'],
    [{}, '/bucket/key', 's3'],
  ])('%j %s → %s', (headers, url, service) => expect(serviceOf(request(headers, url), registry.services)).toBe(service));

  it('answers a service it does not run with 501 in the JSON protocol’s shape', async () => {
    const response = await fetch(edge.url, { method: 'POST', headers: { ...signedFor('sns'), 'content-type': 'application/x-amz-json-1.0' }, body: '{}' });
    expect(response.status).toBe(501);
    expect(await response.json()).toEqual({ __type: 'NotImplemented', message: 'The local cloud does not emulate the sns API' });
    const streams = await fetch(edge.url, { method: 'POST', headers: { 'x-amz-target': 'DynamoDBStreams_20120810.ListStreams', ...signedFor('dynamodb') }, body: '{}' });
    expect([streams.status, ((await streams.json()) as { message: string }).message]).toEqual([501, 'The local cloud does not emulate the dynamodbstreams API']);
  });

  it('answers a request line and headers over Node\'s 16 KB limit in the shape of the API asked: S3\'s XML, or JSON', async () => {
    const s3 = await fetch(`${edge.url}/bucket/${'k'.repeat(17_000)}`, { headers: { connection: 'close' } });
    expect(s3.status).toBe(400);
    expect(s3.headers.get('content-type')).toBe('application/xml');
    expect(await s3.text()).toContain('<Code>RequestHeaderSectionTooLarge</Code>');
    const kinesis = await fetch(edge.url, {
      method: 'POST',
      headers: { connection: 'close', 'x-amz-target': 'Kinesis_20131202.ListStreams', 'content-type': 'application/x-amz-json-1.1', 'x-big': 'b'.repeat(17_000) },
      body: '{}',
    });
    expect(kinesis.status).toBe(431);
    expect(await kinesis.json()).toEqual({ __type: 'RequestHeaderSectionTooLarge', message: expect.any(String) });
  });

  it('answers a body over its 64 MB limit in the shape of the API asked, and serves the next request', async () => {
    const upload = await fetch(`${edge.url}/bucket/key`, { method: 'PUT', headers: { connection: 'close' }, body: Buffer.alloc(64 * 1024 * 1024 + 1) });
    expect(upload.status).toBe(400);
    expect(await upload.text()).toContain('<Code>EntityTooLarge</Code>');
    const put = await fetch(edge.url, {
      method: 'POST',
      headers: { connection: 'close', 'x-amz-target': 'Kinesis_20131202.PutRecords', 'content-type': 'application/x-amz-json-1.1' },
      body: Buffer.alloc(64 * 1024 * 1024 + 1),
    });
    expect(put.status).toBe(413);
    expect(await put.json()).toEqual({ __type: 'RequestEntityTooLarge', message: expect.any(String) });
    const next = await fetch(edge.url, { method: 'POST', headers: { 'x-amz-target': 'Kinesis_20131202.ListStreams', 'content-type': 'application/x-amz-json-1.1', 'x-amz-date': '20260101T000000Z', ...signedFor('kinesis') }, body: '{}' });
    expect([next.status, await next.text()]).toEqual([200, expect.stringContaining('StreamNames')]);
  });

  it('lets an interceptor answer for a service by its name, until it is removed', async () => {
    const describe = () => fetch(edge.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'Kinesis_20131202.ListStreams', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    edge.intercept('kinesis', async () => ({ status: 503, body: 'injected' }));
    expect(await (await describe()).text()).toBe('injected');
    edge.intercept('kinesis', undefined);
    expect(await (await describe()).text()).not.toBe('injected');
  });
});
