import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalCloud } from '../../../infra/local-cloud/local-cloud';
import { COUNTER_KEY, datapointKey, datapointNameKey, deviceKey, oemPartition, registryPartition } from '../../../lambdas/domain/datapoint-logs/keys';
import type { DatapointRef } from '../../../lambdas/domain/datapoint-logs/records';
import { migrateRegistry } from '../../../tools/migrate-datapoint-registry';
import { startTestCloud } from '../local-cloud-helpers';

/**
 * `npm run migrate:registry` (tools/migrate-datapoint-registry.ts) on the local cloud: a registry kept
 * under the OEM's single partition (as the stores wrote it before the buckets) is moved to the buckets,
 * an interrupted run resumes from its checkpoint, a second run changes nothing, and the IAP API then
 * answers with the moved configurations and devices.
 */

jest.setTimeout(180_000);

let cloud: LocalCloud;
let doc: DynamoDBDocumentClient;
let table: string;

beforeAll(async () => {
  cloud = await startTestCloud();
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: cloud.region, endpoint: cloud.edgeUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }));
  table = cloud.outputs.DatapointLogTableName!;
});

afterAll(async () => {
  doc?.destroy();
  await cloud?.stop();
});

const OEM = 'migr8oem';
const old = oemPartition(OEM);
const DEVICES = Array.from({ length: 10 }, (_, d) => `AC000W00000000${d}`);
const refs: DatapointRef[] = DEVICES.flatMap((dsn) => ['temp', 'hum', 'power'].map((name) => ({ dsn, block: 'device', blockIndex: 0, name })));
const T0 = Date.UTC(2026, 10, 1);

async function putLegacyRegistry(): Promise<void> {
  const items = [
    { pk: old, sk: COUNTER_KEY, n: refs.length },
    ...refs.map((ref, i) => ({
      pk: old, sk: datapointKey(ref), gsi1pk: old, gsi1sk: datapointNameKey(ref), type: 'datapoint', oemId: OEM, ...ref, id: i + 1, registeredAt: T0,
      ...(ref.name === 'temp' ? { configuredAt: T0 + 1000, l1i: 60, l1r: 7, mdv: 'always' } : {}),
      logger: { lastEventAt: T0, lastLoggedAt: T0, lastLoggedValue: 1, levelLastAt: [T0, null, null], logged: 3 },
    })),
    ...DEVICES.map((dsn) => ({ pk: old, sk: deviceKey(dsn), type: 'device', dsn, health: 'down', healthAt: T0, timeZone: 'Europe/Kirov', timeZoneAt: T0 })),
  ];
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

async function configuration(): Promise<Array<Record<string, unknown>>> {
  const token = await cloud.issuer.sign({ oemId: OEM });
  const reply = await fetch(`${cloud.apiUrl}/iap/devs/*/if/*/*/*/logs`, { headers: { authorization: `Bearer ${token}` } });
  expect(reply.status).toBe(200);
  return (await reply.json()) as Array<Record<string, unknown>>;
}

it('moves the registry to its buckets, resumes an interrupted run, and is a no-op when run again', async () => {
  await putLegacyRegistry();
  // Since the deploy, device 0 came back online (written in its bucket): the move must not undo it.
  await doc.send(new PutCommand({ TableName: table, Item: { pk: registryPartition(OEM, DEVICES[0]!), sk: deviceKey(DEVICES[0]!), type: 'device', dsn: DEVICES[0], health: 'normal', healthAt: T0 + 60_000 } }));
  expect(await configuration()).toEqual([]); // nothing in the buckets yet: the API does not see the old partition

  let checkpoint: Record<string, unknown> | undefined;
  const first = await migrateRegistry(doc, table, { pageSize: 7, maxPages: 2, checkpoint: async (key) => void (checkpoint = key) });
  expect(first.done).toBe(false);
  expect(checkpoint).toBeDefined();
  const rest = await migrateRegistry(doc, table, { pageSize: 50, startKey: checkpoint!, checkpoint: async (key) => void (checkpoint = key) });
  expect(rest.done).toBe(true);
  expect(checkpoint).toBeUndefined();
  expect(first.datapoints + rest.datapoints).toBe(refs.length);
  expect(first.devices + rest.devices).toBe(DEVICES.length);

  // Only the id counter is left in the old partition.
  const left = await doc.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': old } }));
  expect(left.Items!.map((item) => item.sk)).toEqual([COUNTER_KEY]);

  const again = await migrateRegistry(doc, table);
  expect(again).toMatchObject({ done: true, datapoints: 0, devices: 0, alreadyMoved: 0 });

  const entries = await configuration();
  expect(entries).toHaveLength(refs.length);
  const temp0 = entries.find((e) => e.deviceId === DEVICES[0] && e.datapointName === 'temp')!;
  expect(temp0).toMatchObject({ id: 1, deviceHealth: 'normal', root: { level1: { interval: 60, retention: 7 }, minDeltaValue: 'ALWAYS' } });
  const hum1 = entries.find((e) => e.deviceId === DEVICES[1] && e.datapointName === 'hum')!;
  expect(hum1).toMatchObject({ id: 5, deviceHealth: 'down', root: { level1: { retention: 0 } } });
  expect(String(hum1.local)).toContain('Europe/Kirov');
});
