/**
 * The export at fleet scale, scaled down to this machine: N shards' stage-1 invocations at once, batches
 * shaped as Lambda delivers them (≤ 10,000 records, ≤ 6 MiB of event payload), 1,000 OEMs, 5 event types,
 * then the planner and every compaction task of the window, all with the real domain code against the
 * in-memory bucket of the unit tests behind a store that waits 25 ms per S3 request and counts requests
 * by kind. Peak memory of one stage-1 and one stage-2 task is measured in child processes
 * (`node --expose-gc --import tsx bench/export-scale.ts stage1|stage2 <input>`).
 *
 * What it measures feeds the cost model (bench/export-cost.ts): request counts per batch, per window and
 * per task, handler wall and CPU times, memory per row.
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULT_COMPACTION_DELAY_SECONDS,
  DEFAULT_COMPACTION_PARTITIONS,
  DEFAULT_EXPORT_BATCHING_WINDOW_SECONDS,
  DEFAULT_EXPORT_WINDOW_MINUTES,
  DEFAULT_FILE_SIZE_CAP_MB,
  EXPORT_BATCH_SIZE,
} from '../infra/constructs/device-event-export';
import { streamRecords } from '../lambdas/adapters/kinesis-batch';
import { decodeEvent } from '../lambdas/domain/device-events';
import { runCompactionTask } from '../lambdas/domain/export/compaction';
import { READS_IN_FLIGHT } from '../lambdas/domain/export/concurrency';
import { csvRow, CRLF, eventTime, headerRow } from '../lambdas/domain/export/csv';
import { dispatchedKey, STAGING_PREFIX } from '../lambdas/domain/export/layout';
import { planCompaction, planningDelay, PLANNER_LOOKBACK_WINDOWS } from '../lambdas/domain/export/planner';
import type { ByteRange, CompactionMessage, CompactionQueue, ExportStore, Listing, ObjectBody } from '../lambdas/domain/export/ports';
import { writeStagedBatch, type StageOptions } from '../lambdas/domain/export/stage-batch';
import { windowKey } from '../lambdas/domain/export/windows';
import { MemoryCompactionQueue } from '../test/helpers/memory-compaction-queue';
import { MemoryExportStore } from '../test/helpers/memory-export-store';
import { createFleet } from '../tools/simulator/fleet';
import type { Figure } from './datapoint-logs';

// The stack's defaults (infra/constructs/device-event-export.ts).
export const WINDOW_MS = DEFAULT_EXPORT_WINDOW_MINUTES * 60_000;
export const GRACE_MS = DEFAULT_COMPACTION_DELAY_SECONDS * 1000;
export const PARTITIONS = DEFAULT_COMPACTION_PARTITIONS;
export const BATCHING_WINDOW_MS = DEFAULT_EXPORT_BATCHING_WINDOW_SECONDS * 1000;
export const FILE_SIZE_CAP_BYTES = DEFAULT_FILE_SIZE_CAP_MB * 1024 * 1024;
/** Lambda memory of each stage, as the construct configures it (MB). */
export const MEMORY_MB = { stage1: 1024, planner: 512, compactor: 3008 } as const;
/** Requests in flight: the defaults of planCompaction and runCompactionTask (the handlers pass none). */
export const PLANNER_READS_IN_FLIGHT = READS_IN_FLIGHT;
export const TASK_IO_IN_FLIGHT = READS_IN_FLIGHT;
/** Lambda gives a function one vCPU at 1,769 MB, and CPU in proportion to memory below that. */
export const MB_PER_VCPU = 1769;

/** Lambda's invocation payload limit, which caps a Kinesis batch before its 10,000 records. */
export const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
export const LATENCY_MS = 25;
export const SHARDS = 8;
const OEMS = 1000;
const DEVICES_PER_OEM = 10;
/** Per-shard write rate at fleet scale: 1M devices at one event a minute over 24 shards. */
export const FLEET_RATE_PER_SHARD = 1_000_000 / 60 / 24;
/** A window start on the epoch grid (any would do). */
const WINDOW_START = Date.UTC(2026, 10, 22, 9, 30);
/** S3 list pages and DeleteObjects requests hold at most 1,000 keys; SQS batches 10 entries. */
const KEYS_PER_REQUEST = 1000;
const SQS_BATCH = 10;

const ROOT = path.resolve(__dirname, '..');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nowNs = () => process.hrtime.bigint();
const msSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

// ---------------------------------------------------------------------------------------------------------
// Counting, slow bucket and queue

export const REQUEST_KINDS = ['PUT', 'GET', 'LIST', 'DELETE', 'HEAD', 'SQS'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
export type Counts = Record<RequestKind, number>;
export type Phase = 'stage1' | 'planner' | 'compaction';

export const noCounts = (): Counts => ({ PUT: 0, GET: 0, LIST: 0, DELETE: 0, HEAD: 0, SQS: 0 });
export const addCounts = (a: Counts, b: Counts): Counts => {
  const sum = noCounts();
  for (const k of REQUEST_KINDS) sum[k] = a[k] + b[k];
  return sum;
};
const diffCounts = (after: Counts, before: Counts): Counts => {
  const d = noCounts();
  for (const k of REQUEST_KINDS) d[k] = after[k] - before[k];
  return d;
};

/** Requests of each kind per phase, shared by the bucket and the queue. */
class RequestLog {
  phase: Phase = 'stage1';
  readonly byPhase: Record<Phase, Counts> = { stage1: noCounts(), planner: noCounts(), compaction: noCounts() };

  count(kind: RequestKind, n = 1): void {
    this.byPhase[this.phase][kind] += n;
  }

  total(): Counts {
    return addCounts(addCounts(this.byPhase.stage1, this.byPhase.planner), this.byPhase.compaction);
  }
}

/**
 * The in-memory bucket as S3 would serve the adapter's requests: each request waits `latencyMs` and
 * is counted. The S3 adapter lists 1,000 keys a page and deletes 1,000 keys a request, one after the
 * other, so those calls cost one request (and one latency) per page.
 */
class SlowCountingStore implements ExportStore {
  constructor(
    readonly inner: MemoryExportStore,
    private readonly log: RequestLog,
    private readonly latencyMs: number,
  ) {}

  private async request<T>(kind: RequestKind, call: () => Promise<T>, requests = 1): Promise<T> {
    for (let i = 0; i < requests; i++) {
      this.log.count(kind);
      await sleep(this.latencyMs);
    }
    return call();
  }

  createIfAbsent(key: string, body: ObjectBody, contentType: string): Promise<'created' | 'exists'> {
    return this.request('PUT', () => this.inner.createIfAbsent(key, body, contentType));
  }

  put(key: string, body: ObjectBody, contentType: string): Promise<void> {
    return this.request('PUT', () => this.inner.put(key, body, contentType));
  }

  getText(key: string): Promise<string | undefined> {
    return this.request('GET', () => this.inner.getText(key));
  }

  getBytes(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    return this.request('GET', () => this.inner.getBytes(key, range));
  }

  exists(key: string): Promise<boolean> {
    return this.request('HEAD', () => this.inner.exists(key));
  }

  async list(prefix: string, delimiter?: string): Promise<Listing> {
    const listing = await this.inner.list(prefix, delimiter);
    const pages = Math.max(1, Math.ceil((listing.objects.length + listing.prefixes.length) / KEYS_PER_REQUEST));
    return this.request('LIST', async () => listing, pages);
  }

  deleteMany(keys: readonly string[]): Promise<void> {
    return this.request('DELETE', () => this.inner.deleteMany(keys), Math.ceil(keys.length / KEYS_PER_REQUEST));
  }
}

/** The FIFO queue as the SQS adapter uses it: SendMessageBatch of 10 entries, one after the other. */
class SlowCountingQueue implements CompactionQueue {
  readonly inner = new MemoryCompactionQueue();

  constructor(
    private readonly log: RequestLog,
    private readonly latencyMs: number,
  ) {}

  async send(messages: readonly CompactionMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += SQS_BATCH) {
      this.log.count('SQS');
      await sleep(this.latencyMs);
    }
    await this.inner.send(messages);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The load: a fleet's events dealt to shards by partition key, cut into Lambda batches

const ACCOUNT = '123456789012';
const STREAM_ARN = `arn:aws:kinesis:us-east-1:${ACCOUNT}:stream/DevicePipeline-DeviceEventStreamA1B2C3D4-AbCdEfGhIjKl`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/DevicePipeline-ExportStagerServiceRoleA1B2C3D4-AbCdEfGhIjKl`;
/** Kinesis sequence numbers have 56 digits. */
const SEQUENCE_BASE = 49_656_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;
const EVENT_ENVELOPE_BYTES = Buffer.byteLength('{"Records":[]}');

/** A record as Lambda's Kinesis event carries it. */
function kinesisRecord(shardId: string, sequenceNumber: string, partitionKey: string, data: string, arrivalMs: number): KinesisStreamRecord {
  return {
    kinesis: { kinesisSchemaVersion: '1.0', partitionKey, sequenceNumber, data, approximateArrivalTimestamp: arrivalMs / 1000 },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: ROLE_ARN,
    awsRegion: 'us-east-1',
    eventSourceARN: STREAM_ARN,
  };
}

/** What the handler gets from one invocation: the runtime parses the payload, the adapter decodes the records. */
const invocationRecords = (payload: string) => streamRecords(JSON.parse(payload) as KinesisStreamEvent);

interface Batch {
  shard: number;
  event: KinesisStreamEvent;
  /** When Lambda hands it over: just after its last record arrived. */
  writeMs: number;
  payloadBytes: number;
}

interface Load {
  /** batches[round][shard]. */
  batches: Batch[][];
  /** Each event's expected row → event time (ms; NaN for a row two events share), for every event put. */
  expected: Map<string, number>;
  events: number;
  /** Events whose row equals an earlier one's (the export writes such a row once). */
  identicalRows: number;
  eventBytes: number;
  /** Σ per event of its size rounded up to 5 KiB (Firehose's ingestion unit). */
  eventBytesFirehoseBilled: number;
  oemTypePairs: number;
}

/**
 * Events of 1,000 OEMs' devices at the fleet's rate, each to the shard its partition key hashes to
 * (Kinesis uses MD5 of the key), cut into batches as Lambda does: a batch closes at 10,000 records or
 * when the next record would pass the 6 MiB payload. Generates until every shard has `rounds` batches.
 */
function buildLoad(rounds: number): Load {
  const fleet = createFleet({ oems: OEMS, devicesPerOem: DEVICES_PER_OEM, seed: 11 });
  const rate = FLEET_RATE_PER_SHARD * SHARDS;
  // Started 3 s before the window: the first batches (~7 s of a shard's records) are written in the
  // window but hold rows that arrived in the previous one (late rows, as at every window start).
  const start = WINDOW_START - 3000;
  const shards = Array.from({ length: SHARDS }, (_, s) => ({
    id: `shardId-${String(s).padStart(12, '0')}`,
    next: SEQUENCE_BASE + BigInt(s) * 10n ** 30n,
    done: [] as Batch[],
    open: [] as KinesisStreamRecord[],
    bytes: EVENT_ENVELOPE_BYTES,
    lastArrival: 0,
  }));
  const expected = new Map<string, number>();
  const pairs = new Set<string>();
  let events = 0;
  let identicalRows = 0;
  let eventBytes = 0;
  let billed = 0;
  const close = (s: (typeof shards)[number], index: number) => {
    s.done.push({ shard: index, event: { Records: s.open }, writeMs: s.lastArrival + 50, payloadBytes: s.bytes });
    s.open = [];
    s.bytes = EVENT_ENVELOPE_BYTES;
  };
  for (let i = 0; shards.some((s) => s.done.length < rounds); i++) {
    const arrivalMs = Math.floor(start + (i / rate) * 1000);
    const event = fleet.nextEvent(new Date(arrivalMs));
    const pk = event.metadata.dsn;
    const index = createHash('md5').update(pk).digest().readUInt32BE(0) % SHARDS;
    const shard = shards[index]!;
    if (shard.done.length >= rounds) continue; // never put: not expected either
    const data = Buffer.from(JSON.stringify(event));
    const record = kinesisRecord(shard.id, String(shard.next), pk, data.toString('base64'), arrivalMs);
    const recordBytes = Buffer.byteLength(JSON.stringify(record)) + 1;
    if (shard.open.length >= EXPORT_BATCH_SIZE || shard.bytes + recordBytes > PAYLOAD_LIMIT_BYTES) {
      close(shard, index);
      if (shard.done.length >= rounds) continue;
    }
    shard.next += 1n;
    shard.open.push(record);
    shard.bytes += recordBytes;
    shard.lastArrival = arrivalMs;
    const decoded = decodeEvent(data);
    if (!decoded.ok) throw new Error(`the fleet made an invalid event: ${decoded.reason}`);
    const row = csvRow(decoded.event, decoded.type);
    if (expected.has(row)) {
      // The export writes such a row once, at either copy's time: not a time to check the order by.
      identicalRows++;
      expected.set(row, NaN);
    } else expected.set(row, Date.parse(eventTime(decoded.event, decoded.type)) || arrivalMs);
    pairs.add(`${decoded.event.metadata.oem_id}\t${decoded.type}`);
    events++;
    eventBytes += data.length;
    billed += Math.ceil(data.length / 5120) * 5120;
  }
  const batches = Array.from({ length: rounds }, (_, r) => shards.map((s) => s.done[r]!));
  return { batches, expected, events, identicalRows, eventBytes, eventBytesFirehoseBilled: billed, oemTypePairs: pairs.size };
}

// ---------------------------------------------------------------------------------------------------------
// The export's output, checked against the events put

interface OutputCheck {
  files: number;
  rows: number;
  missing: number;
  duplicated: number;
  unexpected: number;
  unsortedFiles: number;
  badHeaders: number;
  maxFilesPerPair: number;
  rowsPerFile: { median: number; max: number; mean: number };
  maxFileBytes: number;
  csvBytes: number;
  stagingLeft: number;
}

/** Splits a CSV body into rows at CRLF outside quotes (a quoted field may hold CRLF). */
function csvRows(body: string): string[] {
  const rows: string[] = [];
  let pending: string | undefined;
  for (const piece of body.split(CRLF)) {
    const joined: string = pending === undefined ? piece : `${pending}${CRLF}${piece}`;
    let quotes = 0;
    for (let at = joined.indexOf('"'); at >= 0; at = joined.indexOf('"', at + 1)) quotes++;
    if (quotes % 2 === 1) pending = joined;
    else {
      rows.push(joined);
      pending = undefined;
    }
  }
  if (pending !== undefined) rows.push(pending);
  return rows;
}

function checkOutput(store: MemoryExportStore, expected: ReadonlyMap<string, number>): OutputCheck {
  const seen = new Map<string, number>();
  const filesPerPair = new Map<string, number>();
  const rowCounts: number[] = [];
  let unexpected = 0;
  let unsortedFiles = 0;
  let badHeaders = 0;
  let maxFileBytes = 0;
  let csvBytes = 0;
  const keys = store.keys().filter((k) => !k.startsWith('_') && k.endsWith('.csv'));
  for (const key of keys) {
    const [oemId, type] = key.split('/') as [string, string];
    filesPerPair.set(`${oemId}\t${type}`, (filesPerPair.get(`${oemId}\t${type}`) ?? 0) + 1);
    const body = store.text(key)!;
    maxFileBytes = Math.max(maxFileBytes, Buffer.byteLength(body));
    csvBytes += Buffer.byteLength(body);
    const rows = csvRows(body);
    if (rows.pop() !== '') badHeaders++; // every row ends with CRLF
    if (rows.shift() !== headerRow(type as Parameters<typeof headerRow>[0])) badHeaders++;
    rowCounts.push(rows.length);
    let last = -Infinity;
    let sorted = true;
    for (const row of rows) {
      const time = expected.get(row);
      if (time === undefined) {
        unexpected++;
        continue;
      }
      if (time < last) sorted = false;
      if (!Number.isNaN(time)) last = time;
      seen.set(row, (seen.get(row) ?? 0) + 1);
    }
    if (!sorted) unsortedFiles++;
  }
  let missing = 0;
  let duplicated = 0;
  for (const row of expected.keys()) {
    const n = seen.get(row) ?? 0;
    if (n === 0) missing++;
    else duplicated += n - 1;
  }
  const sortedCounts = [...rowCounts].sort((a, b) => a - b);
  return {
    files: keys.length,
    rows: rowCounts.reduce((a, b) => a + b, 0),
    missing,
    duplicated,
    unexpected,
    unsortedFiles,
    badHeaders,
    maxFilesPerPair: Math.max(0, ...filesPerPair.values()),
    rowsPerFile: {
      median: sortedCounts[Math.floor(sortedCounts.length / 2)] ?? 0,
      max: sortedCounts[sortedCounts.length - 1] ?? 0,
      mean: rowCounts.length ? rowCounts.reduce((a, b) => a + b, 0) / rowCounts.length : 0,
    },
    maxFileBytes,
    csvBytes,
    stagingLeft: store.keys(STAGING_PREFIX).length,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The run

export interface TimedCall {
  wallMs: number;
  cpuMs: number;
  records: number;
}

export interface TaskMeasurement {
  partition: number;
  wallMs: number;
  cpuMs: number;
  rows: number;
  objects: number;
  files: number;
  counts: Counts;
  /** Sequential request rounds the task waited for (its latency), from its counts and the code's concurrency. */
  latencyRounds: number;
}

export interface MemoryMeasurement {
  rows: number;
  /** Bytes of input: the batch's event payload (stage 1) or the partition's staged slices (stage 2). */
  inputBytes: number;
  peakHeapGrowthBytes: number;
  peakRssGrowthBytes: number;
  /** RSS of the child once its modules are loaded, before any data. */
  baseRssBytes: number;
  wallMs: number;
  cpuMs: number;
}

export interface ExportScaleMeasurement {
  runAt: string;
  loadAverage: [number, number, number];
  machine: string;
  latencyMs: number;
  shards: number;
  rounds: number;
  partitions: number;
  events: number;
  identicalRows: number;
  eventBytes: number;
  eventBytesFirehoseBilled: number;
  oemTypePairs: number;
  batches: number;
  recordsPerBatch: { min: number; mean: number; max: number };
  payloadBytesPerBatch: { mean: number; max: number };
  stagedBytes: number;
  /** Every stage-1 call of the concurrent rounds. */
  concurrentStage1: TimedCall[];
  /** Wall time of each round of `shards` concurrent calls. */
  roundWallMs: number[];
  /** One shard's batches, one after the other (what one shard's invocations do). */
  sequentialStage1: TimedCall[];
  sequentialStage1Puts: number;
  plannerIdle: { runs: number; wallMs: number[]; cpuMs: number[]; counts: Counts; sleepMs: number };
  plannerDue: { wallMs: number; cpuMs: number; counts: Counts; objects: number; latencyRounds: number };
  /** The due planner run's CPU time over many more staged objects (no latency): its fixed part and its part per object. */
  plannerScaling: { runs: Array<{ objects: number; cpuMs: number }>; fixedCpuMs: number; cpuMsPerObject: number };
  tasks: TaskMeasurement[];
  counts: Record<Phase, Counts>;
  output: OutputCheck;
  stage1Memory: MemoryMeasurement;
  stage2Memory: MemoryMeasurement;
}

const stageOptions = (partitions: number): StageOptions => ({ windowMs: WINDOW_MS, partitions });

/** Request rounds a planner run waits for, from its counts: as planCompaction issues them. */
function plannerRounds(counts: Counts, objects: number): number {
  // LISTs, the manifest GET and PUT, the dispatch marker PUT and each SQS batch one after the other;
  // the headers' GETs PLANNER_READS_IN_FLIGHT at a time.
  return counts.LIST + 1 + 2 + counts.SQS + Math.ceil(objects / PLANNER_READS_IN_FLIGHT) + (counts.GET - 1 - objects);
}

/** Request rounds a compaction task waits for: runCompactionTask's steps with TASK_IO_IN_FLIGHT reads and writes at a time. */
function taskRounds(counts: Counts, objects: number, files: number): number {
  const hashReads = counts.GET - 1 - objects;
  // HEAD done, GET manifest, slices, earlier hashes, files, hashes PUT, done PUT, LIST done, deletes.
  return 2 + Math.ceil(objects / TASK_IO_IN_FLIGHT) + Math.ceil(hashReads / TASK_IO_IN_FLIGHT) + Math.ceil(files / TASK_IO_IN_FLIGHT) + 2 + counts.LIST + counts.DELETE;
}

export async function measureExportScale(log: (line: string) => void, rounds = Number(process.env.BENCH_EXPORT_ROUNDS ?? 6)): Promise<ExportScaleMeasurement> {
  const loadAverage = os.loadavg() as [number, number, number];
  log(`  generating ${SHARDS} shards × ${rounds} batches of fleet events (1,000 OEMs)…`);
  const load = buildLoad(rounds);
  const allBatches = load.batches.flat();
  const records = allBatches.map((b) => b.event.Records.length);

  const requests = new RequestLog();
  const memory = new MemoryExportStore();
  const store = new SlowCountingStore(memory, requests, LATENCY_MS);
  const queue = new SlowCountingQueue(requests, LATENCY_MS);
  // Steady state: the windows before this one were planned already.
  for (let k = 1; k <= PLANNER_LOOKBACK_WINDOWS; k++) await memory.put(dispatchedKey(windowKey(WINDOW_START - k * WINDOW_MS)), '', 'text/plain');

  // Stage 1: every round, one batch per shard, all at once.
  log(`  stage 1: ${rounds} rounds of ${SHARDS} concurrent batches at ${LATENCY_MS} ms per request…`);
  requests.phase = 'stage1';
  const concurrentStage1: TimedCall[] = [];
  const roundWallMs: number[] = [];
  for (const round of load.batches) {
    const payloads = round.map((batch) => JSON.stringify(batch.event));
    const roundStart = nowNs();
    await Promise.all(
      round.map(async (batch, i) => {
        const start = nowNs();
        const outcome = await writeStagedBatch(invocationRecords(payloads[i]!), store, batch.writeMs, stageOptions(PARTITIONS));
        if (outcome.failure || outcome.invalid > 0) throw new Error(`stage 1 failed: ${outcome.failure?.error.message ?? `${outcome.invalid} invalid`}`);
        concurrentStage1.push({ wallMs: msSince(start), cpuMs: NaN, records: batch.event.Records.length });
      }),
    );
    roundWallMs.push(msSince(roundStart));
  }
  const stagedBytes = memory.keys(STAGING_PREFIX).reduce((n, k) => n + memory.objects.get(k)!.body.length, 0);
  // Their first bytes (the header), for the planner's CPU per object below.
  const heads = memory.keys(STAGING_PREFIX).map((k) => memory.objects.get(k)!.body.slice(0, 8192));

  // One shard's invocations one after the other, on a bucket of their own (its counts stay out).
  log('  stage 1: one shard’s batches one after the other…');
  const sequentialLog = new RequestLog();
  const sequentialStore = new SlowCountingStore(new MemoryExportStore(), sequentialLog, LATENCY_MS);
  const sequentialStage1: TimedCall[] = [];
  for (const round of load.batches) {
    const batch = round[0]!;
    const payload = JSON.stringify(batch.event);
    const start = nowNs();
    const cpu = process.cpuUsage();
    await writeStagedBatch(invocationRecords(payload), sequentialStore, batch.writeMs, stageOptions(PARTITIONS));
    sequentialStage1.push({ wallMs: msSince(start), cpuMs: cpuMsSince(cpu), records: batch.event.Records.length });
  }

  // The planner runs every minute; in four of a window's five minutes nothing is due.
  log('  planner: idle runs, then the window…');
  requests.phase = 'planner';
  const plannerOptions = { windowMs: WINDOW_MS, graceMs: GRACE_MS };
  const idleBefore = { ...requests.byPhase.planner };
  const idleWall: number[] = [];
  const idleCpu: number[] = [];
  for (let minute = 1; minute < WINDOW_MS / 60_000; minute++) {
    const start = nowNs();
    const cpu = process.cpuUsage();
    const planned = await planCompaction(store, queue, WINDOW_START + minute * 60_000 + GRACE_MS, plannerOptions);
    if (planned.length > 0) throw new Error('an idle planner run planned a window');
    idleWall.push(msSince(start));
    idleCpu.push(cpuMsSince(cpu));
  }
  const idleCounts = diffCounts(requests.byPhase.planner, idleBefore);
  const dueBefore = { ...requests.byPhase.planner };
  const dueStart = nowNs();
  const dueCpu = process.cpuUsage();
  const planned = await planCompaction(store, queue, WINDOW_START + WINDOW_MS + GRACE_MS, plannerOptions);
  const dueWall = msSince(dueStart);
  const dueCpuMs = cpuMsSince(dueCpu);
  const dueCounts = diffCounts(requests.byPhase.planner, dueBefore);
  if (planned.length !== 1) throw new Error(`the planner planned ${planned.length} windows, expected 1`);

  // Every task of the window, one at a time (on Lambda the partitions' tasks run side by side).
  log(`  compaction: ${planned[0]!.partitions} tasks…`);
  requests.phase = 'compaction';
  const tasks: TaskMeasurement[] = [];
  const failures = await queue.inner.drain(async (message) => {
    const before = { ...requests.byPhase.compaction };
    const start = nowNs();
    const cpu = process.cpuUsage();
    const outcome = await runCompactionTask(message, store, { fileSizeCapBytes: FILE_SIZE_CAP_BYTES });
    const wallMs = msSince(start);
    const cpuMs = cpuMsSince(cpu);
    const counts = diffCounts(requests.byPhase.compaction, before);
    tasks.push({ partition: message.partition, wallMs, cpuMs, rows: outcome.rows, objects: outcome.objects, files: outcome.files, counts, latencyRounds: taskRounds(counts, outcome.objects, outcome.files) });
  });
  if (failures > 0) throw new Error(`${failures} compaction tasks failed`);

  log('  planner CPU per staged object (200 and 2,000 objects)…');
  const plannerScaling = await measurePlannerScaling(heads);

  log('  checking every event against the files…');
  const output = checkOutput(memory, load.expected);

  log('  peak memory of one stage-1 and one stage-2 task (child processes)…');
  const stage1Memory = await measureStage1Memory(load.batches[0]![0]!);
  const stage2Memory = await measureStage2Memory(allBatches);

  return {
    runAt: new Date().toISOString(),
    loadAverage,
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node.js ${process.version}`,
    latencyMs: LATENCY_MS,
    shards: SHARDS,
    rounds,
    partitions: PARTITIONS,
    events: load.events,
    identicalRows: load.identicalRows,
    eventBytes: load.eventBytes,
    eventBytesFirehoseBilled: load.eventBytesFirehoseBilled,
    oemTypePairs: load.oemTypePairs,
    batches: allBatches.length,
    recordsPerBatch: { min: Math.min(...records), mean: load.events / allBatches.length, max: Math.max(...records) },
    payloadBytesPerBatch: { mean: allBatches.reduce((n, b) => n + b.payloadBytes, 0) / allBatches.length, max: Math.max(...allBatches.map((b) => b.payloadBytes)) },
    stagedBytes,
    concurrentStage1,
    roundWallMs,
    sequentialStage1,
    sequentialStage1Puts: sequentialLog.byPhase.stage1.PUT,
    plannerIdle: { runs: idleWall.length, wallMs: idleWall, cpuMs: idleCpu, counts: idleCounts, sleepMs: planningDelay(WINDOW_START + 60_000, GRACE_MS) },
    plannerDue: { wallMs: dueWall, cpuMs: dueCpuMs, counts: dueCounts, objects: planned[0]!.objects, latencyRounds: plannerRounds(dueCounts, planned[0]!.objects) },
    plannerScaling,
    tasks,
    counts: requests.byPhase,
    output,
    stage1Memory,
    stage2Memory,
  };
}

/**
 * The due planner run over 200 and 2,000 staged objects (the run's headers under more keys, no latency):
 * the slope is its CPU per object, which a window's few dozen objects here cannot separate from its fixed part.
 */
async function measurePlannerScaling(heads: readonly Uint8Array[]): Promise<ExportScaleMeasurement['plannerScaling']> {
  const run = async (objects: number) => {
    const memory = new MemoryExportStore();
    for (let k = 1; k <= PLANNER_LOOKBACK_WINDOWS; k++) await memory.put(dispatchedKey(windowKey(WINDOW_START - k * WINDOW_MS)), '', 'text/plain');
    for (let i = 0; i < objects; i++) {
      const key = `${STAGING_PREFIX}${windowKey(WINDOW_START)}/shardId-${String(i % 240).padStart(12, '0')}/${SEQUENCE_BASE + BigInt(i)}-${SEQUENCE_BASE + BigInt(i) + 4700n}.rows`;
      await memory.put(key, heads[i % heads.length]!, 'text/plain');
    }
    const cpu = process.cpuUsage();
    await planCompaction(memory, new MemoryCompactionQueue(), WINDOW_START + WINDOW_MS + GRACE_MS, { windowMs: WINDOW_MS, graceMs: GRACE_MS });
    return { objects, cpuMs: cpuMsSince(cpu) };
  };
  const runs: Array<{ objects: number; cpuMs: number }> = [];
  // Twice each, the lower kept: the first runs also compile the code.
  for (const objects of [200, 2000]) {
    const a = await run(objects);
    const b = await run(objects);
    runs.push(a.cpuMs <= b.cpuMs ? a : b);
  }
  const [small, large] = runs as [{ objects: number; cpuMs: number }, { objects: number; cpuMs: number }];
  const cpuMsPerObject = Math.max(0, (large.cpuMs - small.cpuMs) / (large.objects - small.objects));
  return { runs, fixedCpuMs: Math.max(0, small.cpuMs - cpuMsPerObject * small.objects), cpuMsPerObject };
}

// ---------------------------------------------------------------------------------------------------------
// Peak memory, each in a child process of its own

function runChild(args: string[]): MemoryMeasurement {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as MemoryMeasurement;
}

async function measureStage1Memory(batch: Batch): Promise<MemoryMeasurement> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-export-stage1-'));
  try {
    const file = path.join(dir, 'event.json');
    await writeFile(file, JSON.stringify({ payload: JSON.stringify(batch.event), writeMs: batch.writeMs }));
    return runChild(['stage1', file]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The whole run's batches staged again with ONE partition (no latency), so that one task holds every
 * row: its memory per row is then measured over the largest partition this machine can stage.
 */
async function measureStage2Memory(batches: readonly Batch[]): Promise<MemoryMeasurement> {
  const staged = new MemoryExportStore();
  for (const batch of batches) await writeStagedBatch(streamRecords(batch.event), staged, batch.writeMs, stageOptions(1));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-export-stage2-'));
  try {
    for (const key of staged.keys(STAGING_PREFIX)) await writeFile(path.join(dir, encodeURIComponent(key)), staged.objects.get(key)!.body);
    return runChild(['stage2', dir]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Samples heap and RSS at each storage call: where a stage's rows are all alive. */
class Sampler {
  peakHeap = 0;
  peakRss = 0;
  sample(): void {
    const m = process.memoryUsage();
    this.peakHeap = Math.max(this.peakHeap, m.heapUsed);
    this.peakRss = Math.max(this.peakRss, m.rss);
  }
}

/**
 * The store a measured task sees: heap and RSS sampled at every call; what it writes is kept as an empty
 * object (on AWS the bytes leave the process with the request, so they are no part of its memory).
 */
function sampling(store: ExportStore, sampler: Sampler): ExportStore {
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> => {
      sampler.sample();
      return fn(...args);
    };
  return {
    createIfAbsent: wrap((key: string, _body: ObjectBody, contentType: string) => store.createIfAbsent(key, '', contentType)),
    put: wrap((key: string, _body: ObjectBody, contentType: string) => store.put(key, '', contentType)),
    getText: wrap(store.getText.bind(store)),
    getBytes: wrap(store.getBytes.bind(store)),
    exists: wrap(store.exists.bind(store)),
    list: wrap(store.list.bind(store)),
    deleteMany: wrap(store.deleteMany.bind(store)),
  };
}

/** The child's side: one task, measured against the heap and RSS after a full GC with its input loaded. */
async function child(mode: string, input: string): Promise<MemoryMeasurement> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  const baseRssBytes = process.memoryUsage().rss;
  const sampler = new Sampler();
  const measure = async (rows: number, inputBytes: number, run: () => Promise<void>): Promise<MemoryMeasurement> => {
    gc();
    const before = process.memoryUsage();
    const start = nowNs();
    const cpu = process.cpuUsage();
    await run();
    const wallMs = msSince(start);
    const cpuMs = cpuMsSince(cpu);
    sampler.sample();
    // maxRSS is the process's high-water mark (KiB): it sees peaks between the samples too.
    const maxRss = Math.max(process.resourceUsage().maxRSS * 1024, sampler.peakRss);
    return { rows, inputBytes, peakHeapGrowthBytes: sampler.peakHeap - before.heapUsed, peakRssGrowthBytes: maxRss - before.rss, baseRssBytes, wallMs, cpuMs };
  };

  if (mode === 'stage1') {
    const { payload, writeMs } = JSON.parse(await readFile(input, 'utf8')) as { payload: string; writeMs: number };
    const records = (JSON.parse(payload) as KinesisStreamEvent).Records;
    const inputBytes = records.reduce((n, r) => n + Buffer.byteLength(r.kinesis.data, 'base64'), 0);
    const store = sampling(new MemoryExportStore(), sampler);
    // The payload text is the runtime's; the parsed event and everything after it are the invocation's.
    return measure(records.length, inputBytes, async () => {
      const outcome = await writeStagedBatch(invocationRecords(payload), store, writeMs, stageOptions(PARTITIONS));
      if (outcome.failure) throw outcome.failure.error;
    });
  }

  const memory = new MemoryExportStore();
  for (const name of await readdir(input)) await memory.put(decodeURIComponent(name), await readFile(path.join(input, name)), 'text/plain');
  const queue = new MemoryCompactionQueue();
  await planCompaction(memory, queue, WINDOW_START + WINDOW_MS + GRACE_MS, { windowMs: WINDOW_MS, graceMs: GRACE_MS });
  const message = queue.accepted[0];
  if (!message || queue.accepted.length !== 1) throw new Error('expected one compaction task');
  const inputBytes = memory.keys(STAGING_PREFIX).reduce((n, k) => n + memory.objects.get(k)!.body.length, 0);
  const store = sampling(memory, sampler);
  let rows = 0;
  const result = await measure(0, inputBytes, async () => {
    rows = (await runCompactionTask(message, store, { fileSizeCapBytes: FILE_SIZE_CAP_BYTES })).rows;
  });
  return { ...result, rows };
}

if (require.main === module) {
  const [mode, input] = process.argv.slice(2);
  if ((mode !== 'stage1' && mode !== 'stage2') || !input) throw new Error('usage: export-scale.ts stage1|stage2 <input>');
  void child(mode, input).then((m) => process.stdout.write(JSON.stringify(m)));
}

// ---------------------------------------------------------------------------------------------------------
// Figures

export const SCALE_SECTION = `Export at fleet scale (in-memory S3, ${LATENCY_MS} ms per request)`;

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/** The worst case from an event's put to its row being visible, as measured here (ms), and its parts. */
export function measuredLag(m: ExportScaleMeasurement): { total: number; batching: number; stage1: number; window: number; grace: number; planner: number; task: number } {
  const parts = {
    batching: BATCHING_WINDOW_MS,
    stage1: Math.max(...m.sequentialStage1.map((c) => c.wallMs)),
    window: WINDOW_MS,
    grace: GRACE_MS,
    planner: m.plannerDue.wallMs,
    // The partitions' tasks run side by side: the slowest one decides.
    task: Math.max(...m.tasks.map((t) => t.wallMs)),
  };
  return { ...parts, total: parts.batching + parts.stage1 + parts.window + parts.grace + parts.planner + parts.task };
}

export function exportScaleFigures(m: ExportScaleMeasurement): Figure[] {
  const section = SCALE_SECTION;
  const per1M = (n: number) => Math.round((n / m.events) * 1e6);
  const mib = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);
  const seqRecords = sum(m.sequentialStage1.map((c) => c.records));
  const seqWall = sum(m.sequentialStage1.map((c) => c.wallMs));
  const seqCpu = sum(m.sequentialStage1.map((c) => c.cpuMs));
  const perShard = seqRecords / (seqWall / 1000);
  // A 1,024 MB function has 1024/1769 of a vCPU: its CPU time stretches by 1769/1024; the PUT's wait does not.
  const atLambdaShare = seqRecords / ((seqCpu * (MB_PER_VCPU / MEMORY_MB.stage1) + m.sequentialStage1Puts * LATENCY_MS) / 1000);
  const stage1GbS = ((seqWall / seqRecords) * m.events * MEMORY_MB.stage1) / 1024 / 1000;
  const plannerGbS = ((m.plannerIdle.runs + 1) * m.plannerIdle.sleepMs + sum(m.plannerIdle.wallMs) + m.plannerDue.wallMs) * (MEMORY_MB.planner / 1024) / 1000;
  const compactorGbS = (sum(m.tasks.map((t) => t.wallMs)) * MEMORY_MB.compactor) / 1024 / 1000;
  const lag = measuredLag(m);
  const byKind = (kind: RequestKind) =>
    `${kind} requests per 1M events (stage 1 ${per1M(m.counts.stage1[kind])}, planner ${per1M(m.counts.planner[kind])}, compaction ${per1M(m.counts.compaction[kind])})`;
  const filesPerHour = m.output.maxFilesPerPair * (3_600_000 / WINDOW_MS);
  const o = m.output;
  return [
    {
      section,
      name: `events put: ${m.shards} shards × ${m.rounds} rounds of concurrent stage-1 batches (${m.recordsPerBatch.min.toLocaleString('en')}–${m.recordsPerBatch.max.toLocaleString('en')} records, ≤ ${mib(m.payloadBytesPerBatch.max)} MiB payload each), 1,000 OEMs, ${m.oemTypePairs.toLocaleString('en')} OEM × type pairs, one 5-minute window, P = ${m.partitions}`,
      value: m.events,
      unit: 'events',
    },
    ...(['PUT', 'GET', 'LIST', 'HEAD', 'DELETE'] as const).map((kind) => ({ section, name: `S3 ${byKind(kind)}`, value: per1M(m.counts.stage1[kind] + m.counts.planner[kind] + m.counts.compaction[kind]), unit: 'requests' })),
    { section, name: 'SQS requests per 1M events (planner’s SendMessageBatch)', value: per1M(m.counts.planner.SQS), unit: 'requests' },
    { section, name: `Lambda GB-s per 1M events, stage 1 (${MEMORY_MB.stage1} MB × one shard’s batches’ wall time)`, value: +((stage1GbS / m.events) * 1e6).toFixed(1), unit: 'GB-s' },
    {
      section,
      name: `Lambda GB-s per 1M events, planner (${MEMORY_MB.planner} MB × ${m.plannerIdle.runs + 1} runs a window, each waiting ${m.plannerIdle.sleepMs / 1000} s for the grace; fixed per window, so high at this small load)`,
      value: +((plannerGbS / m.events) * 1e6).toFixed(1),
      unit: 'GB-s',
    },
    { section, name: `Lambda GB-s per 1M events, compactor (${MEMORY_MB.compactor} MB × every task’s wall time)`, value: +((compactorGbS / m.events) * 1e6).toFixed(1), unit: 'GB-s' },
    {
      section,
      name: `files per OEM/type/hour at the ${WINDOW_MS / 60_000}-minute window (${o.files.toLocaleString('en')} files for ${m.oemTypePairs.toLocaleString('en')} pairs; largest ${(o.maxFileBytes / 1024).toFixed(1)} KiB, cap ${FILE_SIZE_CAP_BYTES / 2 ** 20} MiB)`,
      value: filesPerHour,
      unit: 'files',
      goal: '≤ 12',
      pass: filesPerHour <= 12,
    },
    { section, name: `rows per file: mean (median ${o.rowsPerFile.median}, max ${o.rowsPerFile.max})`, value: +o.rowsPerFile.mean.toFixed(1), unit: 'rows' },
    {
      section,
      name: `stage 1, one shard’s ${m.rounds} batches one after the other: records / handler wall time (CPU ${Math.round(seqCpu)} ms of ${Math.round(seqWall)} ms)`,
      value: Math.round(perShard),
      unit: 'records/s',
      baseline: { name: 'a shard’s write limit', value: 1000, unit: 'records/s' },
      ratio: perShard / 1000,
      goal: '≥ 1',
      pass: perShard >= 1000,
    },
    {
      section,
      name: `stage 1 at a ${MEMORY_MB.stage1} MB function’s CPU share (${MEMORY_MB.stage1}/${MB_PER_VCPU} vCPU): CPU time × ${(MB_PER_VCPU / MEMORY_MB.stage1).toFixed(2)} + the PUT’s ${LATENCY_MS} ms`,
      value: Math.round(atLambdaShare),
      unit: 'records/s',
      baseline: { name: 'a shard’s write limit', value: 1000, unit: 'records/s' },
      ratio: atLambdaShare / 1000,
      goal: '≥ 1',
      pass: atLambdaShare >= 1000,
    },
    {
      section,
      name: `stage 1, ${m.shards} shards’ batches at once on this machine’s ${os.cpus().length} cores (median round ${Math.round([...m.roundWallMs].sort((a, b) => a - b)[Math.floor(m.roundWallMs.length / 2)]!)} ms)`,
      value: Math.round(m.events / (sum(m.roundWallMs) / 1000)),
      unit: 'records/s',
    },
    {
      section,
      name: `lag put → visible, worst case = batching ${lag.batching / 1000} s + stage 1 ${(lag.stage1 / 1000).toFixed(2)} s + window ${lag.window / 1000} s + grace ${lag.grace / 1000} s + planner ${(lag.planner / 1000).toFixed(2)} s + slowest task ${(lag.task / 1000).toFixed(2)} s`,
      value: +(lag.total / 1000).toFixed(1),
      unit: 's',
      baseline: { name: 'window + 60 s', value: (WINDOW_MS + 60_000) / 1000, unit: 's' },
      ratio: lag.total / (WINDOW_MS + 60_000),
      goal: '≤ 1',
      pass: lag.total <= WINDOW_MS + 60_000,
    },
    {
      section,
      name: `peak memory of one stage-1 task, ${m.stage1Memory.rows.toLocaleString('en')} records: heap growth (RSS growth ${mib(m.stage1Memory.peakRssGrowthBytes)} MiB)`,
      value: mib(m.stage1Memory.peakHeapGrowthBytes),
      unit: 'MiB',
      baseline: { name: 'the batch’s event data', value: mib(m.stage1Memory.inputBytes), unit: 'MiB' },
      ratio: m.stage1Memory.peakHeapGrowthBytes / m.stage1Memory.inputBytes,
    },
    {
      section,
      name: `peak memory of one stage-2 task, ${m.stage2Memory.rows.toLocaleString('en')} rows in one partition: RSS growth (heap ${mib(m.stage2Memory.peakHeapGrowthBytes)} MiB; ${Math.round(m.stage2Memory.peakRssGrowthBytes / m.stage2Memory.rows).toLocaleString('en')} bytes per row)`,
      value: mib(m.stage2Memory.peakRssGrowthBytes),
      unit: 'MiB',
      baseline: { name: 'its staged slices', value: mib(m.stage2Memory.inputBytes), unit: 'MiB' },
      ratio: m.stage2Memory.peakRssGrowthBytes / m.stage2Memory.inputBytes,
    },
    {
      section,
      name: `events lost (no row in any file; ${m.identicalRows} events repeat an earlier event’s row and are written once, by design)`,
      value: o.missing,
      unit: 'events',
      goal: '0',
      pass: o.missing === 0,
    },
    { section, name: `rows written twice (and ${o.unexpected} rows no event put)`, value: o.duplicated, unit: 'rows', goal: '0', pass: o.duplicated === 0 && o.unexpected === 0 },
    { section, name: 'files with a wrong header or out of event-time order', value: o.unsortedFiles + o.badHeaders, unit: 'files', goal: '0', pass: o.unsortedFiles + o.badHeaders === 0 },
    { section, name: 'staged objects left after the window’s tasks', value: o.stagingLeft, unit: 'objects', goal: '0', pass: o.stagingLeft === 0 },
  ];
}
