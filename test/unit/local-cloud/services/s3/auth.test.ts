import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BufferedRequest } from '../../../../../infra/local-cloud/aws-protocol/http';
import { startEdge } from '../../../../../infra/local-cloud/edge';
import { ServiceRegistry } from '../../../../../infra/local-cloud/registry';
import { LocalIam } from '../../../../../infra/local-cloud/services/iam/models';
import { S3Authorizer, s3Authorizations } from '../../../../../infra/local-cloud/services/s3/auth';
import { buffered, HOST, Sha256, signed } from '../../signing';

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

  it('evaluates the key exactly as the gateway stores it: dot segments, double and encoded slashes stay in the key', () => {
    expect(actions(req('GET', '/b/oem-a/../oem-b/x.csv'))).toEqual([['s3:GetObject', 'arn:aws:s3:::b/oem-a/../oem-b/x.csv']]);
    expect(actions(req('GET', '/b/oem-a/..%2Foem-b%2Fx.csv'))).toEqual([['s3:GetObject', 'arn:aws:s3:::b/oem-a/../oem-b/x.csv']]);
    expect(actions(req('GET', '/b/oem-a//x/'))).toEqual([['s3:GetObject', 'arn:aws:s3:::b/oem-a//x/']]);
    expect(actions(req('PUT', '/b/dst', { 'x-amz-copy-source': '/b/oem-a%2F..%2Foem-b%2Fx%3Fy?versionId=1' }))).toEqual([
      ['s3:PutObject', 'arn:aws:s3:::b/dst'], ['s3:GetObjectVersion', 'arn:aws:s3:::b/oem-a/../oem-b/x?y'],
    ]);
  });

  it('checks a delete document it cannot read, or a copy source it cannot read, as every object', () => {
    const hidden = '<Delete><!-- <Object><Key>oem-a/1</Key></Object> --><Object><Key>oem-b/1</Key></Object></Delete>';
    expect(actions(req('POST', '/b?delete', {}, hidden))).toEqual([['s3:DeleteObject', 'arn:aws:s3:::b/*']]);
    expect(actions(req('PUT', '/b/dst', { 'x-amz-copy-source': 'b/%ZZ' }))).toEqual([['s3:PutObject', 'arn:aws:s3:::b/dst'], ['s3:GetObject', 'arn:aws:s3:::*']]);
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

  it('tells whether the caller may list the bucket without a prefix (a missing key is 403 otherwise, as on S3)', async () => {
    const authorizer = new S3Authorizer(iam);
    expect(authorizer.mayListBucket(await signed({ path: '/bucket/oem-a/missing' }, key), 'bucket')).toBe(false);
    expect(authorizer.mayListBucket(await signed({ path: '/bucket/oem-a/missing' }, { accessKeyId: 'test', secretAccessKey: 'test' }), 'bucket')).toBe(true);
    iam.putUserPolicy('oem-export-a', 'list', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::bucket' }] }));
    expect(authorizer.mayListBucket(await signed({ path: '/bucket/oem-a/missing' }, key), 'bucket')).toBe(true);
  });

  it('refuses a path that is not valid percent-encoding before checking anything', async () => {
    expect(await status({ method: 'GET', url: '/bucket/oem-a/%E0%A4%A', headers: { host: HOST }, body: Buffer.alloc(0) })).toBe('400 InvalidURI');
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
    const s3 = { name: 's3', matcher: { signingName: 's3' }, handle: async (r: BufferedRequest) => (await check(r)) ?? { status: 200, headers: { 'content-type': 'application/xml' }, body: '<ListBucketResult/>' } };
    const edge = await startEdge(0, new ServiceRegistry([s3]), () => undefined);
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
