import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEdge } from '../../../infra/local-cloud/edge';
import type { BufferedRequest } from '../../../infra/local-cloud/http-util';
import { LocalIam } from '../../../infra/local-cloud/iam';
import { S3Authorizer, s3Authorizations } from '../../../infra/local-cloud/s3-auth';
import { parseAuth, uriEncode, v4SigningKey, verifyChunkSignatures, verifySignature } from '../../../infra/local-cloud/sigv4';
import { Sha256 } from './iam-test-helpers';

const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const HOST = '127.0.0.1:4566';

interface SignInput {
  method?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  unsignedPayload?: boolean;
}

function signer(credentials = { accessKeyId: AKID, secretAccessKey: SECRET }) {
  return new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
}

/** What an SDK sends: the request signed by @smithy/signature-v4, as the edge would buffer it. */
async function signed(input: SignInput, credentials?: { accessKeyId: string; secretAccessKey: string }): Promise<BufferedRequest> {
  const body = input.body ?? '';
  const request = {
    method: input.method ?? 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: input.path,
    query: input.query ?? {},
    headers: {
      host: HOST,
      'x-amz-content-sha256': input.unsignedPayload ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update(body).digest('hex'),
      ...input.headers,
    },
    body,
  };
  const out = await signer(credentials).sign(request);
  return buffered(out.method, out.path, out.query as Record<string, string>, out.headers, body);
}

async function presigned(input: SignInput, expiresIn = 900, signingDate?: Date): Promise<BufferedRequest> {
  const request = {
    method: input.method ?? 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 4566, path: input.path,
    query: input.query ?? {}, headers: { host: HOST },
  };
  const out = await signer().presign(request, { expiresIn, ...(signingDate ? { signingDate } : {}) });
  return buffered(out.method, out.path, out.query as Record<string, string>, { host: HOST }, '');
}

function buffered(method: string, pathname: string, query: Record<string, string>, headers: Record<string, string>, body: string): BufferedRequest {
  const qs = Object.entries(query).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, url: qs ? `${pathname}?${qs}` : pathname, headers: lower, body: Buffer.from(body) };
}

describe('SigV4 verification', () => {
  it('verifies requests signed by @smithy/signature-v4 (empty, signed and unsigned payloads, odd keys, query)', async () => {
    const cases: SignInput[] = [
      { path: '/bucket', query: { 'list-type': '2', prefix: 'oem-a/', delimiter: '/' } },
      { path: `/bucket/${['oem-a', 'a file+(1)*.csv'].map(uriEncode).join('/')}` },
      { method: 'PUT', path: '/bucket/oem-a/x.csv', body: 'a,b\n1,2\n', headers: { 'content-type': 'text/csv' } },
      { method: 'PUT', path: '/bucket/oem-a/y.csv', body: 'unsigned', unsignedPayload: true },
      { path: '/' },
    ];
    for (const input of cases) {
      const request = await signed(input);
      const parsed = parseAuth(request)!;
      expect(parsed).toMatchObject({ kind: 'header-v4', accessKeyId: AKID, scope: { region: 'us-east-1', service: 's3' } });
      expect(verifySignature(request, parsed, SECRET, { s3: true })).toMatchObject({ ok: true });
    }
  });

  it('refuses a wrong secret, a tampered path, query, header or body', async () => {
    const request = await signed({ method: 'PUT', path: '/bucket/oem-a/x.csv', body: 'payload', headers: { 'x-amz-meta-a': '1' } });
    const check = (r: BufferedRequest, secret = SECRET) => verifySignature(r, parseAuth(r)!, secret, { s3: true });
    expect(check(request)).toMatchObject({ ok: true });
    expect(check(request, 'another-secret')).toMatchObject({ ok: false, status: 403, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, url: '/bucket/oem-b/x.csv' })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, url: `${request.url}?acl` })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, method: 'DELETE' })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, headers: { ...request.headers, 'x-amz-meta-a': '2' } })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, body: Buffer.from('other') })).toMatchObject({ ok: false, status: 400, code: 'XAmzContentSHA256Mismatch' });
  });

  it('refuses a request signed too long ago', async () => {
    const request = await signed({ path: '/bucket/k' });
    const parsed = parseAuth(request)!;
    expect(verifySignature(request, parsed, SECRET, { s3: true, nowMs: Date.now() + 16 * 60_000 })).toMatchObject({ ok: false, code: 'RequestTimeTooSkewed' });
  });

  it('verifies a presigned URL until it expires, and refuses a tampered one', async () => {
    const request = await presigned({ path: '/bucket/oem-a/x.csv' }, 60);
    const parsed = parseAuth(request)!;
    expect(parsed).toMatchObject({ kind: 'query-v4', accessKeyId: AKID, expiresSeconds: 60 });
    expect(verifySignature(request, parsed, SECRET, { s3: true })).toMatchObject({ ok: true });
    expect(verifySignature(request, parsed, SECRET, { s3: true, nowMs: Date.now() + 61_000 })).toMatchObject({ ok: false, code: 'AccessDenied', message: 'Request has expired' });
    const tampered = { ...request, url: request.url.replace('oem-a', 'oem-b') };
    expect(verifySignature(tampered, parseAuth(tampered)!, SECRET, { s3: true })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  // The examples of the S3 documentation, "Authenticating Requests (AWS Signature Version 4)".
  const exampleTime = Date.UTC(2013, 4, 24, 0, 0, 30);

  it('reproduces the documented GET object example', () => {
    const request: BufferedRequest = {
      method: 'GET',
      url: '/test.txt',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-amz-date': '20130524T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
      },
      body: Buffer.alloc(0),
    };
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: true, nowMs: exampleTime })).toMatchObject({ ok: true });
  });

  it('reproduces the documented presigned URL example', () => {
    const request: BufferedRequest = {
      method: 'GET',
      url: `/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${AKID}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404`,
      headers: { host: 'examplebucket.s3.amazonaws.com' },
      body: Buffer.alloc(0),
    };
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: true, nowMs: exampleTime })).toMatchObject({ ok: true });
  });

  it('reproduces the documented chunked upload example, and refuses a tampered chunk', () => {
    const chunk = (data: Buffer, signature: string) => Buffer.concat([Buffer.from(`${data.length.toString(16)};chunk-signature=${signature}\r\n`), data, Buffer.from('\r\n')]);
    const body = Buffer.concat([
      chunk(Buffer.alloc(65536, 'a'), 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648'),
      chunk(Buffer.alloc(1024, 'a'), '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497'),
      chunk(Buffer.alloc(0), 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'),
    ]);
    const request: BufferedRequest = {
      method: 'PUT',
      url: '/examplebucket/chunkObject.txt',
      headers: {
        host: 's3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'content-length': '66824',
        authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`,
      },
      body,
    };
    expect(body.length).toBe(66824);
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: true, nowMs: exampleTime })).toMatchObject({ ok: true });
    const tampered = Buffer.from(body);
    tampered[100] = 'b'.charCodeAt(0);
    expect(verifySignature({ ...request, body: tampered }, parseAuth(request)!, SECRET, { s3: true, nowMs: exampleTime })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    const key = v4SigningKey(SECRET, '20130524', 'us-east-1', 's3');
    expect(verifyChunkSignatures(body, '0'.repeat(64), key, '20130524T000000Z', '20130524/us-east-1/s3/aws4_request')).toMatchObject({ ok: false });
  });

  it('verifies S3 Signature Version 2 (the documented example, path-style) and refuses a wrong one', () => {
    const date = 'Tue, 27 Mar 2007 19:36:42 +0000';
    const stringToSign = `GET\n\n\n${date}\n/johnsmith/photos/puppy.jpg`;
    const signature = createHmac('sha1', SECRET).update(stringToSign).digest('base64');
    expect(signature).toBe('bWq2s1WEIj+Ydj0vQ697zp+IXMU=');
    const request: BufferedRequest = { method: 'GET', url: '/johnsmith/photos/puppy.jpg', headers: { host: HOST, date, authorization: `AWS ${AKID}:${signature}` }, body: Buffer.alloc(0) };
    const at = Date.parse(date);
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: true, nowMs: at })).toMatchObject({ ok: true });
    expect(verifySignature({ ...request, url: '/johnsmith/photos/kitten.jpg' }, parseAuth(request)!, SECRET, { s3: true, nowMs: at })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: false, nowMs: at })).toMatchObject({ ok: false, code: 'InvalidArgument' });
  });
});

describe('S3 request → IAM action', () => {
  const req = (method: string, url: string, headers: Record<string, string> = {}, body = ''): BufferedRequest => ({ method, url, headers: { host: HOST, ...headers }, body: Buffer.from(body) });
  const actions = (r: BufferedRequest) => s3Authorizations(r).map((a) => [a.action, a.resource]);

  it.each([
    ['GET', '/', 's3:ListAllMyBuckets', 'arn:aws:s3:::*'],
    ['GET', '/b?list-type=2&prefix=oem-a%2F', 's3:ListBucket', 'arn:aws:s3:::b'],
    ['GET', '/b', 's3:ListBucket', 'arn:aws:s3:::b'],
    ['HEAD', '/b', 's3:ListBucket', 'arn:aws:s3:::b'],
    ['GET', '/b?location', 's3:GetBucketLocation', 'arn:aws:s3:::b'],
    ['GET', '/b?versions', 's3:ListBucketVersions', 'arn:aws:s3:::b'],
    ['GET', '/b?uploads', 's3:ListBucketMultipartUploads', 'arn:aws:s3:::b'],
    ['PUT', '/b?policy', 's3:PutBucketPolicy', 'arn:aws:s3:::b'],
    ['DELETE', '/b?lifecycle', 's3:PutLifecycleConfiguration', 'arn:aws:s3:::b'],
    ['PUT', '/b', 's3:CreateBucket', 'arn:aws:s3:::b'],
    ['GET', '/b/oem-a/x%20y.csv?x-id=GetObject', 's3:GetObject', 'arn:aws:s3:::b/oem-a/x y.csv'],
    ['HEAD', '/b/oem-a/x.csv', 's3:GetObject', 'arn:aws:s3:::b/oem-a/x.csv'],
    ['GET', '/b/k?versionId=3', 's3:GetObjectVersion', 'arn:aws:s3:::b/k'],
    ['GET', '/b/k?acl', 's3:GetObjectAcl', 'arn:aws:s3:::b/k'],
    ['PUT', '/b/k', 's3:PutObject', 'arn:aws:s3:::b/k'],
    ['PUT', '/b/k?partNumber=1&uploadId=u', 's3:PutObject', 'arn:aws:s3:::b/k'],
    ['POST', '/b/k?uploads', 's3:PutObject', 'arn:aws:s3:::b/k'],
    ['DELETE', '/b/k', 's3:DeleteObject', 'arn:aws:s3:::b/k'],
    ['DELETE', '/b/k?uploadId=u', 's3:AbortMultipartUpload', 'arn:aws:s3:::b/k'],
    ['PUT', '/b/k?tagging', 's3:PutObjectTagging', 'arn:aws:s3:::b/k'],
  ])('%s %s → %s on %s', (method, url, action, resource) => {
    expect(actions(req(method, url))).toEqual([[action, resource]]);
  });

  it('gives ListBucket its s3:prefix (absent = ""), delimiter and max-keys', () => {
    expect(s3Authorizations(req('GET', '/b?list-type=2&prefix=oem-a%2Fx&delimiter=%2F&max-keys=5'))[0]!.context).toMatchObject({ 's3:prefix': 'oem-a/x', 's3:delimiter': '/', 's3:max-keys': '5' });
    expect(s3Authorizations(req('GET', '/b?list-type=2'))[0]!.context).toMatchObject({ 's3:prefix': '' });
  });

  it('reads virtual-hosted requests, copies (source too) and multi-object deletes (every key)', () => {
    expect(actions(req('GET', '/oem-a/x.csv', { host: 'b.s3.localhost:4566' }))).toEqual([['s3:GetObject', 'arn:aws:s3:::b/oem-a/x.csv']]);
    expect(actions(req('PUT', '/b/dst', { 'x-amz-copy-source': 'b/oem-b/src%20file' }))).toEqual([
      ['s3:PutObject', 'arn:aws:s3:::b/dst'], ['s3:GetObject', 'arn:aws:s3:::b/oem-b/src file'],
    ]);
    const del = '<Delete><Object><Key>oem-a/1</Key></Object><Object><Key>oem-b/&amp;2</Key></Object></Delete>';
    expect(actions(req('POST', '/b?delete', {}, del))).toEqual([['s3:DeleteObject', 'arn:aws:s3:::b/oem-a/1'], ['s3:DeleteObject', 'arn:aws:s3:::b/oem-b/&2']]);
  });
});

describe('S3Authorizer', () => {
  let dir: string;
  let iam: LocalIam;
  let check: S3Authorizer['check'];
  let key: { accessKeyId: string; secretAccessKey: string };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 's3-auth-'));
    iam = new LocalIam(path.join(dir, 'iam.json'), '000000000000');
    iam.createUser('oem-export-a', '/stack/oem-export/');
    iam.putUserPolicy('oem-export-a', 'export-read', JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::bucket', Condition: { StringLike: { 's3:prefix': ['oem-a/', 'oem-a/*'] } } },
        { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/oem-a/*' },
      ],
    }));
    key = iam.createAccessKey('oem-export-a');
    check = new S3Authorizer(iam).check;
  });

  afterEach(async () => {
    await iam.close();
    await rm(dir, { recursive: true, force: true });
  });

  const status = async (r: BufferedRequest) => {
    const answer = await check(r);
    return answer ? `${answer.status} ${/<Code>(\w+)<\/Code>/.exec(String(answer.body))?.[1]}` : 'pass';
  };

  it('lets an issued key do what its policy allows, and nothing else', async () => {
    expect(await status(await signed({ path: '/bucket', query: { 'list-type': '2', prefix: 'oem-a/' } }, key))).toBe('pass');
    expect(await status(await signed({ path: '/bucket/oem-a/x.csv' }, key))).toBe('pass');
    expect(await status(await signed({ path: '/bucket', query: { 'list-type': '2', prefix: 'oem-b/' } }, key))).toBe('403 AccessDenied');
    expect(await status(await signed({ path: '/bucket', query: { 'list-type': '2' } }, key))).toBe('403 AccessDenied');
    expect(await status(await signed({ path: '/bucket/oem-b/x.csv' }, key))).toBe('403 AccessDenied');
    expect(await status(await signed({ method: 'PUT', path: '/bucket/oem-a/x.csv', body: 'x' }, key))).toBe('403 AccessDenied');
    expect(await status(await signed({ path: '/' }, key))).toBe('403 AccessDenied');
    expect(iam.accessKey(key.accessKeyId)?.lastUsed).toMatchObject({ service: 's3', region: 'us-east-1' });
  });

  it('refuses an unknown, inactive or deleted key, and a wrong secret', async () => {
    const request = await signed({ path: '/bucket/oem-a/x.csv' }, key);
    expect(await status(await signed({ path: '/bucket/oem-a/x.csv' }, { accessKeyId: 'AKIA0000000000000000', secretAccessKey: key.secretAccessKey }))).toBe('403 InvalidAccessKeyId');
    expect(await status(await signed({ path: '/bucket/oem-a/x.csv' }, { ...key, secretAccessKey: 'x'.repeat(40) }))).toBe('403 SignatureDoesNotMatch');
    iam.updateAccessKey('oem-export-a', key.accessKeyId, 'Inactive');
    expect(await status(request)).toBe('403 InvalidAccessKeyId');
    iam.updateAccessKey('oem-export-a', key.accessKeyId, 'Active');
    expect(await status(request)).toBe('pass');
    iam.deleteAccessKey('oem-export-a', key.accessKeyId);
    expect(await status(request)).toBe('403 InvalidAccessKeyId');
  });

  it('lets other key ids and unsigned requests through unchecked', async () => {
    expect(await status(await signed({ method: 'PUT', path: '/bucket/anything', body: 'x' }, { accessKeyId: 'test', secretAccessKey: 'test' }))).toBe('pass');
    expect(await status(await signed({ path: '/' }, { accessKeyId: 'local', secretAccessKey: 'wrong' }))).toBe('pass');
    expect(await status({ method: 'GET', url: '/bucket/oem-b/x', headers: { host: HOST }, body: Buffer.alloc(0) })).toBe('pass');
  });

  it('accepts a presigned URL of an issued key within its policy', async () => {
    const make = async (p: string) => {
      const out = await new SignatureV4({ credentials: key, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false })
        .presign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 4566, path: p, query: {}, headers: { host: HOST } }, { expiresIn: 300 });
      return buffered('GET', out.path, out.query as Record<string, string>, { host: HOST }, '');
    };
    expect(await status(await make('/bucket/oem-a/x.csv'))).toBe('pass');
    expect(await status(await make('/bucket/oem-b/x.csv'))).toBe('403 AccessDenied');
  });

  it('checks SDK requests arriving at the edge over HTTP/1.1 and HTTP/2 alike', async () => {
    const edge = await startEdge(0, { s3: async (r) => (await check(r)) ?? { status: 200, headers: { 'content-type': 'application/xml' }, body: '<ListBucketResult/>' } }, () => undefined);
    const outcomeOf = async (client: S3Client, prefix: string) => {
      try {
        await client.send(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: prefix }));
        return 'ok';
      } catch (error) {
        return (error as Error).name;
      } finally {
        client.destroy();
      }
    };
    try {
      const config = { region: 'us-east-1', endpoint: edge.url, forcePathStyle: true, credentials: key };
      expect(await outcomeOf(new S3Client(config), 'oem-a/')).toBe('ok');
      expect(await outcomeOf(new S3Client({ ...config, requestHandler: new NodeHttp2Handler() }), 'oem-a/')).toBe('ok');
      expect(await outcomeOf(new S3Client({ ...config, requestHandler: new NodeHttp2Handler() }), 'oem-b/')).toBe('AccessDenied');
    } finally {
      await edge.close();
    }
  });
});
