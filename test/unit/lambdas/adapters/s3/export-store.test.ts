import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DELETE_BATCH, S3ExportStore } from '../../../../../lambdas/adapters/s3/export-store';
import { fakeS3, type FakeHandler } from '../../../../helpers/fake-aws-http';
import { MemoryExportStore } from '../../../../helpers/memory-export-store';

const BUCKET = 'export-bucket';

function setup(maxKeys?: number): { memory: MemoryExportStore; http: FakeHandler; store: S3ExportStore } {
  const memory = new MemoryExportStore();
  const http = fakeS3(memory, { bucket: BUCKET, ...(maxKeys ? { maxKeys } : {}) });
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: http as unknown as S3ClientConfig['requestHandler'],
    // The SDK's standard retries of throttling and 5xx, as in production.
    maxAttempts: 3,
  });
  return { memory, http, store: new S3ExportStore(s3, BUCKET, { conflictDelayMs: 1 }) };
}

describe('S3ExportStore', () => {
  it('creates with If-None-Match: * and answers exists on 412', async () => {
    const { store, http, memory } = setup();
    expect(await store.createIfAbsent('a/b.csv', 'one', 'text/csv')).toBe('created');
    expect(await store.createIfAbsent('a/b.csv', 'two', 'text/csv')).toBe('exists');
    expect(memory.text('a/b.csv')).toBe('one');
    expect(http.requests.filter((r) => r.method === 'PUT').every((r) => r.headers['if-none-match'] === '*')).toBe(true);
  });

  it('asks again when a concurrent conditional write is in flight (409), and fails if it stays so', async () => {
    const { store, http } = setup();
    http.failNext(2, 409, 'ConditionalRequestConflict');
    expect(await store.createIfAbsent('k', 'x', 'text/plain')).toBe('created');
    http.failNext(10, 409, 'ConditionalRequestConflict');
    await expect(store.createIfAbsent('k2', 'x', 'text/plain')).rejects.toMatchObject({ $metadata: { httpStatusCode: 409 } });
  });

  it('puts, reads text and bytes, and a byte range with a Range header', async () => {
    const { store, http } = setup();
    await store.put('s/obj', 'héllo world', 'text/plain');
    expect(await store.getText('s/obj')).toBe('héllo world');
    expect(Buffer.from((await store.getBytes('s/obj'))!).toString()).toBe('héllo world');
    expect(Buffer.from((await store.getBytes('s/obj', { start: 7, end: 11 }))!).toString()).toBe('world');
    expect(http.requests.at(-1)!.headers.range).toBe('bytes=7-11');
    expect(await store.getText('missing')).toBeUndefined();
    expect(await store.getBytes('missing', { start: 0, end: 1 })).toBeUndefined();
    expect(await store.exists('s/obj')).toBe(true);
    expect(await store.exists('missing')).toBe(false);
  });

  it('lists every page, with a delimiter\'s common prefixes', async () => {
    const { store, http } = setup(2);
    for (const key of ['_staging/w1/s/1.rows', '_staging/w1/s/2.rows', '_staging/w2/s/1.rows', '_staging/w3/s/1.rows', 'x', '_staging/top']) await store.put(key, key, 'text/plain');
    const all = await store.list('_staging/');
    expect(all.objects.map((o) => o.key)).toEqual(['_staging/top', '_staging/w1/s/1.rows', '_staging/w1/s/2.rows', '_staging/w2/s/1.rows', '_staging/w3/s/1.rows']);
    expect(all.objects[0]!.size).toBe('_staging/top'.length);
    const folders = await store.list('_staging/', '/');
    expect(folders).toEqual({ objects: [{ key: '_staging/top', size: 12 }], prefixes: ['_staging/w1/', '_staging/w2/', '_staging/w3/'] });
    expect(http.requests.filter((r) => r.query['list-type'] === '2').length).toBeGreaterThan(3);
  });

  it('deletes in requests of at most 1000 keys, missing keys being no error', async () => {
    const { store, http, memory } = setup();
    const keys = Array.from({ length: 2500 }, (_, i) => `_staging/w/${String(i).padStart(4, '0')}`);
    for (const key of keys.slice(0, 10)) await store.put(key, 'x', 'text/plain');
    await store.deleteMany(keys);
    expect(memory.keys('_staging/')).toEqual([]);
    expect(http.requests.filter((r) => r.method === 'POST').length).toBe(Math.ceil(2500 / DELETE_BATCH));
  });

  it.each([
    [503, 'SlowDown'],
    [500, 'InternalError'],
  ])('retries a PUT and a GET answered %i %s (the SDK\'s retries), then succeeds', async (status, code) => {
    const { store, memory, http } = setup();
    http.failNext(2, status, code, (method) => method === 'PUT');
    await store.put('k', 'body', 'text/plain');
    expect(memory.text('k')).toBe('body');
    http.failNext(2, status, code, (method) => method === 'GET');
    expect(await store.getText('k')).toBe('body');
  });

  it('throws when S3 keeps failing, leaving nothing written', async () => {
    const { store, http, memory } = setup();
    http.failNext(3, 503, 'SlowDown');
    await expect(store.put('k', 'body', 'text/plain')).rejects.toMatchObject({ $metadata: { httpStatusCode: 503 } });
    expect(memory.objects.has('k')).toBe(false);
  });
});
