/**
 * The job store and the rate limit counter on dynalite (the local cloud's DynamoDB engine): the
 * conditional writes that make a chunk count once however often it is delivered, bounded errors,
 * the TTL of job records, and request counters per OEM and window.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startDynamo } from '../../bench/dynamo-meter';
import { DynamoJobStore, jobKey } from '../../lambdas/adapters/dynamodb/job-store';
import { DynamoRequestCounter } from '../../lambdas/adapters/dynamodb/rate-limit-store';
import { JOB_TTL_DAYS, MAX_JOB_ERRORS, type JobRecord } from '../../lambdas/domain/iap-jobs/jobs';
import type { ChunkProgress } from '../../lambdas/domain/iap-jobs/ports';

const TABLE = 'job-store-test';
const RATES = 'rate-limit-test';
const NOW = Date.UTC(2026, 11, 2, 6, 0, 0);

function job(id: string, oemId = 'oem-a'): JobRecord {
  return {
    id, oemId, spec: { kind: 'value-delete', address: { id: '*', block: '*', block_index: '*', datapoint_name: '*', value_param: '*' } },
    path: '/iap/devs/*/if/*/*/*/logs/value/*', state: 'queued', done: 0, datapoints: 0, datapointsDone: 0, chunk: 0, errors: [], moreErrors: 0,
    createdAt: NOW, updatedAt: NOW,
  };
}

const progress = (done: number, cursor?: ChunkProgress['cursor']): ChunkProgress => ({
  done, datapointsDone: 1, datapoints: 3, errors: [], state: cursor ? 'running' : 'succeeded', ...(cursor ? { cursor } : {}),
});

describe('job store and rate limit counters on dynalite', () => {
  let dynamo: Awaited<ReturnType<typeof startDynamo>>;
  let store: DynamoJobStore;

  beforeAll(async () => {
    dynamo = await startDynamo(TABLE);
    store = new DynamoJobStore(dynamo.doc, TABLE);
    await dynamo.doc.send(new CreateTableCommand({
      TableName: RATES, BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    }));
  }, 60_000);
  afterAll(() => dynamo.close());

  it('finds a job only with its OEM; a job id is created once', async () => {
    await store.create(job('a'.repeat(24)));
    expect(await store.get('oem-a', 'a'.repeat(24))).toEqual(job('a'.repeat(24)));
    expect(await store.get('oem-b', 'a'.repeat(24))).toBeUndefined();
    await expect(store.create(job('a'.repeat(24)))).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const item = await dynamo.doc.send(new GetCommand({ TableName: TABLE, Key: jobKey('oem-a', 'a'.repeat(24)) }));
    expect(item.Item).toMatchObject({ pk: 'JOB#oem-a#' + 'a'.repeat(24), sk: 'JOB', expiresAt: NOW / 1000 + JOB_TTL_DAYS * 86_400 });
  });

  it('records a chunk once: the same chunk again changes nothing; the cursor goes when the job is finished', async () => {
    const id = 'b'.repeat(24);
    await store.create(job(id));
    const cursor = { ref: { dsn: 'D1', block: 'device', blockIndex: 0, name: 'x' }, within: true, after: '000001#0000000001' };
    expect(await store.recordChunk('oem-a', id, 0, progress(700, cursor), NOW + 1000)).toBe(true);
    expect(await store.recordChunk('oem-a', id, 0, progress(700, cursor), NOW + 2000)).toBe(false);
    expect(await store.get('oem-a', id)).toMatchObject({ chunk: 1, done: 700, datapointsDone: 1, datapoints: 3, state: 'running', cursor, updatedAt: NOW + 1000 });
    expect(await store.recordChunk('oem-a', id, 1, progress(300), NOW + 3000)).toBe(true);
    const finished = await store.get('oem-a', id);
    expect(finished).toMatchObject({ chunk: 2, done: 1000, datapointsDone: 2, state: 'succeeded' });
    expect(finished).not.toHaveProperty('cursor');
  });

  it('sets the state only at the chunk it was read at, keeping the last errors and counting the older ones', async () => {
    const id = 'c'.repeat(24);
    await store.create(job(id));
    for (let i = 0; i < MAX_JOB_ERRORS + 2; i++) {
      expect(await store.setState('oem-a', id, 0, 'running', [{ at: NOW + i, message: `error ${i}` }], NOW + i + 1)).toBe(true);
    }
    const stored = (await store.get('oem-a', id))!;
    expect(stored.errors.map((e) => e.message)).toEqual(Array.from({ length: MAX_JOB_ERRORS }, (_, i) => `error ${i + 2}`));
    expect(stored.moreErrors).toBe(2);
    expect(await store.setState('oem-a', id, 5, 'failed', [], NOW + 100)).toBe(false);
    expect((await store.get('oem-a', id))!.state).toBe('running');
  });

  it('counts requests per key, the expiry set by the first', async () => {
    const counter = new DynamoRequestCounter(dynamo.doc, RATES);
    expect(await counter.increment('oem-a#10#1', 1000)).toBe(1);
    expect(await counter.increment('oem-a#10#1', 2000)).toBe(2);
    expect(await counter.increment('oem-b#10#1', 1000)).toBe(1);
    const item = await dynamo.doc.send(new GetCommand({ TableName: RATES, Key: { pk: 'oem-a#10#1' } }));
    expect(item.Item).toEqual({ pk: 'oem-a#10#1', n: 2, expiresAt: 1000 });
  });
});
