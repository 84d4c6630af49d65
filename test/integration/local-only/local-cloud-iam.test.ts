import {
  CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient, PutUserPolicyCommand, UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import {
  CreateSecretCommand, DeleteSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceNotFoundException, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalCloud, type LocalCloud } from '../../../infra/local-cloud/local-cloud';
import { startTestCloud } from '../local-cloud-helpers';

jest.setTimeout(120_000);

const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };

let cloud: LocalCloud;
let bucket: string;
let iam: IAMClient;
let admin: S3Client;

beforeAll(async () => {
  cloud = await startTestCloud();
  bucket = cloud.outputs.ExportBucketName!;
  const config = { region: cloud.region, endpoint: cloud.edgeUrl, credentials: ADMIN };
  iam = new IAMClient(config);
  admin = new S3Client({ ...config, forcePathStyle: true });
  for (const key of ['oem-a/datapoint/one.csv', 'oem-a/two.csv', 'oem-b/other.csv', 'root.txt']) {
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `content of ${key}` }));
  }
});

afterAll(async () => {
  iam?.destroy();
  admin?.destroy();
  await cloud?.stop();
});

/** An S3 client as an OEM would configure it with the issued key (SDK defaults otherwise). */
function s3As(credentials: { accessKeyId: string; secretAccessKey: string }, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint: cloud.edgeUrl, forcePathStyle: true, credentials, ...extra });
}

/** `<status> <code>` of a failed call, or `ok`. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (e: { $metadata?: { httpStatusCode?: number }; name: string; Code?: string }) => `${e.$metadata?.httpStatusCode} ${e.Code ?? e.name}`,
  );

async function oemUser(name: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  await iam.send(new CreateUserCommand({ UserName: name, Path: '/Test/oem-export/', Tags: [{ Key: 'oem', Value: 'a' }] }));
  await iam.send(new PutUserPolicyCommand({
    UserName: name,
    PolicyName: 'export-read',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ListOwnPrefix', Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}`, Condition: { StringLike: { 's3:prefix': ['oem-a/', 'oem-a/*'] } } },
        { Sid: 'ReadOwnFiles', Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/oem-a/*` },
      ],
    }),
  }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
}

describe('local S3 with keys issued by the local IAM', () => {
  it("lets an OEM key list and read its own prefix only, and stops it at once when deleted", async () => {
    const key = await oemUser('oem-export-a');
    expect(key.accessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    const s3 = s3As(key);
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/' }));
      expect(listed.Contents?.map((o) => o.Key).sort()).toEqual(['oem-a/datapoint/one.csv', 'oem-a/two.csv']);
      const folders = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/', Delimiter: '/' }));
      expect(folders.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['oem-a/datapoint/']);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'oem-a/datapoint/one.csv' }));
      expect(await got.Body!.transformToString()).toBe('content of oem-a/datapoint/one.csv');
      expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'oem-a/two.csv' })))).toBe('ok');

      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-b/' })))).toBe('403 AccessDenied');
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket })))).toBe('403 AccessDenied');
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-ab/' })))).toBe('403 AccessDenied');
      expect(await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'oem-b/other.csv' })))).toBe('403 AccessDenied');
      expect(await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'root.txt' })))).toBe('403 AccessDenied');
      expect(await outcome(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'oem-a/new.csv', Body: 'x' })))).toBe('403 AccessDenied');
      expect(await outcome(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'oem-a/two.csv' })))).toBe('403 AccessDenied');
      // Nothing was written or deleted.
      expect(await outcome(admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'oem-a/new.csv' })))).toBe('404 NotFound');
      expect(await outcome(admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'oem-a/two.csv' })))).toBe('ok');

      const wrongSecret = s3As({ ...key, secretAccessKey: 'x'.repeat(40) });
      expect(await outcome(wrongSecret.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/' })))).toBe('403 SignatureDoesNotMatch');
      wrongSecret.destroy();

      await iam.send(new UpdateAccessKeyCommand({ UserName: 'oem-export-a', AccessKeyId: key.accessKeyId, Status: 'Inactive' }));
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/' })))).toBe('403 InvalidAccessKeyId');
      await iam.send(new UpdateAccessKeyCommand({ UserName: 'oem-export-a', AccessKeyId: key.accessKeyId, Status: 'Active' }));
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/' })))).toBe('ok');

      await iam.send(new DeleteAccessKeyCommand({ UserName: 'oem-export-a', AccessKeyId: key.accessKeyId }));
      expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/' })))).toBe('403 InvalidAccessKeyId');
      expect(await outcome(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'oem-a/two.csv' })))).toBe('403 InvalidAccessKeyId');
    } finally {
      s3.destroy();
    }
  });

  it('refuses a well-formed key the local IAM never issued', async () => {
    const s3 = s3As({ accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) });
    expect(await outcome(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/' })))).toBe('403 InvalidAccessKeyId');
    s3.destroy();
  });

  it('still lets test/test (and any other non-IAM key) do everything', async () => {
    const s3 = s3As(ADMIN, { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    try {
      expect((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount).toBeGreaterThanOrEqual(4);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'oem-b/admin.csv', Body: 'admin' }));
      expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'oem-b/admin.csv' }))).Body!.transformToString()).toBe('admin');
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'oem-b/admin.csv' }));
    } finally {
      s3.destroy();
    }
  });

  it('keeps issued keys working across a restart of the local cloud', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-cloud-iam-restart-'));
    const start = () => startLocalCloud({ rootDir: path.resolve(__dirname, '..', '..', '..'), dataDir, edgePort: 0, apiPort: 0, log: () => undefined, functionLog: () => undefined });
    let local = await start();
    try {
      const localBucket = local.outputs.ExportBucketName!;
      const config = { region: local.region, endpoint: local.edgeUrl, credentials: ADMIN };
      const localIam = new IAMClient(config);
      await localIam.send(new CreateUserCommand({ UserName: 'restart' }));
      await localIam.send(new PutUserPolicyCommand({
        UserName: 'restart', PolicyName: 'read',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${localBucket}/*` }] }),
      }));
      const { AccessKey } = await localIam.send(new CreateAccessKeyCommand({ UserName: 'restart' }));
      localIam.destroy();
      const adminS3 = new S3Client({ ...config, forcePathStyle: true });
      await adminS3.send(new PutObjectCommand({ Bucket: localBucket, Key: 'f.txt', Body: 'f' }));
      adminS3.destroy();
      await local.stop();

      local = await start();
      const s3 = new S3Client({ region: 'us-east-1', endpoint: local.edgeUrl, forcePathStyle: true, credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! } });
      expect(await (await s3.send(new GetObjectCommand({ Bucket: localBucket, Key: 'f.txt' }))).Body!.transformToString()).toBe('f');
      expect(await outcome(s3.send(new PutObjectCommand({ Bucket: localBucket, Key: 'g.txt', Body: 'g' })))).toBe('403 AccessDenied');
      s3.destroy();
    } finally {
      await local.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('Secrets Manager through the edge', () => {
  it('creates, reads, replaces and deletes a secret', async () => {
    const client = new SecretsManagerClient({ region: cloud.region, endpoint: cloud.edgeUrl, credentials: ADMIN });
    try {
      const name = 'Test/oem-export/oem-a';
      const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify({ accessKeyId: 'AKIA1' }) }));
      expect(created.ARN).toMatch(new RegExp(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-[A-Za-z0-9]{6}$`));
      expect(JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString!)).toEqual({ accessKeyId: 'AKIA1' });
      await client.send(new PutSecretValueCommand({ SecretId: created.ARN, SecretString: JSON.stringify({ accessKeyId: 'AKIA2' }) }));
      expect(JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: created.ARN }))).SecretString!)).toEqual({ accessKeyId: 'AKIA2' });
      await client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
      await expect(client.send(new GetSecretValueCommand({ SecretId: name }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    } finally {
      client.destroy();
    }
  });
});
