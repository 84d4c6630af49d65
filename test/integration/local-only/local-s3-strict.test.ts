import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { LocalCloud } from '../../../infra/local-cloud/local-cloud';
import { LocalIam } from '../../../infra/local-cloud/services/iam/models';
import { startS3 } from '../../../infra/local-cloud/services/s3/service';
import { Sha256 } from '../../unit/local-cloud/signing';
import { startTestCloud } from '../local-cloud-helpers';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..', '..');
const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const SECRET = 'another,oem,confidential\n';

/**
 * Local S3 as strict as S3 where it matters to OEMs: a key is a literal string (an OEM's key cannot reach
 * another OEM's files through `..`, whatever client or signature), and a PUT is atomic (a crash of the
 * local cloud mid-write leaves the old object or none).
 */
describe('local S3 with a key the local IAM issued', () => {
  let cloud: LocalCloud;
  let bucket: string;
  let admin: S3Client;
  let oem: S3Client;
  let oemKey: { accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    cloud = await startTestCloud();
    bucket = cloud.outputs.ExportBucketName!;
    const config = { region: cloud.region, endpoint: cloud.edgeUrl, credentials: ADMIN };
    admin = new S3Client({ ...config, forcePathStyle: true });
    for (const [key, body] of [
      ['oem-a/datapoint/own.csv', 'oem-a,own,row\n'], ['oem-b/datapoint/secret.csv', SECRET], ['_errors/batch.json', SECRET],
      ['aws/lambda/mapping/shardId-000000000000/2026/01/01/failure', SECRET], ['exporter-state.json', SECRET],
    ]) {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }
    // The policy the credentials service gives an OEM's export key.
    const iam = new IAMClient(config);
    await iam.send(new CreateUserCommand({ UserName: 'oem-export-a', Path: '/Test/oem-export/' }));
    await iam.send(new PutUserPolicyCommand({
      UserName: 'oem-export-a',
      PolicyName: 'export-read',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': ['oem-a/', 'oem-a/*'] } } },
          { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/oem-a/*` },
        ],
      }),
    }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'oem-export-a' }));
    iam.destroy();
    oemKey = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    oem = new S3Client({ region: 'us-east-1', endpoint: cloud.edgeUrl, forcePathStyle: true, credentials: oemKey });
  });

  afterAll(async () => {
    admin?.destroy();
    oem?.destroy();
    await cloud?.stop();
  });

  /** A GET of exactly `rawPath` (fetch and the SDK may resolve dot segments; a hostile client does not). */
  function rawGet(rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const { port } = new URL(cloud.edgeUrl);
    return new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: rawPath, headers }, (response) => {
        let body = '';
        response.on('data', (c: Buffer) => (body += c.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      }).on('error', reject);
    });
  }

  /** The OEM key's SigV4 signature over exactly `rawPath`: in the Authorization header, or as a presigned URL. */
  async function signedGet(rawPath: string, presign: boolean): Promise<{ status: number; body: string }> {
    const { host } = new URL(cloud.edgeUrl);
    const signer = new SignatureV4({ credentials: oemKey, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
    const request = { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: rawPath, query: {}, headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } };
    if (!presign) {
      const out = await signer.sign(request);
      return rawGet(rawPath, out.headers);
    }
    const out = await signer.presign({ ...request, headers: { host } }, { expiresIn: 300 });
    const query = Object.entries(out.query as Record<string, string>).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    return rawGet(`${rawPath}?${query}`);
  }

  const TRAVERSALS = [
    'oem-a/../oem-b/datapoint/secret.csv',
    'oem-a/./../oem-b/datapoint/secret.csv',
    'oem-a//../../oem-b/datapoint/secret.csv',
    'oem-a/%2E%2E/oem-b/datapoint/secret.csv',
    'oem-a/..%2Foem-b%2Fdatapoint%2Fsecret.csv',
    'oem-a/../_errors/batch.json',
    'oem-a/../aws/lambda/mapping/shardId-000000000000/2026/01/01/failure',
    'oem-a/../exporter-state.json',
  ];

  it.each(TRAVERSALS)('never serves another object for %s (header signature, presigned URL, unsigned, SDK)', async (key) => {
    for (const answer of [await signedGet(`/${bucket}/${key}`, false), await signedGet(`/${bucket}/${key}`, true), await rawGet(`/${bucket}/${key}`)]) {
      expect(answer.body).not.toContain('confidential');
    }
    // The literal key does not exist: S3 says so (404) only to a caller that may list the bucket, else 403.
    expect((await rawGet(`/${bucket}/${key}`)).status).toBe(404);
    expect((await signedGet(`/${bucket}/${key}`, false)).status).toBe(403);
    expect((await signedGet(`/${bucket}/${key}`, true)).status).toBe(403);
    const decoded = decodeURIComponent(key);
    await expect(oem.send(new GetObjectCommand({ Bucket: bucket, Key: decoded }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(oem.send(new HeadObjectCommand({ Bucket: bucket, Key: decoded }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(admin.send(new HeadObjectCommand({ Bucket: bucket, Key: decoded }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it("still reads the OEM's own files, and nothing outside its prefix", async () => {
    expect(await (await oem.send(new GetObjectCommand({ Bucket: bucket, Key: 'oem-a/datapoint/own.csv' }))).Body!.transformToString()).toBe('oem-a,own,row\n');
    expect((await signedGet(`/${bucket}/oem-a/datapoint/own.csv`, true)).status).toBe(200);
    expect((await signedGet(`/${bucket}/oem-b/datapoint/secret.csv`, true)).status).toBe(403);
    expect((await signedGet(`/${bucket}/_errors/batch.json`, false)).status).toBe(403);
  });

  it('stores a key with dot segments as that key, and the policy is evaluated on it', async () => {
    // An admin writes under the literal key; the OEM key may read it (it is under oem-a/), and it is not oem-b's file.
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'oem-a/../oem-b/datapoint/secret.csv', Body: 'oem-a,literal\n' }));
    expect((await signedGet(`/${bucket}/oem-a/../oem-b/datapoint/secret.csv`, false)).body).toBe('oem-a,literal\n');
    expect(await (await admin.send(new GetObjectCommand({ Bucket: bucket, Key: 'oem-b/datapoint/secret.csv' }))).Body!.transformToString()).toBe(SECRET);
    const listed = await oem.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['oem-a/../oem-b/datapoint/secret.csv', 'oem-a/datapoint/own.csv']);
  });
});

describe('local S3 killed mid-write', () => {
  /** A process running local S3 that overwrites one object and creates others, as fast as it can, until killed. */
  const WRITER = `
    const http = require('node:http');
    const { startS3 } = require(${JSON.stringify(path.join(ROOT, 'infra/local-cloud/services/s3/service.ts'))});
    const { LocalIam } = require(${JSON.stringify(path.join(ROOT, 'infra/local-cloud/services/iam/models.ts'))});
    const dataDir = process.argv[1];
    const SIZE = 4 * 1024 * 1024;
    const send = (port, method, path, body) => new Promise((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, method, path, headers: { 'content-length': body ? body.length : 0 } }, (r) => { r.resume(); r.on('end', () => resolve(r.statusCode)); });
      request.on('error', reject);
      request.end(body);
    });
    (async () => {
      const s3 = await startS3({ dataDir, stateDir: dataDir, region: 'us-east-1', accountId: '000000000000', log: () => {} }, new LocalIam(dataDir + '/iam.json', '000000000000'));
      const port = Number(new URL(s3.emulatorUrl).port);
      await send(port, 'PUT', '/bucket');
      for (let generation = 1; ; generation++) {
        const body = Buffer.alloc(SIZE, generation % 256);
        await send(port, 'PUT', '/bucket/same.csv', body);
        await send(port, 'PUT', '/bucket/new-' + generation + '.csv', body);
        process.stdout.write('wrote ' + generation + '\\n');
      }
    })();
  `;

  it('leaves every object whole (the old one or the new one), never a part, after kill -9', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-s3-kill-'));
    try {
      for (const delayMs of [0, 37, 83, 151]) {
        const child = spawn(process.execPath, ['--import', 'tsx', '-e', WRITER, dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
        // Once a few objects are written, kill it at some point of a write.
        await new Promise<void>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if ((out.match(/wrote/g) ?? []).length >= 2) resolve();
          });
          child.once('exit', (code) => reject(new Error(`writer exited (${code}) before writing`)));
        });
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;

        const iam = new LocalIam(path.join(dataDir, 'iam-check.json'), '000000000000');
        const s3 = await startS3({ dataDir, stateDir: dataDir, region: 'us-east-1', accountId: '000000000000', log: () => undefined }, iam);
        try {
          const listed = await s3.gateway.store.listObjects('bucket', { maxKeys: 10_000 });
          expect(listed.objects.length).toBeGreaterThanOrEqual(3);
          for (const { key } of listed.objects) {
            const object = (await s3.gateway.store.openObject('bucket', key))!;
            const body = await object.read(0, object.meta.size);
            await object.close();
            expect([key, body.length]).toEqual([key, 4 * 1024 * 1024]);
            expect([key, body.every((b) => b === body[0])]).toEqual([key, true]);
          }
          expect(await readdir(path.join(dataDir, 's3', '.tmp'))).toEqual([]);
        } finally {
          await s3.close?.();
          await iam.close();
        }
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
