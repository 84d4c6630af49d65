/**
 * The datapoint log stores on dynalite (the local cloud's DynamoDB engine) with the table as the
 * construct defines it, the requests counted on the document client: how many writes the logger makes,
 * where its keys land, and reads across the registry's buckets.
 */
import { BatchWriteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamo, type Meter } from '../../bench/dynamo-meter';
import { DatapointLogStore } from '../../lambdas/adapters/dynamodb/datapoint-log-store';
import { ValueStore } from '../../lambdas/adapters/dynamodb/value-store';
import {
  BY_NAME_INDEX, COUNTER_KEY, datapointKey, datapointNameKey, oemPartition, REGISTRY_BUCKETS, registryPartition, valuePartition,
} from '../../lambdas/domain/datapoint-logs/keys';
import { logOemBatch, type BatchEvent } from '../../lambdas/domain/datapoint-logs/log-datapoints';
import type { DatapointRecord, DatapointRef } from '../../lambdas/domain/datapoint-logs/records';
import type { DeviceEvent } from '../../lambdas/domain/device-events';

const TABLE = 'datapoint-log-store-test';
const T0 = Date.UTC(2026, 10, 22);
const NOW = T0 + 3600_000;

function datapointEvent(oemId: string, dsn: string, name: string, at: number, value: number): BatchEvent {
  const ts = new Date(at).toISOString();
  const event = {
    metadata: { oem_id: oemId, oem_model: 'm', dsn, resource_tags: [], event_type: 'datapoint', property_name: name, display_name: name, base_type: 'integer' },
    datapoint: { id: `${dsn}-${name}-${at}`, updated_at: ts, created_at: ts, value, metadata: {} },
  } as unknown as DeviceEvent;
  return { event, arrivalMs: at };
}

const writes = (meter: Meter) => ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand'].reduce((n, c) => n + (meter.requests.get(c) ?? 0), 0);

describe('datapoint log stores on dynalite', () => {
  let dynamo: Awaited<ReturnType<typeof startDynamo>>;
  let stores: { registry: DatapointLogStore; values: ValueStore };

  beforeAll(async () => {
    dynamo = await startDynamo(TABLE);
    stores = { registry: new DatapointLogStore(dynamo.doc, TABLE), values: new ValueStore(dynamo.doc, TABLE) };
  });
  afterAll(() => dynamo.close());
  beforeEach(() => dynamo.meter.reset());

  // Regression test: every event of a datapoint nobody configured rewrote its logger state (lastEventAt)
  // on the registry item, which the name index projected in full: 1.49 write units per event, no value logged.
  it('writes nothing for an unconfigured datapoint\'s repeated events once it is registered', async () => {
    const oem = 'oem-unconfigured';
    await logOemBatch(oem, [datapointEvent(oem, 'D1', 'temp', T0, 1)], stores, NOW);
    expect(dynamo.meter.writesByKey.get(registryPartition(oem, 'D1'))).toBe(1); // the registration
    dynamo.meter.reset();
    for (let i = 1; i <= 5; i++) await logOemBatch(oem, [datapointEvent(oem, 'D1', 'temp', T0 + i * 60_000, i)], stores, NOW);
    expect(writes(dynamo.meter)).toBe(0);
    expect(dynamo.meter.writeUnits + dynamo.meter.indexWriteUnits).toBe(0);
    expect([...dynamo.meter.requests.keys()]).toEqual(['BatchGetItemCommand']);
  });

  it('writes one item per logged value, the state on it, and continues the sequence from it', async () => {
    const oem = 'oem-logging';
    const ref: DatapointRef = { dsn: 'D1', block: 'device', blockIndex: 0, name: 'temp' };
    const [record] = (await stores.registry.registerDatapoints(oem, [ref], NOW)).values();
    await stores.registry.updateConfig(oem, ref, { levels: { 1: { interval: 0, retention: 7 } }, minDeltaValue: 'always' }, NOW);
    dynamo.meter.reset();
    for (let i = 0; i < 4; i++) await logOemBatch(oem, [datapointEvent(oem, 'D1', 'temp', T0 + i * 60_000, i)], stores, NOW);
    expect(dynamo.meter.requests.get('BatchWriteItemCommand')).toBe(4);
    expect(dynamo.meter.requests.get('UpdateItemCommand')).toBeUndefined();
    expect(dynamo.meter.requests.get('PutItemCommand')).toBeUndefined();
    expect(dynamo.meter.writeUnits).toBe(4); // 1 unit per value: each item under 1 KB
    expect(dynamo.meter.indexWriteUnits).toBe(0);
    const page = await stores.values.valuePage(oem, ref, {}, 10);
    expect(page.values.map((v) => [v.sequence, v.id, v.value])).toEqual([0, 1, 2, 3].map((i) => [i + 1, record!.id * 1e9 + i + 1, i]));
    const states = await stores.values.loggerStates(oem, [ref]);
    expect(states.get(datapointKey(ref))).toMatchObject({ lastEventAt: T0 + 180_000, lastLoggedAt: T0 + 180_000, lastLoggedValue: 3, logged: 4, levelLastAt: [T0 + 180_000, undefined, undefined] });
    // A redelivered batch logs nothing (a duplicate of the latest value), an older update is out of order.
    const outcome = await logOemBatch(oem, [datapointEvent(oem, 'D1', 'temp', T0 + 180_000, 3), datapointEvent(oem, 'D1', 'temp', T0 + 60_000, 9)], stores, NOW);
    expect(outcome).toMatchObject({ logged: 0, skipped: 2 });
  });

  it('spreads an OEM\'s devices over its buckets: no registry partition takes more than a few times its share', async () => {
    const oem = 'oem-spread';
    const refs: DatapointRef[] = Array.from({ length: 800 }, (_, d) => ({ dsn: `AC000W${String(d).padStart(9, '0')}`, block: 'device', blockIndex: 0, name: 'temp' }));
    await stores.registry.registerDatapoints(oem, refs, NOW);
    const counts = [...dynamo.meter.writesByKey].filter(([pk]) => pk.startsWith(`${oemPartition(oem)}#`)).map(([, n]) => n);
    expect(counts).toHaveLength(REGISTRY_BUCKETS);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(800);
    expect(Math.max(...counts)).toBeLessThan((800 / REGISTRY_BUCKETS) * 1.5);
    // The OEM's single partition of before holds only the id counter: one write for the whole registration.
    expect(dynamo.meter.writesByKey.get(oemPartition(oem))).toBe(1);
  });

  it('reads across buckets in key order, by key and by name, a page per bucket at a time', async () => {
    const oem = 'oem-read';
    const refs: DatapointRef[] = [];
    for (let d = 0; d < 300; d++) for (const name of ['a', 'b']) refs.push({ dsn: `D${d}`, block: 'device', blockIndex: 0, name });
    await stores.registry.registerDatapoints(oem, refs, NOW);
    const all: DatapointRecord[] = [];
    for await (const dp of stores.registry.queryDatapoints(oem, {})) all.push(dp);
    expect(all.map(datapointKey)).toEqual(refs.map(datapointKey).sort());
    const byName: DatapointRecord[] = [];
    for await (const dp of stores.registry.queryDatapoints(oem, { name: 'b' })) byName.push(dp);
    expect(byName.map(datapointNameKey)).toEqual(refs.filter((r) => r.name === 'b').map(datapointNameKey).sort());
    // One device: its bucket only.
    dynamo.meter.reset();
    const one: DatapointRecord[] = [];
    for await (const dp of stores.registry.queryDatapoints(oem, { dsn: 'D7' })) one.push(dp);
    expect(one.map((d) => d.name)).toEqual(['a', 'b']);
    expect(dynamo.meter.requests.get('QueryCommand')).toBe(1);
  });

  it('keeps the name index to the selection attributes: a state-sized attribute is not in it', async () => {
    const oem = 'oem-index';
    const ref: DatapointRef = { dsn: 'D1', block: 'device', blockIndex: 0, name: 'temp' };
    await stores.registry.registerDatapoints(oem, [ref], NOW);
    await dynamo.doc.send(new PutCommand({
      TableName: TABLE,
      Item: { pk: registryPartition(oem, 'D1'), sk: datapointKey(ref), gsi1pk: registryPartition(oem, 'D1'), gsi1sk: datapointNameKey(ref), ...ref, id: 1, registeredAt: NOW, logger: { lastLoggedValue: 'x'.repeat(2000) } },
    }));
    const out = await dynamo.doc.send(new QueryCommand({ TableName: TABLE, IndexName: BY_NAME_INDEX, KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': registryPartition(oem, 'D1') } }));
    expect(out.Items).toHaveLength(1);
    expect(out.Items![0]).not.toHaveProperty('logger');
    expect(out.Items![0]).toMatchObject({ dsn: 'D1', name: 'temp', id: 1 });
  });

  it('moves a datapoint kept under the OEM\'s old single partition to its bucket when it is seen, with its id, configuration and state', async () => {
    const oem = 'oem-legacy';
    const ref: DatapointRef = { dsn: 'D9', block: 'device', blockIndex: 0, name: 'temp' };
    const old = oemPartition(oem);
    await dynamo.doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: [
      { PutRequest: { Item: { pk: old, sk: COUNTER_KEY, n: 41 } } },
      { PutRequest: { Item: { pk: old, sk: datapointKey(ref), gsi1pk: old, gsi1sk: datapointNameKey(ref), type: 'datapoint', oemId: oem, ...ref, id: 41, registeredAt: T0, l1i: 0, l1r: 7, mdv: 'always', logger: { lastEventAt: T0, lastLoggedAt: T0, lastLoggedValue: 5, levelLastAt: [T0, null, null], logged: 12 } } } },
    ] } }));
    const outcome = await logOemBatch(oem, [datapointEvent(oem, 'D9', 'temp', T0 + 60_000, 6), datapointEvent(oem, 'D9', 'new', T0 + 60_000, 1)], stores, NOW);
    expect(outcome.logged).toBe(1);
    const page = await stores.values.valuePage(oem, ref, {}, 10);
    expect(page.values.map((v) => [v.id, v.sequence])).toEqual([[41 * 1e9 + 13, 13]]); // its id, its sequence continued
    const [moved] = (await stores.registry.getDatapoints(oem, [ref])).values();
    expect(moved).toMatchObject({ id: 41, config: { minDeltaValue: 'always' } });
    const [fresh] = (await stores.registry.getDatapoints(oem, [{ ...ref, name: 'new' }])).values();
    expect(fresh!.id).toBe(42); // the counter goes on
    expect((await dynamo.doc.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': valuePartition(oem, ref) } }))).Items).toHaveLength(1);
  });

  it('never gives a new value the id of a deleted one, even when the deleted values were the latest', async () => {
    const oem = 'oem-delete';
    const ref: DatapointRef = { dsn: 'D1', block: 'device', blockIndex: 0, name: 'temp' };
    await stores.registry.registerDatapoints(oem, [ref], NOW);
    await stores.registry.updateConfig(oem, ref, { levels: { 1: { interval: 0, retention: 7 } }, minDeltaValue: 'always' }, NOW);
    for (let i = 0; i < 3; i++) await logOemBatch(oem, [datapointEvent(oem, 'D1', 'temp', T0 + i * 60_000, i)], stores, NOW);
    const before = (await stores.values.valuePage(oem, ref, {}, 10)).values;
    await stores.values.deleteValues(oem, before.slice(1).map((value) => ({ ref, value }))); // the latest two
    await logOemBatch(oem, [datapointEvent(oem, 'D1', 'temp', T0 + 5 * 60_000, 5)], stores, NOW);
    const after = (await stores.values.valuePage(oem, ref, {}, 10)).values;
    expect(after.map((v) => v.sequence)).toEqual([1, 4]);
    expect(before.map((v) => v.id)).not.toContain(after[1]!.id);
  });
});
