import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import S3Object from 's3rver/lib/models/object';
import { keyFileNames } from '../../../../../infra/local-cloud/services/s3/key-names';
import { ObjectStore } from '../../../../../infra/local-cloud/services/s3/object-store';

const BUCKET = 'bucket';

describe('keyFileNames', () => {
  it.each([
    ['oem-a/datapoint/x.csv', ['oem-a%2F', 'datapoint%2F', 'x.csv']],
    ['oem-a/../oem-b/x.csv', ['oem-a%2F', '..%2F', 'oem-b%2F', 'x.csv']],
    ['oem-a/./x', ['oem-a%2F', '.%2F', 'x']],
    ['a//b', ['a%2F', '%2F', 'b']],
    ['a/', ['a%2F', '%']],
    ['..', ['.%2E']],
    ['.', ['%2E']],
    ['a%2Fb', ['a%252%46b']],
    ['Shard-ID:1 ü', ['%53hard-%49%44%3A1%20%C3%BC']],
  ])('%j → %j', (key, names) => {
    expect(keyFileNames(key)).toEqual(names);
  });

  it('never gives a name that a path resolves, and never the same path to two keys (even on case-insensitive disks)', () => {
    const alphabet = ['a', 'A', '.', '/', '%', '2F', ' ', 'é', '..', '_', '~'];
    let seed = 7;
    const next = () => (seed = (seed * 48271) % 2147483647) % alphabet.length;
    const seen = new Map<string, string>();
    const problems: string[] = [];
    for (let i = 0; i < 5000; i++) {
      let key = '';
      for (let n = 1 + (i % 7); n > 0; n--) key += alphabet[next()];
      const names = keyFileNames(key);
      if (names.some((name) => /^\.{0,2}$/.test(name) || name.includes('/'))) problems.push(`${key}: ${names.join(' ')}`);
      const file = names.join('/').toLowerCase();
      if ((seen.get(file) ?? key) !== key) problems.push(`${key} and ${seen.get(file)} share ${file}`);
      seen.set(file, key);
    }
    expect(problems).toEqual([]);
    expect(seen.size).toBeGreaterThan(1000);
  });
});

describe('ObjectStore', () => {
  let root: string;
  let store: ObjectStore;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'object-store-'));
    store = await ObjectStore.open(path.join(root, 's3'), path.join(root, 's3-config'));
    await store.putBucket(BUCKET);
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const put = (key: string, body: string, headers: Record<string, string> = {}) =>
    store.putObject(new S3Object(BUCKET, key, Buffer.from(body), { 'content-length': String(Buffer.byteLength(body)), ...headers }));
  const text = async (key: string) => {
    const object = await store.openObject(BUCKET, key);
    if (!object) return undefined;
    try {
      return (await object.read(0, object.meta.size)).toString();
    } finally {
      await object.close();
    }
  };
  const list = async (options: { prefix?: string; startAfter?: string; maxKeys?: number; delimiter?: string } = {}) => {
    const result = await store.listObjects(BUCKET, options);
    return { keys: result.objects.map((o) => o.key), prefixes: result.commonPrefixes, truncated: result.isTruncated };
  };

  it('keeps every key its own object: dots, double slashes, trailing slashes and percent signs resolve nothing', async () => {
    const keys = ['oem-b/x.csv', 'oem-a/../oem-b/x.csv', 'oem-a/./oem-b/x.csv', 'oem-a//oem-b/x.csv', 'oem-a/', 'oem-a%2F..%2Foem-b%2Fx.csv', '..', '.', '../../../state/iam.json'];
    for (const key of keys) await put(key, `body of ${key}`);
    for (const key of keys) expect(await text(key)).toBe(`body of ${key}`);
    expect(await text('state/iam.json')).toBeUndefined();
    // Nothing was written outside the bucket's folder.
    expect((await readdir(path.join(root, 's3'))).sort()).toEqual(['.tmp', '.uploads', BUCKET]);
    expect(await readdir(root)).toEqual(expect.arrayContaining(['s3', 's3-config']));
    expect((await list()).keys).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  });

  it('keeps content type, stored headers and user metadata, and the MD5 ETag', async () => {
    await put('k', 'hello', { 'content-type': 'text/csv', 'cache-control': 'no-cache', 'x-amz-meta-owner': 'oem-a', 'x-ignored': 'no' });
    const object = (await store.openObject(BUCKET, 'k'))!;
    await object.close();
    expect(object.meta).toMatchObject({
      key: 'k',
      headers: { 'content-type': 'text/csv', 'cache-control': 'no-cache', 'x-amz-meta-owner': 'oem-a' },
      etag: createHash('md5').update('hello').digest('hex'),
      size: 5,
    });
    expect(object.meta.headers).not.toHaveProperty('x-ignored');
    await put('plain', '');
    expect((await store.openObject(BUCKET, 'plain').then(async (o) => (await o!.close(), o!.meta)))).toMatchObject({ headers: { 'content-type': 'binary/octet-stream' }, size: 0 });
  });

  it('leaves the old object when a body ends early or fails, and no temporary file', async () => {
    await put('k', 'old');
    const hangingUp = new PassThrough();
    const writing = store.putObject(new S3Object(BUCKET, 'k', hangingUp, { 'content-length': '100' }));
    hangingUp.write('x'.repeat(50));
    await new Promise((r) => setTimeout(r, 20));
    hangingUp.destroy(new Error('aborted'));
    await expect(writing).rejects.toThrow('aborted');
    expect(await text('k')).toBe('old');
    // A body shorter than its Content-Length is refused too.
    await expect(store.putObject(new S3Object(BUCKET, 'k', Readable.from([Buffer.from('new')]), { 'content-length': '10' }))).rejects.toMatchObject({ code: 'IncompleteBody' });
    await expect(store.putObject(new S3Object(BUCKET, 'fresh', Readable.from([Buffer.from('x')]), { 'content-length': '10' }))).rejects.toMatchObject({ code: 'IncompleteBody' });
    expect(await text('k')).toBe('old');
    expect(await store.existsObject(BUCKET, 'fresh')).toBe(false);
    expect(await readdir(path.join(root, 's3', '.tmp'))).toEqual([]);
  });

  it('refuses keys over 1024 bytes, and key segments too long for a file name', async () => {
    await expect(put('k'.repeat(1025), 'x')).rejects.toMatchObject({ code: 'KeyTooLongError' });
    await expect(put(`a/${'k'.repeat(300)}`, 'x')).rejects.toMatchObject({ code: 'KeyTooLongError' });
    expect(await store.existsObject(BUCKET, `a/${'k'.repeat(300)}`)).toBe(false);
    await put(`${'k'.repeat(200)}/${'k'.repeat(200)}`, 'fine');
  });

  it('lists in UTF-8 byte order, by prefix, after a key, by delimiter and in pages', async () => {
    const keys = ['a', 'a-b', 'a/b', 'a/c/d', 'a0', 'b/z', 'b/\uE000', 'b/\u{1F600}'];
    for (const key of [...keys].reverse()) await put(key, key);
    expect((await list()).keys).toEqual(keys);
    expect((await list({ prefix: 'a/' })).keys).toEqual(['a/b', 'a/c/d']);
    expect((await list({ prefix: 'b/' })).keys).toEqual(['b/z', 'b/\uE000', 'b/\u{1F600}']);
    expect((await list({ startAfter: 'a/b' })).keys).toEqual(['a/c/d', 'a0', 'b/z', 'b/\uE000', 'b/\u{1F600}']);
    expect((await list({ startAfter: 'a' })).keys[0]).toBe('a-b');
    expect(await list({ delimiter: '/' })).toEqual({ keys: ['a', 'a-b', 'a0'], prefixes: ['a/', 'b/'], truncated: false });
    expect(await list({ prefix: 'a/', delimiter: '/' })).toEqual({ keys: ['a/b'], prefixes: ['a/c/'], truncated: false });
    expect(await list({ maxKeys: 3 })).toEqual({ keys: ['a', 'a-b', 'a/b'], prefixes: [], truncated: true });
    expect(await list({ maxKeys: 3, startAfter: 'a/b' })).toEqual({ keys: ['a/c/d', 'a0', 'b/z'], prefixes: [], truncated: true });
  });

  it('removes the folders a delete empties, and keeps the others', async () => {
    await put('a/b/c', '1');
    await put('a/d', '2');
    await store.deleteObject(BUCKET, 'a/b/c');
    await store.deleteObject(BUCKET, 'missing/key');
    expect(await readdir(path.join(root, 's3', BUCKET, 'a%2F'))).toEqual(['d']);
    await store.deleteObject(BUCKET, 'a/d');
    expect(await readdir(path.join(root, 's3', BUCKET))).toEqual([]);
  });

  it('survives puts and deletes racing in the same folders', async () => {
    await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 3 === 2 ? store.deleteObject(BUCKET, `f/${i - 1}`) : put(`f/${i}`, String(i)))));
    const left = (await list({ prefix: 'f/' })).keys;
    for (const key of left) expect(await text(key)).toBe(key.slice(2));
  });

  it('completes multipart uploads from their parts, in order, under the upload\'s key', async () => {
    const id = 'a'.repeat(32);
    await store.initiateUpload(BUCKET, 'big/../file', id, { 'content-type': 'text/plain', 'x-amz-meta-m': '1' });
    expect(await store.uploadOf(id)).toMatchObject({ bucket: BUCKET, key: 'big/../file' });
    const five = Buffer.alloc(5 * 1024 * 1024, 1);
    const one = await store.putPart(BUCKET, id, '1', Readable.from([five]));
    const two = await store.putPart(BUCKET, id, '2', Readable.from([Buffer.from('tail')]));
    await expect(store.putObjectMultipart(BUCKET, id, [{ number: 2, etag: two.md5 }, { number: 1, etag: one.md5 }])).rejects.toMatchObject({ code: 'InvalidPartOrder' });
    await expect(store.putObjectMultipart(BUCKET, id, [{ number: 1, etag: 'nope' }, { number: 2, etag: two.md5 }])).rejects.toMatchObject({ code: 'InvalidPart' });
    const done = await store.putObjectMultipart(BUCKET, id, [{ number: 1, etag: `"${one.md5}"` }, { number: 2, etag: two.md5 }]);
    expect(done.md5).toMatch(/^[0-9a-f]{32}-2$/);
    expect(done.size).toBe(five.length + 4);
    const object = (await store.openObject(BUCKET, 'big/../file'))!;
    expect((await object.read(five.length, object.meta.size)).toString()).toBe('tail');
    await object.close();
    expect(object.meta.headers).toEqual({ 'content-type': 'text/plain', 'x-amz-meta-m': '1' });
    expect(await store.uploadOf(id)).toBeUndefined();
  });

  it('refuses upload ids that are not its own, and small parts but the last', async () => {
    await expect(store.putPart(BUCKET, '../../x', '1', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ code: 'NoSuchUpload' });
    expect(await store.uploadOf('../../etc')).toBeUndefined();
    const id = 'b'.repeat(32);
    await store.initiateUpload(BUCKET, 'k', id, {});
    await expect(store.putPart(BUCKET, id, '0', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ code: 'InvalidArgument' });
    const one = await store.putPart(BUCKET, id, '1', Readable.from([Buffer.from('small')]));
    const two = await store.putPart(BUCKET, id, '2', Readable.from([Buffer.from('x')]));
    await expect(store.putObjectMultipart(BUCKET, id, [{ number: 1, etag: one.md5 }, { number: 2, etag: two.md5 }])).rejects.toMatchObject({ code: 'EntityTooSmall' });
    await store.abortUpload(id);
    expect(await store.uploadOf(id)).toBeUndefined();
  });

  it('copies with or without new metadata, and keeps tags with the object', async () => {
    await put('src', 'body', { 'content-type': 'text/csv' });
    await store.copyObject(BUCKET, 'src', BUCKET, 'copy/../same', null);
    expect(await text('copy/../same')).toBe('body');
    const replaced = await store.copyObject(BUCKET, 'src', BUCKET, 'src', { 'content-type': 'application/json', 'x-amz-meta-a': 'b' });
    expect(replaced).toMatchObject({ 'content-type': 'application/json', 'x-amz-meta-a': 'b', etag: `"${createHash('md5').update('body').digest('hex')}"`, 'content-length': '4' });
    const tags = (await import('s3rver/lib/models/config')).getConfigModel('tagging')!;
    await store.putSubresource(BUCKET, 'src', new tags('<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>'));
    expect((await store.getSubresource(BUCKET, 'src', 'tagging'))?.toXML()).toContain('<Key>a</Key>');
    expect(await text('src')).toBe('body');
    await put('src', 'new body');
    expect(await store.getSubresource(BUCKET, 'src', 'tagging')).toBeNull();
  });

  it('keeps bucket configurations beside the other ones, and drops them with the bucket', async () => {
    const cors = (await import('s3rver/lib/models/config')).getConfigModel('cors')!;
    await store.putSubresource(BUCKET, undefined, new cors('<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>'));
    expect(await readFile(path.join(root, 's3-config', BUCKET, 'cors.xml'), 'utf8')).toContain('AllowedOrigin');
    expect(await store.getBucket('.tmp')).toBeNull();
    expect((await store.listBuckets()).map((b) => b.name)).toEqual([BUCKET]);
    await store.deleteBucket(BUCKET);
    expect(await store.getBucket(BUCKET)).toBeNull();
    expect(await readdir(path.join(root, 's3-config'))).toEqual([]);
  });

  it("moves objects of s3rver's former layout over at start", async () => {
    const old = path.join(root, 'old');
    const bucketDir = path.join(old, 's3', 'legacy');
    await mkdir(path.join(bucketDir, 'oem-a', 'datapoint'), { recursive: true });
    await writeFile(path.join(bucketDir, 'oem-a', 'datapoint', 'x.csv._S3rver_object'), 'a,b\n');
    await writeFile(path.join(bucketDir, 'oem-a', 'datapoint', 'x.csv._S3rver_object.md5'), 'whatever');
    await writeFile(path.join(bucketDir, 'oem-a', 'datapoint', 'x.csv._S3rver_metadata.json'), JSON.stringify({ 'content-type': 'text/csv', 'x-amz-meta-k': 'v' }));
    await writeFile(path.join(bucketDir, 'top._S3rver_object'), 'top');
    await writeFile(path.join(bucketDir, '._S3rver_cors.xml'), '<CORSConfiguration/>');
    const lines: string[] = [];
    const migrated = await ObjectStore.open(path.join(old, 's3'), path.join(old, 's3-config'), (line) => lines.push(line));
    expect(lines).toEqual(['s3: moved 2 object(s) of the former storage layout']);
    const result = await migrated.listObjects('legacy', {});
    expect(result.objects.map((o) => [o.key, o.metadata['content-type']])).toEqual([['oem-a/datapoint/x.csv', 'text/csv'], ['top', 'binary/octet-stream']]);
    expect(result.objects[0]!.metadata['x-amz-meta-k']).toBe('v');
    expect(await readdir(bucketDir)).toEqual(['oem-a%2F', 'top']);
    expect(await readFile(path.join(old, 's3-config', 'legacy', 'cors.xml'), 'utf8')).toBe('<CORSConfiguration/>');
  });
});
