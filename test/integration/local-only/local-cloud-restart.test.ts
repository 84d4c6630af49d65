import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../../infra/local-cloud/local-cloud';
import { createPipelineApp } from '../../../infra/pipeline-app';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '..', '..', '..');
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-cloud-restart-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** Every cloud started, stopped after the test even when it fails part way (stop() is idempotent). */
const started: LocalCloud[] = [];
afterEach(() => Promise.all(started.splice(0).map((cloud) => cloud.stop())));

const start = async (options: Partial<LocalCloudOptions> = {}) => {
  const cloud = await startLocalCloud({ rootDir: ROOT, dataDir, edgePort: 0, apiPort: 0, log: () => undefined, functionLog: () => undefined, ...options });
  started.push(cloud);
  return cloud;
};

function clients(cloud: LocalCloud) {
  const config = { region: cloud.region, endpoint: cloud.edgeUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  return { dynamodb: new DynamoDBClient(config), s3: new S3Client({ ...config, forcePathStyle: true }) };
}

/** The pipeline app as an older version was: the datapoint log table without its byName index. */
function appWithoutIndex(options: { outdir: string; context: Record<string, unknown> }) {
  const { app, stack } = createPipelineApp(options);
  const table = stack.datapointLogs.table.node.defaultChild as CfnTable;
  table.addPropertyDeletionOverride('GlobalSecondaryIndexes');
  table.addPropertyOverride('AttributeDefinitions', [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }]);
  return app;
}

it('keeps data across restarts, adds indexes a newer template defines, reuses the assembly and bundles while nothing changed, and wipes everything with fresh', async () => {
  const item = { pk: { S: 'OEM#restart' }, sk: { S: 'DP#dev#device#0#temp' }, gsi1pk: { S: 'OEM#restart' }, gsi1sk: { S: 'NAME#temp#dev#device#0' } };

  let cloud = await start({ buildApp: appWithoutIndex });
  // Every function bundled by esbuild into the data directory's cache.
  const bundles = cloud.build.bundlesBuilt;
  expect(cloud.build).toEqual({ synthesized: true, bundlesBuilt: cloud.functions.size, bundlesReused: 0 });
  let { dynamodb, s3 } = clients(cloud);
  const table = cloud.outputs.DatapointLogTableName!;
  const bucket = cloud.outputs.ExportBucketName!;
  await dynamodb.send(new PutItemCommand({ TableName: table, Item: item }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept.txt', Body: 'still here' }));
  await expect(dynamodb.send(new QueryCommand({ TableName: table, IndexName: 'byName', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': item.pk } }))).rejects.toThrow();
  dynamodb.destroy();
  s3.destroy();
  await cloud.stop();

  // Another app, so a new synth; the functions' inputs are unchanged, so esbuild does not run.
  cloud = await start();
  expect(cloud.build).toEqual({ synthesized: true, bundlesBuilt: 0, bundlesReused: bundles });
  ({ dynamodb, s3 } = clients(cloud));
  expect(cloud.outputs.DatapointLogTableName).toBe(table);
  const { Items } = await dynamodb.send(new QueryCommand({ TableName: table, IndexName: 'byName', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': item.pk } }));
  expect(Items).toEqual([item]);
  expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' }))).Body!.transformToString()).toBe('still here');
  dynamodb.destroy();
  s3.destroy();
  await cloud.stop();

  // Nothing changed: the assembly is reused as well, and the functions run from the cached bundles.
  cloud = await start();
  expect(cloud.build).toEqual({ synthesized: false, bundlesBuilt: 0, bundlesReused: bundles });
  expect(await (await fetch(`${cloud.apiUrl}/health`)).json()).toEqual({ status: 'ok' });
  ({ dynamodb, s3 } = clients(cloud));
  expect((await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } }))).Item).toEqual(item);
  dynamodb.destroy();
  s3.destroy();
  await cloud.stop();

  // Fresh wipes the caches with the data: everything is built again.
  cloud = await start({ fresh: true });
  expect(cloud.build).toEqual({ synthesized: true, bundlesBuilt: bundles, bundlesReused: 0 });
  ({ dynamodb, s3 } = clients(cloud));
  expect((await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } }))).Item).toBeUndefined();
  await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  dynamodb.destroy();
  s3.destroy();
  await cloud.stop();
});
