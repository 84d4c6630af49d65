import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../../infra/local-cloud/local-cloud';
import { createPipelineApp } from '../../../infra/pipeline-app';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '..', '..', '..');
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-cloud-restart-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

const start = (options: Partial<LocalCloudOptions> = {}) =>
  startLocalCloud({ rootDir: ROOT, dataDir, edgePort: 0, apiPort: 0, log: () => undefined, functionLog: () => undefined, ...options });

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

it('keeps data across restarts, adds indexes a newer template defines, and wipes everything with fresh', async () => {
  const item = { pk: { S: 'OEM#restart' }, sk: { S: 'DP#dev#device#0#temp' }, gsi1pk: { S: 'OEM#restart' }, gsi1sk: { S: 'NAME#temp#dev#device#0' } };

  let cloud = await start({ buildApp: appWithoutIndex });
  let { dynamodb, s3 } = clients(cloud);
  const table = cloud.outputs.DatapointLogTableName!;
  const bucket = cloud.outputs.ExportBucketName!;
  await dynamodb.send(new PutItemCommand({ TableName: table, Item: item }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept.txt', Body: 'still here' }));
  await expect(dynamodb.send(new QueryCommand({ TableName: table, IndexName: 'byName', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': item.pk } }))).rejects.toThrow();
  dynamodb.destroy();
  s3.destroy();
  await cloud.stop();

  cloud = await start();
  ({ dynamodb, s3 } = clients(cloud));
  expect(cloud.outputs.DatapointLogTableName).toBe(table);
  const { Items } = await dynamodb.send(new QueryCommand({ TableName: table, IndexName: 'byName', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': item.pk } }));
  expect(Items).toEqual([item]);
  expect(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' }))).Body!.transformToString()).toBe('still here');
  dynamodb.destroy();
  s3.destroy();
  await cloud.stop();

  cloud = await start({ fresh: true });
  ({ dynamodb, s3 } = clients(cloud));
  expect((await dynamodb.send(new GetItemCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } }))).Item).toBeUndefined();
  await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept.txt' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  dynamodb.destroy();
  s3.destroy();
  await cloud.stop();
});
