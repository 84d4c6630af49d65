import '../../functions/function-env';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { refId, valueSortKey } from '../../../../../lambdas/domain/datapoint-logs/keys';
import { applyPatch, DEFAULT_CONFIG, type ConfigPatch, type LogConfig } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import type { DatapointLogStores } from '../../../../../lambdas/domain/datapoint-logs/ports';
import {
  valueId, type DatapointRecord, type DatapointRef, type DatapointScope, type DeviceRecord, type StoredValue, type TimeRange,
} from '../../../../../lambdas/domain/datapoint-logs/records';
import { CHUNK_LIMITS, type ChunkLimits } from '../../../../../lambdas/domain/iap-jobs/chunks';
import { JOB_MAX_RECEIVES, jobReply, SYNC_MAX_DATAPOINTS, SYNC_MAX_VALUES, type ChunkMessage } from '../../../../../lambdas/domain/iap-jobs/jobs';
import { runChunkMessage, type ChunkOutcome } from '../../../../../lambdas/domain/iap-jobs/worker';
import { handleLogConfig } from '../../../../../lambdas/functions/iap-log-config/log-config';
import { handleLogValues } from '../../../../../lambdas/functions/iap-log-values/log-values';
import { getJob } from '../../../../../lambdas/functions/iap-jobs/handler';
import { HttpError } from '../../../../../lambdas/shared/http';
import { logger } from '../../../../../lambdas/shared/logger';
import { memoryStarter } from '../../../../helpers/memory-jobs';
import { jwtEvent } from '../../events';

/**
 * Bulk changes as jobs, in memory: the API handlers answer 202 past the synchronous bound and change
 * nothing themselves; the worker, one chunk per message, finishes the change; progress is recorded
 * once per chunk however often a message is delivered; failures show on the job.
 */

beforeAll(() => logger.setLogLevel('SILENT'));

const OEM = 'oem-jobs';
const S = 1000;
const DAY = 24 * 3600 * S;
const NOW = Date.parse('2026-03-01T12:00:00Z');
const KEEP: LogConfig = { ...DEFAULT_CONFIG, levels: [{ interval: 0, retention: 1, logMultiple: null }, { interval: 0, retention: 0, logMultiple: null }, { interval: 0, retention: 0, logMultiple: null }] };

/** A registry and value log in memory that really delete and update, as the DynamoDB stores do. */
function memoryStores(datapoints: number, valuesEach: number) {
  const records = new Map<string, DatapointRecord>();
  const values = new Map<string, StoredValue[]>();
  const calls = { deletes: 0, updates: 0, failDeletes: 0, failUpdates: 0 };
  for (let d = 0; d < datapoints; d++) {
    const record: DatapointRecord = { dsn: `D${String(d % 7).padStart(2, '0')}`, block: 'device', blockIndex: 0, name: `n${String(d).padStart(5, '0')}`, id: d + 1, registeredAt: NOW - DAY, config: KEEP };
    records.set(refId(record), record);
    values.set(refId(record), Array.from({ length: valuesEach }, (_, i) => ({
      id: valueId(record.id, i + 1), sequence: i + 1, at: NOW - 3600 * S + i * S, value: i, levels: [1], deviceState: 'provisioned', deviceHealth: 'normal',
      expiresAt: Math.ceil((NOW + DAY) / 1000), loggedAt: NOW - 3600 * S + i * S,
    })));
  }
  const registry = {
    async *queryDatapoints(oemId: string, scope: DatapointScope) {
      if (oemId !== OEM) return;
      for (const record of records.values()) {
        if (scope.dsn !== undefined && record.dsn !== scope.dsn) continue;
        if (scope.name !== undefined && record.name !== scope.name) continue;
        yield structuredClone(record);
      }
    },
    async getDevices(_oemId: string, dsns: readonly string[]) {
      return new Map(dsns.map((dsn): [string, DeviceRecord] => [dsn, { dsn, state: 'provisioned', health: 'normal' }]));
    },
    async updateConfig(_oemId: string, ref: DatapointRef, patch: ConfigPatch, now: number) {
      if (calls.failUpdates > 0 && calls.updates >= 100) {
        calls.failUpdates--;
        throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' });
      }
      calls.updates++;
      const record = records.get(refId(ref))!;
      record.config = applyPatch(record.config, patch);
      record.configuredAt = now;
      return structuredClone(record);
    },
    async registerDatapoints() {
      return new Map();
    },
  };
  const valueLog = {
    async valuePage(_oemId: string, ref: DatapointRef, range: TimeRange, limit: number, after?: string) {
      await new Promise((r) => setImmediate(r));
      const all = values.get(refId(ref)) ?? [];
      const page: StoredValue[] = [];
      let next: string | undefined;
      for (const value of all) {
        if (value.at < (range.from ?? 0) || value.at > (range.to ?? Number.MAX_SAFE_INTEGER)) continue;
        if (after !== undefined && valueSortKey(value.at, value.sequence) <= after) continue;
        if (page.length === limit) {
          next = valueSortKey(page[page.length - 1]!.at, page[page.length - 1]!.sequence);
          break;
        }
        page.push(value);
      }
      return next === undefined ? { values: page } : { values: page, next };
    },
    async deleteValues(_oemId: string, entries: ReadonlyArray<{ ref: DatapointRef; value: StoredValue }>) {
      if (calls.failDeletes > 0) {
        calls.failDeletes--;
        throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ThrottlingException' });
      }
      calls.deletes++;
      for (const { ref, value } of entries) {
        const list = values.get(refId(ref))!;
        const i = list.findIndex((v) => v.sequence === value.sequence);
        if (i >= 0) list.splice(i, 1);
      }
    },
  };
  const stored = () => [...values.values()].reduce((n, list) => n + list.length, 0);
  return { stores: { registry, values: valueLog } as unknown as DatapointLogStores, records, calls, stored };
}

function request(method: 'PUT' | 'DELETE', path: Record<string, string>, body?: unknown, oemId = OEM): APIGatewayProxyEventV2WithJWTAuthorizer {
  const route = path.value_param !== undefined
    ? 'DELETE /iap/devs/{id}/if/{block}/{block_index}/{datapoint_name}/logs/value/{value_param}'
    : `${method} /iap/devs/{id}/if/{block}/{block_index}/{datapoint_name}/logs/{setting}`;
  const event = jwtEvent({ sub: 'user-1', 'custom:oem_id': oemId }, route);
  return {
    ...event,
    rawPath: `/iap/devs/${path.id ?? '*'}/if/*/*/${path.datapoint_name ?? '*'}/logs/${path.value_param !== undefined ? `value/${path.value_param}` : path.setting ?? ''}`,
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method } },
    pathParameters: { id: '*', block: '*', block_index: '*', datapoint_name: '*', ...path },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  };
}

const budget = { remainingMs: () => 60_000 };

/** Delivers queued messages to the worker until the queue is empty (each delivery counted per message). */
async function drain(starter: ReturnType<typeof memoryStarter>, stores: DatapointLogStores, limits: ChunkLimits, onEach?: () => void): Promise<ChunkOutcome[]> {
  const outcomes: ChunkOutcome[] = [];
  const receives = new Map<string, number>();
  for (let guard = 0; starter.queue.messages.length > 0 && guard < 10_000; guard++) {
    const message = starter.queue.messages[0]!;
    const key = `${message.jobId}#${message.chunk}`;
    const count = (receives.get(key) ?? 0) + 1;
    receives.set(key, count);
    try {
      outcomes.push(await runChunkMessage({ jobs: starter.store, queue: starter.queue, stores, now: () => NOW, limits }, message, count, budget));
      starter.queue.messages.shift();
    } catch {
      outcomes.push('failed');
      // left on the queue: delivered again
    }
    onEach?.();
  }
  return outcomes;
}

const body = (reply: { body?: string }) => JSON.parse(reply.body ?? 'null') as Record<string, unknown>;

describe('value DELETE over more than the synchronous bound', () => {
  it('answers 202 with the job, deletes nothing itself; the worker deletes every value, progress growing chunk by chunk', async () => {
    const mem = memoryStores(12, 500); // 6,000 values > 5,000
    expect(mem.stored()).toBeGreaterThan(SYNC_MAX_VALUES);
    const starter = memoryStarter();
    const reply = await handleLogValues(request('DELETE', { value_param: '*' }), mem.stores, NOW, starter);
    expect(reply.statusCode).toBe(202);
    const accepted = body(reply);
    expect(accepted).toEqual({ jobId: expect.stringMatching(/^[0-9a-f]{24}$/), status: 'queued', href: `/iap/jobs/${accepted.jobId as string}` });
    expect(reply.headers?.location).toBe(accepted.href);
    expect(mem.stored()).toBe(6000);

    const outcomes = await drain(starter, mem.stores, { ...CHUNK_LIMITS, maxValues: 1000 });
    expect(mem.stored()).toBe(0);
    const job = (await starter.store.get(OEM, accepted.jobId as string))!;
    expect(jobReply(job)).toMatchObject({ state: 'succeeded', done: 6000, left: 0, kind: 'value-delete', datapoints: { done: 12, total: 12 }, errors: [] });
    expect(outcomes.filter((o) => o === 'recorded').length).toBeGreaterThanOrEqual(5);
    const progress = starter.store.history.map((h) => h.done);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.at(-1)).toBe(6000);
    // Mid-way, what is left is estimated from the values per datapoint so far.
    const midway = starter.store.history.find((h) => h.datapointsDone > 0 && h.state === 'running')!;
    expect(jobReply(midway)).toMatchObject({ state: 'running', estimated: true, left: Math.round((midway.done / midway.datapointsDone) * (12 - midway.datapointsDone)) });
  });

  it('deletes at most the bound synchronously (204), without a job', async () => {
    const mem = memoryStores(10, 500); // exactly 5,000
    const starter = memoryStarter();
    const reply = await handleLogValues(request('DELETE', { value_param: '*' }), mem.stores, NOW, starter);
    expect(reply.statusCode).toBe(204);
    expect(mem.stored()).toBe(0);
    expect(starter.queue.sent).toBe(0);
  });

  it('keeps to the address: values outside the time range and other datapoints stay', async () => {
    const mem = memoryStores(SYNC_MAX_DATAPOINTS + 20, 2);
    const starter = memoryStarter();
    const cut = new Date(NOW - 3600 * S).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const reply = await handleLogValues(request('DELETE', { id: 'D03', value_param: `*+utc>${cut}` }), mem.stores, NOW, starter);
    expect(reply.statusCode).toBe(204); // 74 datapoints of D03: under the datapoint bound
    const wide = await handleLogValues(request('DELETE', { value_param: `*+utc>${cut}` }), mem.stores, NOW, starter);
    expect(wide.statusCode).toBe(202);
    await drain(starter, mem.stores, { ...CHUNK_LIMITS, maxValues: 100 });
    // Only the second value of each datapoint was after the cut: the first values all stay.
    expect(mem.stored()).toBe(SYNC_MAX_DATAPOINTS + 20);
  });
});

describe('configuration PUT/DELETE over more than the synchronous bound', () => {
  it('answers 202; the worker changes every datapoint, counting datapoints done and left', async () => {
    const mem = memoryStores(SYNC_MAX_DATAPOINTS + 250, 0);
    const starter = memoryStarter();
    const reply = await handleLogConfig(request('PUT', { setting: '1' }, { interval: 60, retention: 3 }), mem.stores.registry, NOW, starter);
    expect(reply.statusCode).toBe(202);
    expect(mem.calls.updates).toBe(0);
    await drain(starter, mem.stores, { ...CHUNK_LIMITS, maxDatapoints: 100 });
    expect([...mem.records.values()].every((r) => r.config.levels[0].interval === 60 && r.config.levels[0].retention === 3)).toBe(true);
    expect(mem.calls.updates).toBe(750);
    const job = (await starter.store.get(OEM, body(reply).jobId as string))!;
    expect(jobReply(job)).toMatchObject({ state: 'succeeded', done: 750, left: 0, estimated: false, kind: 'config-update' });
    expect(jobReply(starter.store.history[0]!)).toMatchObject({ state: 'running', done: 100, left: 650, estimated: false });
  });

  it('a DELETE of a level and a whole-configuration PUT go the same way; at most the bound answers 200 with the entries', async () => {
    const mem = memoryStores(SYNC_MAX_DATAPOINTS + 1, 0);
    const starter = memoryStarter();
    expect((await handleLogConfig(request('DELETE', { setting: '1' }), mem.stores.registry, NOW, starter)).statusCode).toBe(202);
    expect((await handleLogConfig(request('PUT', {}, { minDeltaValue: 'always' }), mem.stores.registry, NOW, starter)).statusCode).toBe(202);
    await drain(starter, mem.stores, CHUNK_LIMITS);
    expect([...mem.records.values()].every((r) => r.config.levels[0].retention === 0 && r.config.minDeltaValue === 'always')).toBe(true);
    const small = memoryStores(SYNC_MAX_DATAPOINTS, 0);
    const sync = await handleLogConfig(request('PUT', { setting: 'minDeltaTime' }, 30), small.stores.registry, NOW, starter);
    expect(sync.statusCode).toBe(200);
    expect((JSON.parse(sync.body!) as unknown[]).length).toBe(SYNC_MAX_DATAPOINTS);
  });
});

describe('a synchronous change that fails part way', () => {
  it('a DELETE is handed to a job (202), never a 5xx after some values were deleted; the job finishes it', async () => {
    const mem = memoryStores(10, 500);
    const starter = memoryStarter();
    mem.calls.failDeletes = 0;
    let sent = 0;
    const values = mem.stores.values;
    const flaky = { ...mem.stores, values: { ...values, deleteValues: async (...args: Parameters<typeof values.deleteValues>) => {
      if (++sent === 50) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return values.deleteValues(...args);
    } } } as DatapointLogStores;
    const reply = await handleLogValues(request('DELETE', { value_param: '*' }), flaky, NOW, starter);
    expect(reply.statusCode).toBe(202);
    expect(mem.stored()).toBeGreaterThan(0);
    expect(mem.stored()).toBeLessThan(5000);
    await drain(starter, mem.stores, CHUNK_LIMITS);
    expect(mem.stored()).toBe(0);
    expect([...starter.store.jobs.values()].map((j) => [j.state, j.spec.kind])).toEqual([['succeeded', 'value-delete']]);
  });

  it('a PUT is handed to a job (202) after some datapoints changed; the job changes them all; a client mistake stays a 4xx', async () => {
    const mem = memoryStores(300, 0);
    const starter = memoryStarter();
    mem.calls.failUpdates = 1;
    const reply = await handleLogConfig(request('PUT', { setting: 'minDeltaTime' }, 45), mem.stores.registry, NOW, starter);
    expect(reply.statusCode).toBe(202);
    expect([...mem.records.values()].filter((r) => r.config.minDeltaTime === 45).length).toBeGreaterThanOrEqual(100);
    await drain(starter, mem.stores, CHUNK_LIMITS);
    expect([...mem.records.values()].every((r) => r.config.minDeltaTime === 45)).toBe(true);
    await expect(handleLogConfig(request('PUT', { setting: 'minDeltaTime' }, -1), mem.stores.registry, NOW, starter)).rejects.toMatchObject({ statusCode: 400 });
    // The queue down as well: a 503 that says the change was made in part and to repeat it.
    mem.calls.failUpdates = 1;
    mem.calls.updates = 100;
    starter.queue.failNext = 1;
    await expect(handleLogConfig(request('PUT', { setting: 'minDeltaTime' }, 50), mem.stores.registry, NOW, starter))
      .rejects.toMatchObject({ statusCode: 503, message: expect.stringContaining('repeat the request') });
  });
});

describe('the worker under redelivery and failure', () => {
  it('a chunk delivered twice counts once; a lost continuation is sent again by the redelivery', async () => {
    const starter = memoryStarter();
    // Over the bound through the datapoint count (6,012 values over 501 datapoints): a job.
    const wide = memoryStores(SYNC_MAX_DATAPOINTS + 1, 12);
    const reply = await handleLogValues(request('DELETE', { value_param: '*' }), wide.stores, NOW, starter);
    const id = body(reply).jobId as string;
    const deps = { jobs: starter.store, queue: starter.queue, stores: wide.stores, now: () => NOW, limits: { ...CHUNK_LIMITS, maxValues: 2000 } };
    const first: ChunkMessage = starter.queue.messages.shift()!;
    // The continuation's send fails: the chunk is recorded, the message comes back.
    starter.queue.failNext = 1;
    await expect(runChunkMessage(deps, first, 1, budget)).rejects.toThrow('SQS unavailable');
    const afterFirst = (await starter.store.get(OEM, id))!;
    expect(afterFirst).toMatchObject({ chunk: 1, done: 2004 });
    expect(starter.queue.messages).toEqual([]);
    // Redelivered: not done again, the continuation is sent.
    expect(await runChunkMessage(deps, first, 2, budget)).toBe('resent');
    expect(starter.queue.messages).toEqual([{ oemId: OEM, jobId: id, chunk: 1 }]);
    expect((await starter.store.get(OEM, id))!.done).toBe(2004);
    // A stale copy of chunk 0 after chunk 1 is recorded changes nothing.
    await drain(starter, wide.stores, deps.limits);
    expect(await runChunkMessage(deps, first, 3, budget)).toBe('finished-job');
    expect((await starter.store.get(OEM, id))!).toMatchObject({ state: 'succeeded', done: (SYNC_MAX_DATAPOINTS + 1) * 12 });
    expect(wide.stored()).toBe(0);
  });

  it('a failing chunk is retried with the error on the job; at the last delivery the job is failed, visibly', async () => {
    const mem = memoryStores(SYNC_MAX_DATAPOINTS + 1, 12);
    const starter = memoryStarter();
    const id = body(await handleLogValues(request('DELETE', { value_param: '*' }), mem.stores, NOW, starter)).jobId as string;
    mem.calls.failDeletes = 2;
    const outcomes = await drain(starter, mem.stores, CHUNK_LIMITS);
    expect(outcomes.slice(0, 2)).toEqual(['failed', 'failed']);
    const job = (await starter.store.get(OEM, id))!;
    expect(jobReply(job)).toMatchObject({ state: 'succeeded', errors: [expect.objectContaining({ message: expect.stringContaining('attempt 1 of 5 (retried): ThrottlingException') }), expect.anything()] });

    const broken = memoryStores(SYNC_MAX_DATAPOINTS + 1, 12);
    const failing = memoryStarter();
    const brokenId = body(await handleLogValues(request('DELETE', { value_param: '*' }), broken.stores, NOW, failing)).jobId as string;
    broken.calls.failDeletes = 1_000;
    const out = await drain(failing, broken.stores, CHUNK_LIMITS);
    expect(out).toEqual([...Array<ChunkOutcome>(JOB_MAX_RECEIVES - 1).fill('failed'), 'failed']);
    expect(failing.queue.messages).toEqual([]);
    expect(jobReply((await failing.store.get(OEM, brokenId))!)).toMatchObject({ state: 'failed', errors: expect.arrayContaining([expect.objectContaining({ message: expect.stringContaining('(the job stopped)') })]) });
  });

  it('a delivery past the last one marks the job failed without working on it', async () => {
    const mem = memoryStores(SYNC_MAX_DATAPOINTS + 1, 1);
    const starter = memoryStarter();
    const id = body(await handleLogValues(request('DELETE', { value_param: '*' }), mem.stores, NOW, starter)).jobId as string;
    const message = starter.queue.messages[0]!;
    expect(await runChunkMessage({ jobs: starter.store, queue: starter.queue, stores: mem.stores, now: () => NOW }, message, JOB_MAX_RECEIVES + 1, budget)).toBe('gave-up');
    expect((await starter.store.get(OEM, id))!.state).toBe('failed');
    expect(mem.stored()).toBe(SYNC_MAX_DATAPOINTS + 1);
  });

  it('stops at the time budget and goes on in the next chunk', async () => {
    const mem = memoryStores(SYNC_MAX_DATAPOINTS + 1, 10);
    const starter = memoryStarter();
    const id = body(await handleLogValues(request('DELETE', { value_param: '*' }), mem.stores, NOW, starter)).jobId as string;
    let left = 5;
    const message = starter.queue.messages.shift()!;
    // Time for five value pages, then the budget is spent.
    const outcome = await runChunkMessage({ jobs: starter.store, queue: starter.queue, stores: mem.stores, now: () => NOW }, message, 1, { remainingMs: () => (left-- > 0 ? 60_000 : 1_000) });
    expect(outcome).toBe('recorded');
    expect((await starter.store.get(OEM, id))!).toMatchObject({ done: 50, datapointsDone: 5, state: 'running' });
  });
});

describe('GET /iap/jobs/{id}', () => {
  it('answers the job to its OEM, 404 to another OEM or an unknown id, 400 to a malformed one', async () => {
    const mem = memoryStores(SYNC_MAX_DATAPOINTS + 1, 0);
    const starter = memoryStarter();
    const id = body(await handleLogConfig(request('PUT', { setting: '2' }, { retention: 1 }), mem.stores.registry, NOW, starter)).jobId as string;
    const get = (oemId: string, jobId: string) => {
      const event = jwtEvent({ sub: 'u', 'custom:oem_id': oemId }, 'GET /iap/jobs/{id}');
      return getJob({ ...event, pathParameters: { id: jobId } }, starter.store);
    };
    const mine = await get(OEM, id);
    expect(JSON.parse(mine.body!)).toEqual({
      id, kind: 'config-update', path: expect.stringContaining('/logs/2'), state: 'queued', done: 0, left: 0, estimated: false,
      datapoints: { done: 0, total: 0 }, errors: [], moreErrors: 0, createdAt: new Date(NOW).toISOString(), updatedAt: new Date(NOW).toISOString(),
    });
    await expect(get('other-oem', id)).rejects.toMatchObject({ statusCode: 404, code: 'NoSuchJob' });
    await expect(get(OEM, '../x')).rejects.toMatchObject({ statusCode: 400, code: 'BadPath' });
    await expect(get(OEM, 'f'.repeat(24))).rejects.toBeInstanceOf(HttpError);
  });

  it('a queue that refuses the first chunk is a 503 saying nothing changed, and the job shows failed', async () => {
    const mem = memoryStores(SYNC_MAX_DATAPOINTS + 1, 0);
    const starter = memoryStarter();
    starter.queue.failNext = 1;
    await expect(handleLogConfig(request('PUT', { setting: '2' }, { retention: 1 }), mem.stores.registry, NOW, starter)).rejects.toMatchObject({ statusCode: 503, headers: { 'retry-after': '5' } });
    expect([...starter.store.jobs.values()].map((j) => j.state)).toEqual(['failed']);
    expect(mem.calls.updates).toBe(0);
  });
});
