import { DescribeContinuousBackupsCommand, DescribeTimeToLiveCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  GetBucketEncryptionCommand, GetBucketLifecycleConfigurationCommand, GetObjectCommand, HeadObjectCommand, ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LocalCloud } from '../../../infra/local-cloud/local-cloud';
import { LocalIssuer } from '../../../infra/local-cloud/services/apigateway/local-issuer';
import { createProbeApp, PROBE_RETRY_ATTEMPTS } from '../../fixtures/probe-app';
import { eventually, startTestCloud } from '../local-cloud-helpers';

jest.setTimeout(120_000);

let cloud: LocalCloud;
let s3: S3Client;
let kinesis: KinesisClient;
let dynamodb: DynamoDBClient;
let bucket: string;
let streamName: string;

beforeAll(async () => {
  // Context reaches the synth as `npm start -- --context key=value` passes it: as strings.
  cloud = await startTestCloud({ buildApp: createProbeApp, ttlSweepIntervalMs: 200, context: { eventStreamShardCount: '3' } });
  // Plain SDK clients, as a user would configure them: no special HTTP handler, default checksums.
  const config = { region: cloud.region, endpoint: cloud.edgeUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  s3 = new S3Client({ ...config, forcePathStyle: true });
  kinesis = new KinesisClient(config);
  dynamodb = new DynamoDBClient(config);
  bucket = cloud.outputs.ExportBucketName!;
  streamName = cloud.outputs.EventStreamName!;
});

afterAll(async () => {
  s3?.destroy();
  kinesis?.destroy();
  dynamodb?.destroy();
  await cloud?.stop();
});

describe('outputs', () => {
  it('writes the stack outputs, the endpoint and the region to outputs.json, flat and by stack name', async () => {
    const written = JSON.parse(await readFile(path.join(cloud.dataDir, 'outputs.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['ApiUrl', 'EventStreamName', 'ExportBucketName', 'DatapointLogTableName', 'AwsEndpoint', 'Region']) {
      expect(written[key]).toEqual(expect.any(String));
    }
    expect(written.ApiUrl).toBe(cloud.apiUrl);
    expect(written.AwsEndpoint).toBe(cloud.edgeUrl);
    const { AwsEndpoint: _endpoint, Region: _region, ...stackOutputs } = cloud.outputs;
    expect(written.DevicePipeline).toEqual(stackOutputs);
  });
});

describe('edge endpoint', () => {
  it('serves Kinesis to the default SDK client, which speaks HTTP/2, with the stream the synth context asked for', async () => {
    const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    expect(StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    expect(StreamDescriptionSummary?.OpenShardCount).toBe(3);
    expect(StreamDescriptionSummary).toMatchObject({ EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' });
  });

  it('keeps the table and bucket settings of the template: point-in-time recovery, bucket encryption', async () => {
    const { ContinuousBackupsDescription } = await dynamodb.send(new DescribeContinuousBackupsCommand({ TableName: cloud.outputs.DatapointLogTableName! }));
    expect(ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
    const { ServerSideEncryptionConfiguration } = await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    expect(ServerSideEncryptionConfiguration?.Rules).toEqual([{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
  });

  it('accepts the bucket lifecycle configuration from the template (365-day expiry)', async () => {
    const { Rules } = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    expect(Rules).toEqual(expect.arrayContaining([expect.objectContaining({ Status: 'Enabled', Expiration: { Days: 365 } })]));
  });

  it('stores uploads byte for byte when the SDK sends aws-chunked bodies with checksums', async () => {
    const key = `it/${randomUUID()}/ünïcode, "quoted".csv`;
    const body = 'a,b\n"x, y",ÿ\n'.repeat(1000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe(body);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ContentLength).toBe(Buffer.byteLength(body));
  });

  it('lists with a delimiter as S3 does, also folders that hold only folders, page by page (V1 and V2)', async () => {
    const root = `it-list-${randomUUID()}/`;
    const keys = ['oem/datapoint/2026-11-22-09:30:15/a.csv', 'oem/datapoint/2026-11-22-09:30:16/b.csv', 'oem/location/2026-11-22-09:30:15/c.csv', 'other/x.csv', 'top.txt'];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: root + key, Body: key }));
    const level = async (prefix: string, pageSize: number) => {
      const contents: string[] = [];
      const prefixes: string[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: root + prefix, Delimiter: '/', MaxKeys: pageSize, ContinuationToken: token }));
        contents.push(...(page.Contents ?? []).map((c) => c.Key!.slice(root.length)));
        prefixes.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!.slice(root.length)));
        token = page.NextContinuationToken;
      } while (token);
      return { contents, prefixes };
    };
    expect(await level('', 1000)).toEqual({ contents: ['top.txt'], prefixes: ['oem/', 'other/'] });
    expect(await level('', 1)).toEqual({ contents: ['top.txt'], prefixes: ['oem/', 'other/'] });
    expect(await level('oem/', 1)).toEqual({ contents: [], prefixes: ['oem/datapoint/', 'oem/location/'] });
    expect(await level('oem/datapoint/', 1000)).toEqual({ contents: [], prefixes: ['oem/datapoint/2026-11-22-09:30:15/', 'oem/datapoint/2026-11-22-09:30:16/'] });
    expect(await level('oem/datapoint/2026-11-22-09:30:15/', 1000)).toEqual({ contents: ['oem/datapoint/2026-11-22-09:30:15/a.csv'], prefixes: [] });
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: root, Delimiter: '/', MaxKeys: 2 }));
    expect([v1.IsTruncated, v1.CommonPrefixes?.map((p) => p.Prefix)]).toEqual([true, [`${root}oem/`, `${root}other/`]]);
    const next = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: root, Delimiter: '/', Marker: v1.NextMarker }));
    expect([next.IsTruncated, next.Contents?.map((c) => c.Key)]).toEqual([false, [`${root}top.txt`]]);
  });

  it('answers a conditional create (If-None-Match: *) of an existing key with 412 and keeps the first object', async () => {
    const key = `it/${randomUUID()}.csv`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));
    await expect(s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' }))).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe('first');
  });

  it('lets exactly one of many concurrent conditional creates of one key win', async () => {
    const key = `it/${randomUUID()}.csv`;
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `writer ${i}`, IfNoneMatch: '*' }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.$metadata.httpStatusCode)).toEqual(Array(7).fill(412));
  });

  it('enables TTL as the template says and sweeps expired items, keeping live ones', async () => {
    const table = cloud.outputs.DatapointLogTableName!;
    const { TimeToLiveDescription } = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });

    const now = Math.floor(Date.now() / 1000);
    const expired = { pk: { S: `it#${randomUUID()}` }, sk: { S: 'expired' } };
    const live = { pk: { S: `it#${randomUUID()}` }, sk: { S: 'live' } };
    await dynamodb.send(new PutItemCommand({ TableName: table, Item: { ...expired, expiresAt: { N: String(now - 10) } } }));
    await dynamodb.send(new PutItemCommand({ TableName: table, Item: { ...live, expiresAt: { N: String(now + 3600) } } }));

    await eventually(async () => {
      const { Item } = await dynamodb.send(new GetItemCommand({ TableName: table, Key: expired }));
      return Item === undefined ? true : undefined;
    }, 10_000, 'the expired item to be swept');
    const { Item } = await dynamodb.send(new GetItemCommand({ TableName: table, Key: live }));
    expect(Item?.sk?.S).toBe('live');
  });
});

describe('HTTP API', () => {
  const get = (route: string, token?: string) =>
    fetch(`${cloud.apiUrl}${route}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  it('answers GET /health without a token', async () => {
    const response = await get('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(expect.objectContaining({ status: 'ok' }));
  });

  it('passes the verified claims of a valid token to the handler', async () => {
    const admin = await get('/me', await cloud.issuer.sign({ oemId: 'oem-a', admin: true, subject: 'alice' }));
    expect(admin.status).toBe(200);
    expect(await admin.json()).toEqual({ subject: 'alice', oemId: 'oem-a', admin: true });
    const user = await get('/me', await cloud.issuer.sign({ oemId: 'oem-b', subject: 'bob' }));
    expect(await user.json()).toEqual({ subject: 'bob', oemId: 'oem-b', admin: false });
  });

  it('rejects a missing, tampered, expired, wrong-audience or foreign-key token with 401', async () => {
    const valid = await cloud.issuer.sign({ oemId: 'oem-a' });
    const [header, payload, signature] = valid.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    const tampered = [header, Buffer.from(JSON.stringify({ ...claims, 'custom:oem_id': 'oem-b' })).toString('base64url'), signature].join('.');
    const otherDir = await mkdtemp(path.join(os.tmpdir(), 'other-issuer-'));
    const foreign = await LocalIssuer.open(path.join(otherDir, 'issuer.json'), cloud.issuer.file.issuer, cloud.issuer.file.audience);
    const tokens = {
      missing: undefined,
      empty: '',
      garbage: 'not-a-jwt',
      tampered,
      expired: await cloud.issuer.sign({ oemId: 'oem-a', expiresInSeconds: -60 }),
      wrongAudience: await cloud.issuer.sign({ oemId: 'oem-a', audience: 'some-other-client' }),
      foreignKey: await foreign.sign({ oemId: 'oem-a' }),
    };
    await rm(otherDir, { recursive: true, force: true });
    for (const [kind, token] of Object.entries(tokens)) {
      const response = await get('/me', token);
      expect({ kind, status: response.status }).toEqual({ kind, status: 401 });
      expect(await response.json()).toEqual({ message: 'Unauthorized' });
    }
    expect((await get('/me', valid)).status).toBe(200);
  });

  it('answers an unknown route with 404', async () => {
    expect((await get('/no/such/route')).status).toBe(404);
  });
});

describe('Kinesis event source mapping', () => {
  type Behaviour = 'ok' | 'fail-once' | 'poison';

  async function put(scenario: string, records: Array<[id: string, behaviour: Behaviour]>): Promise<Record<string, string>> {
    const { Records } = await kinesis.send(new PutRecordsCommand({
      StreamName: streamName,
      Records: records.map(([id, behaviour]) => ({ PartitionKey: scenario, Data: Buffer.from(JSON.stringify({ scenario, id, behaviour })) })),
    }));
    return Object.fromEntries(records.map(([id], i) => [id, Records![i]!.SequenceNumber!]));
  }

  /** The batches the probe consumer received for a scenario, in order: record ids per invocation. */
  async function invocations(scenario: string): Promise<Array<Array<{ id: string; seq: string }>>> {
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `probe/${scenario}/` }));
    const keys = Contents.map((c) => c.Key!).filter((k) => !k.includes('/seen/')).sort();
    return Promise.all(keys.map(async (Key) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      return JSON.parse(await object.Body!.transformToString()) as Array<{ id: string; seq: string }>;
    }));
  }

  it('retries a batch from the lowest sequence number the function reports as failed', async () => {
    const scenario = `partial-${randomUUID()}`;
    const seq = await put(scenario, [['a', 'ok'], ['b', 'fail-once'], ['c', 'ok']]);
    const seen = await eventually(async () => {
      const got = await invocations(scenario);
      return got.length >= 2 ? got : undefined;
    }, 20_000, 'the retry of the failed item');
    expect(seen[0]!.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(seen[1]!.map((r) => r.id)).toEqual(['b', 'c']);
    expect(seen[1]![0]!.seq).toBe(seq.b);
    await new Promise((r) => setTimeout(r, 500));
    expect(await invocations(scenario)).toHaveLength(2);
  });

  it('bisects a failing batch, retries the poison record alone, then writes it to the on-failure destination and goes on', async () => {
    const scenario = `poison-${randomUUID()}`;
    const seq = await put(scenario, [['k1', 'ok'], ['k2', 'ok'], ['x', 'poison'], ['k3', 'ok']]);
    const expected = [['k1', 'k2', 'x', 'k3'], ['k1', 'k2'], ['x', 'k3'], ...Array(1 + PROBE_RETRY_ATTEMPTS).fill(['x']), ['k3']];
    const seen = await eventually(async () => {
      const got = await invocations(scenario);
      return got.length >= expected.length ? got : undefined;
    }, 30_000, 'bisection and retries');
    expect(seen.map((batch) => batch.map((r) => r.id))).toEqual(expected);

    const failure = await eventually(async () => {
      const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'aws/lambda/' }));
      for (const { Key } of Contents) {
        const body = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: Key! }))).Body!.transformToString()) as {
          requestContext: { condition: string; approximateInvokeCount: number };
          KinesisBatchInfo: { startSequenceNumber: string; endSequenceNumber: string; batchSize: number; streamArn: string };
          payload: string;
        };
        if (body.KinesisBatchInfo.startSequenceNumber === seq.x) return { Key: Key!, body };
      }
      return undefined;
    }, 10_000, 'the on-failure destination record');
    expect(failure.Key).toMatch(/^aws\/lambda\/[0-9a-f-]{36}\/shardId-\d+\/\d{4}\/\d{2}\/\d{2}\/\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}-[0-9a-f-]{36}$/);
    expect(failure.body.requestContext).toMatchObject({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 1 + PROBE_RETRY_ATTEMPTS });
    expect(failure.body.KinesisBatchInfo).toMatchObject({ endSequenceNumber: seq.x, batchSize: 1, streamArn: cloud.outputs.EventStreamArn });
    const payload = JSON.parse(failure.body.payload) as { Records: Array<{ kinesis: { data: string } }> };
    expect(JSON.parse(Buffer.from(payload.Records[0]!.kinesis.data, 'base64').toString())).toEqual({ scenario, id: 'x', behaviour: 'poison' });

    // The checkpoint moved past the poison record: later records flow.
    const after = `after-${randomUUID()}`;
    await put(after, [['next', 'ok']]);
    await eventually(async () => ((await invocations(after)).length === 1 ? true : undefined), 10_000, 'a record after the poison one');
  });
});
