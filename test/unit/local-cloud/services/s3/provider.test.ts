import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand,
  DeleteObjectsCommand, GetBucketAclCommand, GetObjectAclCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEdge, type EdgeEndpoint } from '../../../../../infra/local-cloud/edge';
import { ServiceRegistry } from '../../../../../infra/local-cloud/registry';
import { LocalIam } from '../../../../../infra/local-cloud/services/iam/models';
import { decodeAwsChunked } from '../../../../../infra/local-cloud/services/s3/provider';
import { startS3, type S3Service } from '../../../../../infra/local-cloud/services/s3/service';

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

describe('S3 gateway over the object store', () => {
  const BUCKET = 'bucket';
  let dir: string;
  let iam: LocalIam;
  let s3: S3Service;
  let edge: EdgeEndpoint;
  let client: S3Client;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 's3-gateway-'));
    iam = new LocalIam(path.join(dir, 'iam.json'), '000000000000');
    s3 = await startS3({ dataDir: dir, stateDir: dir, region: 'us-east-1', accountId: '000000000000', log: () => undefined }, iam);
    edge = await startEdge(0, new ServiceRegistry([s3]), () => undefined);
    client = new S3Client({
      region: 'us-east-1', endpoint: edge.url, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  afterAll(async () => {
    client?.destroy();
    await edge?.close();
    await s3?.close?.();
    await iam?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (Key: string, Body: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
    client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ...extra }));
  const text = async (Key: string, extra: Partial<ConstructorParameters<typeof GetObjectCommand>[0]> = {}) =>
    (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...extra }))).Body!.transformToString();
  const outcome = (promise: Promise<unknown>) =>
    promise.then(() => 'ok', (e: { $metadata?: { httpStatusCode?: number }; name: string }) => `${e.$metadata?.httpStatusCode} ${e.name}`);

  /** A raw request, with the path exactly as given (no client normalizes it). */
  function raw(base: string, method: string, rawPath: string, body = '', headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
    const { port } = new URL(base);
    return new Promise((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers: { 'content-length': Buffer.byteLength(body), ...headers } }, (response) => {
        let data = '';
        response.on('data', (c: Buffer) => (data += c.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: data, headers: response.headers }));
      });
      request.on('error', reject);
      request.end(body);
    });
  }

  it('treats keys as literal strings: `..`, `.`, `//`, a trailing `/` and `%2F` never reach another object', async () => {
    await put('oem-b/datapoint/x.csv', 'other oem');
    await put('_errors/e.json', 'errors');
    for (const key of ['oem-a/../oem-b/datapoint/x.csv', 'oem-a/%2E%2E/oem-b/datapoint/x.csv', 'oem-a/..%2Foem-b%2Fdatapoint%2Fx.csv', 'oem-a/../_errors/e.json', 'oem-a/./../oem-b/datapoint/x.csv']) {
      expect((await raw(edge.url, 'GET', `/${BUCKET}/${key}`)).status).toBe(404);
      expect((await raw(s3.emulatorUrl, 'GET', `/${BUCKET}/${key}`)).status).toBe(404);
      expect((await raw(edge.url, 'HEAD', `/${BUCKET}/${key}`)).status).toBe(404);
    }
    expect(await outcome(text('oem-a/../oem-b/datapoint/x.csv'))).toBe('404 NoSuchKey');

    // Writing those keys writes them, and nothing else.
    await put('oem-a/../oem-b/datapoint/x.csv', 'dot-dot');
    await put('oem-a/./x.csv', 'dot');
    await put('oem-a//x.csv', 'double slash');
    await put('oem-a/x.csv/', 'trailing slash');
    expect((await raw(edge.url, 'PUT', `/${BUCKET}/oem-a/..%2F..%2F..%2Fstate%2Fiam.json`, 'escape')).status).toBe(200);
    expect((await raw(s3.emulatorUrl, 'PUT', `/${BUCKET}/oem-a/../../../x`, 'escape')).status).toBe(200);
    expect(await text('oem-b/datapoint/x.csv')).toBe('other oem');
    expect(await text('oem-a/../oem-b/datapoint/x.csv')).toBe('dot-dot');
    expect(await text('oem-a/./x.csv')).toBe('dot');
    expect(await text('oem-a//x.csv')).toBe('double slash');
    expect(await text('oem-a/x.csv/')).toBe('trailing slash');
    expect(await text('oem-a/../../../state/iam.json')).toBe('escape');
    expect(await outcome(text('oem-a/x.csv'))).toBe('404 NoSuchKey');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'oem-a/' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual([
      'oem-a/../../../state/iam.json', 'oem-a/../../../x', 'oem-a/../oem-b/datapoint/x.csv', 'oem-a/./x.csv', 'oem-a//x.csv', 'oem-a/x.csv/',
    ]);
  });

  it('refuses a path that is not valid percent-encoding', async () => {
    const answer = await raw(edge.url, 'GET', `/${BUCKET}/%ZZ`);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<Code>InvalidURI</Code>');
  });

  /** Sends a PUT announcing `length` bytes, sends half of them, and hangs up. */
  async function abortedPut(base: string, key: string, length: number): Promise<void> {
    const { port } = new URL(base);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`PUT /${BUCKET}/${key} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Length: ${length}\r\n\r\n`);
    socket.write('n'.repeat(length / 2));
    await new Promise((resolve) => setTimeout(resolve, 150));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 150));
  }

  it.each([['the edge', () => edge.url], ['s3rver behind it', () => s3.emulatorUrl]])(
    'keeps the old object, or none, when a writer hangs up mid-body (through %s)',
    async (_, base) => {
      await put('abort/existing.csv', 'old,row\n');
      await abortedPut(base(), 'abort/existing.csv', 200_000);
      await abortedPut(base(), 'abort/new.csv', 200_000);
      expect(await text('abort/existing.csv')).toBe('old,row\n');
      expect((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'abort/existing.csv' }))).ContentLength).toBe(8);
      expect(await outcome(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'abort/new.csv' })))).toBe('404 NotFound');
    },
  );

  it('keeps content type and user metadata and gives them back on GET and HEAD, with an ACL s3cmd can read', async () => {
    await put('meta/file.csv', 'a,b\n', { ContentType: 'text/csv; charset=utf-8', CacheControl: 'no-cache', ContentDisposition: 'attachment', Metadata: { 'export-window': '2026-01-01T00:00Z', owner: 'oem-a' } });
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'meta/file.csv' }));
    expect(head).toMatchObject({
      ContentType: 'text/csv; charset=utf-8', CacheControl: 'no-cache', ContentDisposition: 'attachment', ContentLength: 4,
      Metadata: { 'export-window': '2026-01-01T00:00Z', owner: 'oem-a' }, ServerSideEncryption: 'AES256',
    });
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(head.LastModified).toBeInstanceOf(Date);
    const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'meta/file.csv', ResponseContentType: 'text/plain' }));
    expect(got).toMatchObject({ ContentType: 'text/plain', Metadata: { owner: 'oem-a' }, AcceptRanges: 'bytes' });
    await got.Body!.transformToString();

    const acl = await client.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'meta/file.csv' }));
    expect(acl.Grants).toEqual([{ Grantee: { Type: 'CanonicalUser', ID: acl.Owner!.ID, DisplayName: 'local' }, Permission: 'FULL_CONTROL' }]);
    expect((await client.send(new GetBucketAclCommand({ Bucket: BUCKET }))).Grants?.[0]?.Permission).toBe('FULL_CONTROL');
    expect(await outcome(client.send(new GetObjectAclCommand({ Bucket: BUCKET, Key: 'meta/missing' })))).toBe('404 NoSuchKey');
  });

  it('answers ranged GETs as S3 does (one range, suffix ranges, 416 past the end)', async () => {
    await put('range.txt', '0123456789');
    const ranged = async (Range: string) => {
      const answer = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'range.txt', Range }));
      return [answer.$metadata.httpStatusCode, answer.ContentRange, answer.ContentLength, await answer.Body!.transformToString()];
    };
    expect(await ranged('bytes=2-5')).toEqual([206, 'bytes 2-5/10', 4, '2345']);
    expect(await ranged('bytes=0-0')).toEqual([206, 'bytes 0-0/10', 1, '0']);
    expect(await ranged('bytes=7-')).toEqual([206, 'bytes 7-9/10', 3, '789']);
    expect(await ranged('bytes=-3')).toEqual([206, 'bytes 7-9/10', 3, '789']);
    expect(await ranged('bytes=8-100')).toEqual([206, 'bytes 8-9/10', 2, '89']);
    expect(await ranged('bytes=0-1,4-5')).toEqual([200, undefined, 10, '0123456789']);
    expect(await outcome(ranged('bytes=10-'))).toBe('416 InvalidRange');
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'range.txt', Range: 'bytes=-4' }));
    expect([head.$metadata.httpStatusCode, head.ContentRange, head.ContentLength]).toEqual([206, 'bytes 6-9/10', 4]);
  });

  it('answers conditional GETs, and checks Content-MD5', async () => {
    const { ETag } = await put('cond.txt', 'v1');
    expect(await outcome(text('cond.txt', { IfNoneMatch: ETag }))).toMatch(/^304 /);
    expect(await outcome(text('cond.txt', { IfMatch: '"0000"' }))).toBe('412 PreconditionFailed');
    expect(await text('cond.txt', { IfMatch: ETag })).toBe('v1');
    expect(await outcome(put('cond.txt', 'v2', { ContentMD5: Buffer.alloc(16).toString('base64') }))).toBe('400 BadDigest');
    expect(await text('cond.txt')).toBe('v1');
    expect(await outcome(put('cond.txt', 'v2', { IfNoneMatch: '*' }))).toBe('412 PreconditionFailed');
  });

  it('deletes many objects in one request (DeleteObjects), keys read as text', async () => {
    const keys = ['many/0123', 'many/1e3', 'many/a&b<c>', 'many/../x', 'many/x'];
    for (const key of keys) await put(key, key);
    const result = await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [...keys, 'many/missing'].map((Key) => ({ Key })) } }));
    expect(result.Deleted?.map((d) => d.Key)).toEqual([...keys, 'many/missing']);
    expect(result.Errors ?? []).toEqual([]);
    expect((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'many/' }))).KeyCount).toBe(0);
    await put('many/q', 'q');
    const quiet = await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'many/q' }], Quiet: true } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    expect(await outcome(text('many/q'))).toBe('404 NoSuchKey');
    const malformed = await raw(edge.url, 'POST', `/${BUCKET}?delete`, '<Delete><!-- x --><Object><Key>k</Key></Object></Delete>');
    expect([malformed.status, /<Code>(\w+)/.exec(malformed.body)?.[1]]).toEqual([400, 'MalformedXML']);
  });

  it('copies from a source key however it is encoded', async () => {
    await put('copy/a b/../src.csv', 'source');
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/dst.csv', CopySource: `${BUCKET}/${encodeURIComponent('copy/a b/../src.csv')}` }));
    await client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/dst2.csv', CopySource: `${BUCKET}/copy/a%20b/../src.csv` }));
    expect(await text('copy/dst.csv')).toBe('source');
    expect(await text('copy/dst2.csv')).toBe('source');
    expect(await outcome(client.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/x', CopySource: `${BUCKET}/copy/src.csv` })))).toBe('404 NoSuchKey');
  });

  it('answers a missing key with 403 to an issued key that may not list the bucket, as S3 does, and 404 to one that may', async () => {
    await put('oem-a/here.csv', 'here');
    const keyFor = (user: string, list: Record<string, unknown>) => {
      iam.createUser(user, '/');
      iam.putUserPolicy(user, 'read', JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/oem-a/*` }, { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}`, ...list }],
      }));
      const { accessKeyId, secretAccessKey } = iam.createAccessKey(user);
      return new S3Client({ region: 'us-east-1', endpoint: edge.url, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    };
    const prefixOnly = keyFor('prefix-only', { Condition: { StringLike: { 's3:prefix': ['oem-a/', 'oem-a/*'] } } });
    const lister = keyFor('lister', {});
    try {
      expect(await (await prefixOnly.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'oem-a/here.csv' }))).Body!.transformToString()).toBe('here');
      expect(await outcome(prefixOnly.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'oem-a/missing.csv' })))).toBe('403 AccessDenied');
      expect(await outcome(prefixOnly.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'oem-a/../oem-b/never-written.csv' })))).toMatch(/^403 /);
      expect(await outcome(lister.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'oem-a/missing.csv' })))).toBe('404 NoSuchKey');
      expect(await outcome(text('oem-a/missing.csv'))).toBe('404 NoSuchKey');
    } finally {
      prefixOnly.destroy();
      lister.destroy();
    }
  });

  it('binds a multipart upload to its key, and aborts it', async () => {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/own', ContentType: 'text/csv' }));
    const part = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp/own', UploadId, PartNumber: 1, Body: 'only part' }));
    expect(await outcome(client.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp/other', UploadId, PartNumber: 2, Body: 'x' })))).toBe('404 NoSuchUpload');
    const complete = (Key: string) => client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));
    expect(await outcome(complete('mp/other'))).toBe('404 NoSuchUpload');
    expect(await outcome(complete('mp/own'))).toBe('ok');
    expect(await text('mp/own')).toBe('only part');
    expect((await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mp/own' }))).ContentType).toBe('text/csv');

    const second = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/aborted' }));
    await client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'mp/aborted', UploadId: second.UploadId }));
    expect(await outcome(client.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'mp/aborted', UploadId: second.UploadId, PartNumber: 1, Body: 'x' })))).toBe('404 NoSuchUpload');
  });
});
