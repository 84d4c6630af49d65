import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamEvent } from 'aws-lambda';
import type { BufferedRequest } from '../../../infra/local-cloud/aws-protocol/http';
import type { LocalCloud } from '../../../infra/local-cloud/local-cloud';
import { connectivityEvent, putEvents } from '../iap-helpers';
import { baseTime, EVERY, expected, expectOk, S, update, valuesApi, valuesPath, type Json, type Page } from '../iap-values-helpers';
import { eventually, startTestCloud } from '../local-cloud-helpers';

/**
 * The IAP log value routes on the local cloud where a test needs its hooks: DynamoDB faults injected at
 * the edge (`cloud.intercept('dynamodb', …)`), a batch handed to the datapoint-logger directly, the TTL
 * sweep run on demand. The rest of the value routes: ../iap-log-values.test.ts.
 */

jest.setTimeout(120_000);

let cloud: LocalCloud;
let kinesis: KinesisClient;
let doc: DynamoDBDocumentClient;
let streamName: string;
let table: string;

beforeAll(async () => {
  cloud = await startTestCloud();
  const config = { region: cloud.region, endpoint: cloud.edgeUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  kinesis = new KinesisClient(config);
  doc = DynamoDBDocumentClient.from(new DynamoDBClient(config));
  streamName = cloud.outputs.EventStreamName!;
  table = cloud.outputs.DatapointLogTableName!;
});

afterAll(async () => {
  kinesis?.destroy();
  doc?.destroy();
  await cloud?.stop();
});

const { tenant, api, configure, valuesWhen, storedItems } = valuesApi(() => ({
  deployment: { apiUrl: cloud.apiUrl, token: (request) => cloud.issuer.sign(request) },
  doc,
  table,
}));

const targetOf = (request: BufferedRequest) => request.headers['x-amz-target'] ?? '';
const bodyOf = (request: BufferedRequest) => request.body.toString('utf8');
const throttled = () => ({
  status: 400,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'throttled' }),
});
const internalError = () => ({
  status: 500,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected' }),
});

// ---- tests ----------------------------------------------------------------------------------------

describe('retention', () => {
  it('hides a value once its level\'s retention has passed, although the item is still in the table; TTL then removes it', async () => {
    const { oemId, token } = await tenant('expiry');
    const dsn = 'EXP001';
    const retentionDays = 0.00005; // 4.32 s
    const windowMs = Math.round(retentionDays * 24 * 3600 * S);
    await configure(token, dsn, 'temp', { level1: { interval: 0, retention: retentionDays }, minDeltaValue: 'always' });
    const at = Date.now();
    await putEvents(kinesis, streamName, [update(oemId, dsn, 'temp', 1, at)]);
    const path = valuesPath(dsn, '*', '*', '*');
    const [seen] = await valuesWhen(token, path, 1, windowMs);
    expect(seen).toEqual(expected(dsn, 'temp', at, 1, [1]));
    const [item] = await storedItems(oemId, dsn, 'temp');
    expect(item).toMatchObject({ id: seen!.id, at, value: 1, expiresAt: Math.ceil((at + windowMs) / 1000) });

    await eventually(async () => ((await api('GET', path, token)).body.length === 0 ? true : undefined), 15_000, 'the value to expire');
    expect(Date.now()).toBeGreaterThanOrEqual(at + windowMs);
    // Still in the table (TTL deletes late; the background sweep cannot have run on it yet: it deletes
    // only once the TTL second is over, at least a second after reads stopped showing the value).
    expect(await storedItems(oemId, dsn, 'temp')).toEqual([item]);
    // A sweep deletes items whose TTL (epoch seconds) has passed: not at expiresAt itself.
    const expiresAt = item!.expiresAt as number;
    await cloud.sweepExpiredItems(expiresAt);
    expect(await storedItems(oemId, dsn, 'temp')).toEqual([item]);
    expect(expectOk(await api('GET', path, token))).toEqual([]);
    expect(expectOk(await api<Page>('GET', `${path}?pg=0`, token))).toEqual({ snapshot: expect.any(Number), resources: [], remainingPages: 0 });
    expect(expectOk(await api('GET', valuesPath(dsn, '*', '*', '*', String(seen!.id)), token))).toEqual([]);

    // One second later it goes.
    await cloud.sweepExpiredItems(expiresAt + 1);
    expect(await storedItems(oemId, dsn, 'temp')).toEqual([]);
  });
});

describe('faults and redelivery', () => {
  const logger = () => [...cloud.functions.values()].find((f) => f.definition.logicalId.startsWith('DatapointLoggerFunction'))!;

  /** A Kinesis event as Lambda would deliver it, records from `firstSeq` on. */
  function kinesisEvent(events: Json[], firstSeq: bigint): KinesisStreamEvent {
    return {
      Records: events.map((event, i) => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: String((event.metadata as Json).dsn),
          sequenceNumber: String(firstSeq + BigInt(i)),
          data: Buffer.from(JSON.stringify(event)).toString('base64'),
          approximateArrivalTimestamp: Date.now() / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-000000000077:${firstSeq + BigInt(i)}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
        awsRegion: cloud.region,
        eventSourceARN: cloud.outputs.EventStreamArn!,
      })),
    };
  }

  it('logs every value exactly once after BatchWriteItem is throttled for a while (the batch is retried)', async () => {
    const { oemId, token } = await tenant('throttle');
    const dsn = 'FLT001';
    const B = baseTime();
    await configure(token, dsn, 'temp', EVERY);
    let seen = 0;
    let injected = 0;
    cloud.intercept('dynamodb', async (request) => {
      if (!targetOf(request).endsWith('.BatchWriteItem') || !bodyOf(request).includes(oemId)) return undefined;
      seen++;
      // The first write (25 values) goes through; the next five are throttled: more than the SDK's
      // own retries, so the logger reports the batch and Lambda retries it, rewriting the first 25.
      if (seen >= 2 && injected < 5) {
        injected++;
        return throttled();
      }
      return undefined;
    });
    try {
      await putEvents(kinesis, streamName, Array.from({ length: 30 }, (_, k) => update(oemId, dsn, 'temp', k, B + k * 100)));
      const values = await valuesWhen(token, valuesPath('*', '*', '*', '*'), 30, 30_000);
      expect(injected).toBe(5);
      await new Promise((r) => setTimeout(r, 1000));
      const after = expectOk(await api('GET', valuesPath('*', '*', '*', '*'), token));
      expect(after).toEqual(values);
      expect(values.map((v) => v.value)).toEqual(Array.from({ length: 30 }, (_, k) => k));
      const datapointId = Math.floor(values[0]!.id / 1e9);
      expect(values.map((v) => v.id)).toEqual(Array.from({ length: 30 }, (_, k) => datapointId * 1e9 + k + 1));
      expect(await storedItems(oemId, dsn, 'temp')).toHaveLength(30);
    } finally {
      cloud.intercept('dynamodb', undefined);
    }
  });

  it('logs every value exactly once after the batch\'s last write (the device\'s UpdateItem) fails for a while', async () => {
    const { oemId, token } = await tenant('statefail');
    const dsn = 'FLT002';
    const B = baseTime();
    await configure(token, dsn, 'a', EVERY);
    await configure(token, dsn, 'b', EVERY);
    let injected = 0;
    cloud.intercept('dynamodb', async (request) => {
      const body = bodyOf(request);
      if (!targetOf(request).endsWith('.UpdateItem') || !body.includes(oemId) || !body.includes('#at')) return undefined;
      // Values (each carrying the logger's state) are written, then the device's update fails more often
      // than the SDK retries: the batch comes again and must write the same values, not new ones.
      if (injected < 7) {
        injected++;
        return injected % 2 === 0 ? throttled() : internalError();
      }
      return undefined;
    });
    try {
      const events = [...Array.from({ length: 20 }, (_, k) => update(oemId, dsn, k % 2 === 0 ? 'a' : 'b', k, B + k * 100)), connectivityEvent(oemId, dsn, 'Online', B + 2500)];
      await putEvents(kinesis, streamName, events);
      // The values are there from the first attempt on; the batch is done once the device is saved.
      const values = await valuesWhen(token, valuesPath('*', '*', '*', '*'), 20, 30_000);
      await eventually(async () => (injected >= 7 ? true : undefined), 30_000, 'the injected failures');
      await putEvents(kinesis, streamName, [update(oemId, dsn, 'b', 'sentinel', B + 30 * S)]);
      await valuesWhen(token, valuesPath('*', '*', '*', 'b', '*+value==sentinel'), 1, 30_000);
      expect(injected).toBe(7);
      expect(expectOk(await api('GET', valuesPath('*', '*', '*', '*', `*+utc<${new Date(B + 30 * S).toISOString()}`), token))).toEqual(values);
      expect(values.map((v) => v.value)).toEqual(Array.from({ length: 20 }, (_, k) => k));
      for (const name of ['a', 'b']) {
        const mine = values.filter((v) => v.datapointName === name).map((v) => v.id % 1e9);
        expect(mine).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        expect((await storedItems(oemId, dsn, name)).filter((i) => i.value !== 'sentinel')).toHaveLength(10);
      }

      // And the state is on the values: the same events again log nothing.
      await putEvents(kinesis, streamName, [...events, update(oemId, dsn, 'a', 'sentinel', B + 60 * S)]);
      const withSentinel = await valuesWhen(token, valuesPath('*', '*', '*', '*'), 22);
      expect(withSentinel.slice(0, 20)).toEqual(values);
      expect(withSentinel.slice(20).map((v) => [v.datapointName, v.value])).toEqual([['b', 'sentinel'], ['a', 'sentinel']]);
    } finally {
      cloud.intercept('dynamodb', undefined);
    }
  });

  // Regression test (fixed; the bug was in lambdas/datapoint-logs/logger.ts:69-70): device facts of the batch are stored before the
  // values are written; when the value write fails and the batch is retried, every value is stamped
  // with the device as it is AFTER the batch (here an update made while the device was online gets
  // deviceHealth "down" from a later Offline event in the same batch).
  it('keeps each value\'s device health as at its time when the batch is retried', async () => {
    const { oemId, token } = await tenant('retryfacts');
    const dsn = 'FLT003';
    const B = baseTime();
    await configure(token, dsn, 'temp', EVERY);
    let injected = 0;
    cloud.intercept('dynamodb', async (request) => {
      if (!targetOf(request).endsWith('.BatchWriteItem') || !bodyOf(request).includes(oemId) || injected >= 4) return undefined;
      injected++;
      return internalError();
    });
    try {
      await putEvents(kinesis, streamName, [update(oemId, dsn, 'temp', 1, B), connectivityEvent(oemId, dsn, 'Offline', B + S), update(oemId, dsn, 'temp', 2, B + 2 * S)]);
      const values = await valuesWhen(token, valuesPath('*', '*', '*', '*'), 2, 30_000);
      expect(injected).toBe(4);
      expect(values.map((v) => [v.value, v.deviceHealth])).toEqual([[1, 'normal'], [2, 'down']]);
    } finally {
      cloud.intercept('dynamodb', undefined);
    }
  });

  it('adds no value when the same Kinesis batch is delivered twice, or the same events come again on the stream', async () => {
    const { oemId, token } = await tenant('redeliver');
    const dsn = 'FLT004';
    const B = baseTime();
    await configure(token, dsn, 'temp', { level1: { interval: 0, retention: 1 }, minDeltaValue: 'any' });
    const events = [
      update(oemId, dsn, 'temp', 1, B),
      update(oemId, dsn, 'temp', 2, B + S),
      update(oemId, dsn, 'temp', 2, B + 2 * S), // same value: not logged (any)
      connectivityEvent(oemId, dsn, 'Offline', B + 2500),
      update(oemId, dsn, 'temp', 3, B + 3 * S),
      update(oemId, dsn, 'temp', 4, B + 3 * S), // another update in the same second: logged too
    ];
    const event = kinesisEvent(events, 7_700_000_000_000n);
    for (let delivery = 0; delivery < 2; delivery++) {
      const result = await logger().invoke(event);
      expect(result).toMatchObject({ ok: true, payload: { batchItemFailures: [] } });
    }
    const path = valuesPath('*', '*', '*', '*');
    const values = expectOk(await api('GET', path, token));
    expect(values).toEqual([
      expected(dsn, 'temp', B, 1, [1]),
      expected(dsn, 'temp', B + S, 2, [1]),
      expected(dsn, 'temp', B + 3 * S, 3, [1], { health: 'down' }),
      expected(dsn, 'temp', B + 3 * S, 4, [1], { health: 'down' }),
    ]);
    expect(values.map((v) => v.id % 1e9)).toEqual([1, 2, 3, 4]);

    // The same events once more through the stream (DSS may send an event twice), then a sentinel.
    await putEvents(kinesis, streamName, [...events, update(oemId, dsn, 'temp', 5, B + 10 * S)]);
    const after = await valuesWhen(token, path, 5);
    expect(after).toEqual([...values, expected(dsn, 'temp', B + 10 * S, 5, [1], { health: 'down' })]);
    expect(after.map((v) => v.id % 1e9)).toEqual([1, 2, 3, 4, 5]);
  });
});
