import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ExportCredentials } from '../../lambdas/domain/credentials/credentials';
import { openDeployment, type Deployment } from './deployment';

jest.setTimeout(120_000);

let deployment: Deployment;
let operator: S3Client;
let bucket: string;

type Credentials = ExportCredentials;

beforeAll(async () => {
  deployment = await openDeployment();
  bucket = deployment.outputs.ExportBucketName!;
  operator = new S3Client({ ...deployment.aws, forcePathStyle: true });
  // Export files of two OEMs, as the exporter lays them out.
  for (const [key, body] of [
    ['oem-a/datapoint/2026-11-22-09:30:15/oem-a_datapoint_20261122T093015Z.csv', 'a,b\r\n1,2\r\n'],
    ['oem-a/location/2026-11-22-09:30:15/oem-a_location_20261122T093015Z.csv', 'c\r\n3\r\n'],
    ['oem-b/datapoint/2026-11-22-09:30:15/oem-b_datapoint_20261122T093015Z.csv', 'secret of b\r\n'],
  ]) {
    await operator.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
});

afterAll(async () => {
  operator?.destroy();
  await deployment?.stop();
});

async function call(method: 'GET' | 'POST', path: string, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${deployment.apiUrl}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const adminOf = (oemId: string) => deployment.token({ oemId, admin: true });

function clientWith(credentials: Credentials): S3Client {
  // A copy: the SDK marks the credentials object it is given.
  const { accessKeyId, secretAccessKey } = credentials;
  return new S3Client({ region: credentials.region, endpoint: deployment.aws.endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
}

describe('OEM data export credentials', () => {
  it('lets an admin fetch credentials that list and read only its OEM\'s files', async () => {
    const { status, body } = await call('GET', '/oems/oem-a/data-export/credentials', await adminOf('oem-a'));
    expect(status).toBe(200);
    const credentials = body as unknown as Credentials;
    expect(credentials).toEqual({
      accessKeyId: expect.stringMatching(/^AKIA[A-Z0-9]{16}$/),
      secretAccessKey: expect.any(String),
      bucket,
      prefix: 'oem-a/',
      region: deployment.region,
      s3Url: `s3://${bucket}/oem-a/`,
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    // The same credentials on the next call.
    expect((await call('GET', '/oems/oem-a/data-export/credentials', await adminOf('oem-a'))).body).toEqual(credentials);

    const s3 = clientWith(credentials);
    try {
      const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/' }));
      expect(Contents.map((c) => c.Key).sort()).toEqual([
        'oem-a/datapoint/2026-11-22-09:30:15/oem-a_datapoint_20261122T093015Z.csv',
        'oem-a/location/2026-11-22-09:30:15/oem-a_location_20261122T093015Z.csv',
      ]);
      // Folder by folder, as `aws s3 ls s3://<bucket>/oem-a/` and Cyberduck browse.
      const folders = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-a/', Delimiter: '/' }));
      expect(folders.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['oem-a/datapoint/', 'oem-a/location/']);
      const file = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: Contents[0]!.Key! }));
      expect(await file.Body!.transformToString()).toBe('a,b\r\n1,2\r\n');

      const denied = { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } };
      await expect(s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-b/' }))).rejects.toMatchObject(denied);
      await expect(s3.send(new ListObjectsV2Command({ Bucket: bucket }))).rejects.toMatchObject(denied);
      await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'oem-b/datapoint/2026-11-22-09:30:15/oem-b_datapoint_20261122T093015Z.csv' }))).rejects.toMatchObject(denied);
      await expect(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'oem-a/new.csv', Body: 'x' }))).rejects.toMatchObject(denied);
    } finally {
      s3.destroy();
    }
  });

  it('refresh issues a new key: the old one is refused at once, the new one works', async () => {
    const token = await adminOf('oem-r');
    await operator.send(new PutObjectCommand({ Bucket: bucket, Key: 'oem-r/datapoint/f.csv', Body: 'r' }));
    const old = (await call('GET', '/oems/oem-r/data-export/credentials', token)).body as unknown as Credentials;
    const oldClient = clientWith(old);
    await oldClient.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-r/' }));

    const refreshed = await call('POST', '/oems/oem-r/data-export/credentials/refresh', token);
    expect(refreshed.status).toBe(200);
    const fresh = refreshed.body as unknown as Credentials;
    expect(fresh.accessKeyId).not.toBe(old.accessKeyId);
    await expect(oldClient.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-r/' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
    oldClient.destroy();

    const newClient = clientWith(fresh);
    const { Contents = [] } = await newClient.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-r/' }));
    expect(Contents.map((c) => c.Key)).toEqual(['oem-r/datapoint/f.csv']);
    newClient.destroy();
    // GET now answers the new credentials; IAM holds exactly one key for the user.
    expect((await call('GET', '/oems/oem-r/data-export/credentials', token)).body).toEqual(fresh);
  });

  it('leaves one working key after two refreshes at once', async () => {
    const token = await adminOf('oem-c');
    await call('GET', '/oems/oem-c/data-export/credentials', token);
    const [first, second] = await Promise.all([
      call('POST', '/oems/oem-c/data-export/credentials/refresh', token),
      call('POST', '/oems/oem-c/data-export/credentials/refresh', token),
    ]);
    for (const reply of [first!, second!]) expect([200, 409]).toContain(reply.status);
    const current = (await call('GET', '/oems/oem-c/data-export/credentials', token)).body as unknown as Credentials;
    const client = clientWith(current);
    await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'oem-c/' }));
    client.destroy();
    const working = [first!, second!].filter((r) => r.status === 200).map((r) => (r.body as unknown as Credentials).accessKeyId);
    expect(working).toContain(current.accessKeyId);
  });

  it('refuses callers without a valid token (401), non-admins and other OEMs\' admins (403)', async () => {
    expect((await call('GET', '/oems/oem-a/data-export/credentials')).status).toBe(401);
    expect((await call('POST', '/oems/oem-a/data-export/credentials/refresh', 'not-a-token')).status).toBe(401);
    for (const token of [await deployment.token({ oemId: 'oem-a' }), await adminOf('oem-b')]) {
      for (const [method, path] of [['GET', '/oems/oem-a/data-export/credentials'], ['POST', '/oems/oem-a/data-export/credentials/refresh']] as const) {
        const reply = await call(method, path, token);
        expect({ method, status: reply.status, code: reply.body.code }).toEqual({ method, status: 403, code: 'NotOemAdmin' });
      }
    }
    expect((await call('GET', '/oems/..%2Fx/data-export/credentials', await adminOf('oem-a'))).status).toBeLessThan(500);
  });
});
