/**
 * The export's cost model: the request counts and handler times measured by bench/export-scale.ts,
 * scaled to a fleet by the formulas the code follows, times us-east-1 list prices; side by side with
 * Amazon Data Firehose with dynamic partitioning on the same load. Only measured counts, or counts
 * computed from the code's own formulas with measured inputs, go in.
 */
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Figure } from './datapoint-logs';
import {
  addCounts,
  exportScaleFigures,
  measureExportScale,
  measuredLag,
  REQUEST_KINDS,
  BATCHING_WINDOW_MS,
  FILE_SIZE_CAP_BYTES,
  GRACE_MS,
  MB_PER_VCPU,
  MEMORY_MB,
  noCounts,
  PARTITIONS,
  PAYLOAD_LIMIT_BYTES,
  PLANNER_READS_IN_FLIGHT,
  TASK_IO_IN_FLIGHT,
  WINDOW_MS,
  type Counts,
  type ExportScaleMeasurement,
} from './export-scale';
import { EXPORT_BATCH_SIZE } from '../infra/constructs/device-event-export';

/** When the prices below were read from the AWS pricing pages (us-east-1). */
export const PRICES_READ = '2026-12-02';

export const PRICES = {
  /** S3 Standard: PUT, COPY, POST, LIST per 1,000 requests. */
  s3PutListPer1000: 0.005,
  /** S3 Standard: GET, SELECT and all other requests (HEAD) per 1,000. */
  s3GetPer1000: 0.0004,
  /** DELETE (and DeleteObjects) requests are free. */
  s3DeletePer1000: 0,
  /** Lambda on arm64. */
  lambdaPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  /** SQS FIFO, per 1M requests of up to 64 KB each. */
  sqsFifoPerMillionRequests: 0.5,
  /** EventBridge scheduled rules: no charge. */
  eventBridgeScheduledRule: 0,
  /** Firehose ingestion with a Kinesis data stream as source, each record rounded up to 5 KB. */
  firehoseIngestionPerGb: 0.029,
  firehoseRecordUnitBytes: 5 * 1024,
  /** Firehose dynamic partitioning: per GB processed, per 1,000 S3 objects delivered, per JQ processing hour. */
  firehosePartitioningPerGb: 0.02,
  firehosePartitioningPer1000Objects: 0.005,
  firehoseJqPerHour: 0.07,
} as const;

const GB = 1024 ** 3;
const MONTH_SECONDS = 30 * 24 * 3600;
/** Firehose's active-partition quota per stream: 500 by default, 5,000 at most with an increase. */
export const FIREHOSE_PARTITIONS = { default: 500, max: 5000 } as const;

export interface FleetLoad {
  name: string;
  devices: number;
  /** One event per device per minute. */
  eventsPerSecond: number;
  shards: number;
  oems: number;
  types: number;
}

export const LOADS: FleetLoad[] = [
  { name: '1M devices', devices: 1e6, eventsPerSecond: 1e6 / 60, shards: 24, oems: 1000, types: 5 },
  { name: '10M devices', devices: 1e7, eventsPerSecond: 1e7 / 60, shards: 240, oems: 1000, types: 5 },
];

/**
 * Inputs of the model, each measured in the run. Times are CPU times: on Lambda a function has its CPU
 * share to itself, while this machine's load stretches wall times; a function's time is then its CPU
 * time × max(1, 1,769 MB / its memory) (Lambda's CPU share) + its request rounds × the latency.
 */
export interface ModelInputs {
  latencyMs: number;
  /** Lambda payload bytes per record (base64 data and the record's envelope). */
  payloadBytesPerRecord: number;
  /** Stage-1 PUTs per batch (1 staged object + error files), sent together: one round. */
  putsPerBatch: number;
  /** Stage-1 handler CPU per record: payload parse, decode, validate, encode (one shard's batches one after the other). */
  stage1CpuMsPerRecord: number;
  plannerSleepMs: number;
  plannerIdleCpuMs: number;
  plannerIdleCounts: Counts;
  /** The due planner run's CPU: fixed, and per staged object (measured over 200 and 2,000 objects). */
  plannerFixedCpuMs: number;
  plannerCpuMsPerObject: number;
  /** A compaction task's CPU per row: the larger of the run's tasks and the one-partition task of the memory child. */
  taskCpuMsPerRow: number;
  /** Earlier windows' row-hash files a task reads (late rows at the window start). */
  hashReadsPerTask: number;
  /** Bytes of one CSV row with its CRLF. */
  csvBytesPerRow: number;
  eventBytes: number;
  eventBytesFirehoseBilled: number;
  /** Stage-2 peak RSS growth per row, and a function's RSS before any data. */
  rssBytesPerRow: number;
  baseRssBytes: number;
}

/** How much longer CPU work takes on a function of `memoryMb` than on one full vCPU. */
export const cpuStretch = (memoryMb: number) => Math.max(1, MB_PER_VCPU / memoryMb);

export function modelInputs(m: ExportScaleMeasurement): ModelInputs {
  const seqRecords = m.sequentialStage1.reduce((n, c) => n + c.records, 0);
  const tasksRows = m.tasks.reduce((n, t) => n + t.rows, 0);
  const idleCounts = noCounts();
  for (const k of Object.keys(idleCounts) as Array<keyof Counts>) idleCounts[k] = m.plannerIdle.counts[k] / m.plannerIdle.runs;
  return {
    latencyMs: m.latencyMs,
    payloadBytesPerRecord: m.payloadBytesPerBatch.mean / m.recordsPerBatch.mean,
    putsPerBatch: m.counts.stage1.PUT / m.batches,
    stage1CpuMsPerRecord: m.sequentialStage1.reduce((n, c) => n + c.cpuMs, 0) / seqRecords,
    plannerSleepMs: m.plannerIdle.sleepMs,
    plannerIdleCpuMs: m.plannerIdle.cpuMs.reduce((a, b) => a + b, 0) / m.plannerIdle.runs,
    plannerIdleCounts: idleCounts,
    plannerFixedCpuMs: m.plannerScaling.fixedCpuMs,
    plannerCpuMsPerObject: m.plannerScaling.cpuMsPerObject,
    taskCpuMsPerRow: Math.max(m.tasks.reduce((n, t) => n + t.cpuMs, 0) / tasksRows, m.stage2Memory.cpuMs / m.stage2Memory.rows),
    hashReadsPerTask: m.tasks.reduce((n, t) => n + (t.counts.GET - 1 - t.objects), 0) / m.tasks.length,
    csvBytesPerRow: m.output.csvBytes / m.output.rows,
    eventBytes: m.eventBytes / m.events,
    eventBytesFirehoseBilled: m.eventBytesFirehoseBilled / m.events,
    rssBytesPerRow: m.stage2Memory.peakRssGrowthBytes / m.stage2Memory.rows,
    baseRssBytes: m.stage2Memory.baseRssBytes,
  };
}

/** Partitions so that one task's rows fit in the compactor's memory twice over (skew, GC slack): a power of two, at least the default. */
export function partitionsFor(rowsPerWindow: number, inputs: ModelInputs): { partitions: number; minimum: number } {
  const budget = MEMORY_MB.compactor * 1024 * 1024 - inputs.baseRssBytes;
  const minimum = Math.ceil((rowsPerWindow * inputs.rssBytesPerRow) / budget);
  let partitions = PARTITIONS;
  while (partitions < 2 * minimum) partitions *= 2;
  return { partitions, minimum };
}

export interface WindowModel {
  load: FleetLoad;
  partitions: number;
  partitionsMinimum: number;
  events: number;
  recordsPerBatch: number;
  batches: number;
  pairs: number;
  filesPerPair: number;
  objectsPerTask: number;
  rowsPerTask: number;
  taskMemoryBytes: number;
  taskMs: number;
  plannerDueMs: number;
  /** Requests per window, by stage; SQS of the compactor are the event source mapping's receive and delete. */
  counts: { stage1: Counts; planner: Counts; compaction: Counts };
  gbSeconds: { stage1: number; planner: number; compactor: number };
  lambdaRequests: number;
  cost: { s3: number; lambda: number; sqs: number; total: number };
  firehose: { ingestion: number; partitioningBytes: number; objects: number; total: number; jqPerHour: number };
  /** Worst case from put to visible, and its parts (ms). */
  lag: { total: number; batching: number; stage1: number; window: number; grace: number; planner: number; task: number };
}

const s3Cost = (c: Counts) => ((c.PUT + c.LIST) * PRICES.s3PutListPer1000 + (c.GET + c.HEAD) * PRICES.s3GetPer1000 + c.DELETE * PRICES.s3DeletePer1000) / 1000;

/**
 * One window of `load`, with the code's formulas: stage 1 stages one object per batch; the planner runs
 * every minute and, for the due window, lists it, reads each object's header (PLANNER_READS_IN_FLIGHT at a time) and sends
 * ceil(P/10) SQS batches; each of the P tasks checks its done marker, reads the manifest and its slice of
 * every object holding its partition (TASK_IO_IN_FLIGHT at a time), the previous window's row hashes, writes its files,
 * row hashes and done marker, lists the done markers; the last one deletes the staging (1,000 keys a request).
 */
export function modelWindow(load: FleetLoad, inputs: ModelInputs, override: { partitions?: number; pairs?: number; objectsPerTask?: number; batches?: number; events?: number; plannerInFlight?: number; taskInFlight?: number } = {}): WindowModel {
  const L = inputs.latencyMs;
  const plannerInFlight = override.plannerInFlight ?? PLANNER_READS_IN_FLIGHT;
  const taskInFlight = override.taskInFlight ?? TASK_IO_IN_FLIGHT;
  const windowSeconds = WINDOW_MS / 1000;
  const events = override.events ?? load.eventsPerSecond * windowSeconds;
  const perShard = load.eventsPerSecond / load.shards;
  const recordsPerBatch = Math.min(EXPORT_BATCH_SIZE, Math.floor(PAYLOAD_LIMIT_BYTES / inputs.payloadBytesPerRecord), Math.floor((perShard * BATCHING_WINDOW_MS) / 1000));
  const batches = override.batches ?? Math.ceil(events / recordsPerBatch);
  const { partitions: sized, minimum } = partitionsFor(events, inputs);
  const P = override.partitions ?? sized;
  // Every OEM × type pair has rows in every window at these loads; one file each unless over the cap.
  const pairs = override.pairs ?? load.oems * load.types;
  const pairBytes = (events / pairs) * inputs.csvBytesPerRow;
  const filesPerPair = Math.max(1, Math.ceil(pairBytes / FILE_SIZE_CAP_BYTES));
  const files = pairs * filesPerPair;
  // OEMs hash evenly over partitions: an object of r rows holds a partition unless all r miss it.
  const objectsPerTask = override.objectsPerTask ?? batches * (1 - (1 - 1 / P) ** recordsPerBatch);
  const rowsPerTask = events / P;

  const stage1 = noCounts();
  stage1.PUT = batches * inputs.putsPerBatch;

  const idleRuns = WINDOW_MS / 60_000 - 1;
  const planner = noCounts();
  for (const k of Object.keys(planner) as Array<keyof Counts>) planner[k] = inputs.plannerIdleCounts[k] * idleRuns;
  const listPages = Math.max(1, Math.ceil(batches / 1000));
  const due = { ...noCounts(), LIST: 2 + listPages, GET: 1 + batches, PUT: 2, SQS: Math.ceil(P / 10) };
  const plannerCounts = addCounts(planner, due);
  const plannerDueRounds = 2 + listPages + 1 + Math.ceil(batches / plannerInFlight) + 1 + Math.ceil(P / 10) + 1;
  const plannerDueMs = (inputs.plannerFixedCpuMs + inputs.plannerCpuMsPerObject * batches) * cpuStretch(MEMORY_MB.planner) + plannerDueRounds * L;
  const plannerIdleMs = inputs.plannerIdleCpuMs * cpuStretch(MEMORY_MB.planner) + (inputs.plannerIdleCounts.LIST + inputs.plannerIdleCounts.GET) * L;

  const deletes = Math.ceil(batches / 1000);
  const compaction: Counts = {
    HEAD: P,
    GET: P * (1 + objectsPerTask + inputs.hashReadsPerTask),
    PUT: files + 2 * P,
    LIST: P,
    DELETE: deletes,
    // Lambda's SQS event source: one receive and one delete per message at batch size 1.
    SQS: 2 * P,
  };
  const taskRounds =
    2 + Math.ceil(objectsPerTask / taskInFlight) + Math.ceil(inputs.hashReadsPerTask / taskInFlight) + Math.ceil(files / P / taskInFlight) + 2 + 1 + deletes / P;
  const taskMs = inputs.taskCpuMsPerRow * rowsPerTask * cpuStretch(MEMORY_MB.compactor) + taskRounds * L;
  const stage1Ms = inputs.stage1CpuMsPerRecord * recordsPerBatch * cpuStretch(MEMORY_MB.stage1) + L;

  const gbSeconds = {
    stage1: (batches * stage1Ms * MEMORY_MB.stage1) / 1024 / 1000,
    planner: (((idleRuns + 1) * inputs.plannerSleepMs + idleRuns * plannerIdleMs + plannerDueMs) * MEMORY_MB.planner) / 1024 / 1000,
    compactor: (P * taskMs * MEMORY_MB.compactor) / 1024 / 1000,
  };
  const lambdaRequests = batches + idleRuns + 1 + P;
  const counts = { stage1, planner: plannerCounts, compaction };
  const s3 = s3Cost(stage1) + s3Cost(plannerCounts) + s3Cost(compaction);
  const lambda = (gbSeconds.stage1 + gbSeconds.planner + gbSeconds.compactor) * PRICES.lambdaPerGbSecond + (lambdaRequests * PRICES.lambdaPerMillionRequests) / 1e6;
  const sqs = ((plannerCounts.SQS + compaction.SQS) * PRICES.sqsFifoPerMillionRequests) / 1e6;

  // Firehose on the same load: every record ingested (rounded up to 5 KB), every byte partitioned, one
  // object per OEM × type partition per 5-minute buffer (a partition's 5 minutes stay under the buffer size).
  const ingestion = ((events * inputs.eventBytesFirehoseBilled) / GB) * PRICES.firehoseIngestionPerGb;
  const partitioningBytes = ((events * inputs.eventBytes) / GB) * PRICES.firehosePartitioningPerGb;
  const objects = (files * PRICES.firehosePartitioningPer1000Objects) / 1000;

  const lag = { batching: BATCHING_WINDOW_MS, stage1: stage1Ms, window: WINDOW_MS, grace: GRACE_MS, planner: plannerDueMs, task: taskMs };
  return {
    load,
    partitions: P,
    partitionsMinimum: minimum,
    events,
    recordsPerBatch,
    batches,
    pairs,
    filesPerPair,
    objectsPerTask,
    rowsPerTask,
    taskMemoryBytes: inputs.baseRssBytes + rowsPerTask * inputs.rssBytesPerRow,
    taskMs,
    plannerDueMs,
    counts,
    gbSeconds,
    lambdaRequests,
    cost: { s3, lambda, sqs, total: s3 + lambda + sqs },
    firehose: { ingestion, partitioningBytes, objects, total: ingestion + partitioningBytes + objects, jqPerHour: PRICES.firehoseJqPerHour },
    lag: { ...lag, total: lag.batching + lag.stage1 + lag.window + lag.grace + lag.planner + lag.task },
  };
}

export const perMillion = (w: WindowModel, dollars: number) => (dollars / w.events) * 1e6;
export const perMonth = (dollars: number) => dollars * (MONTH_SECONDS / (WINDOW_MS / 1000));

/**
 * The model at the bench's own load (its events, batches, partitions and OEM × type pairs), S3 and
 * sender-side SQS counts only: what the run measured, so the formulas can be checked against it.
 */
export function modelCheck(m: ExportScaleMeasurement, inputs: ModelInputs): { predicted: Counts; measured: Counts } {
  const load: FleetLoad = { name: 'bench', devices: 0, eventsPerSecond: m.events / (WINDOW_MS / 1000), shards: m.shards, oems: 0, types: 0 };
  const w = modelWindow(load, inputs, {
    partitions: m.partitions,
    pairs: m.output.files,
    objectsPerTask: m.tasks.reduce((n, t) => n + t.objects, 0) / m.tasks.length,
    batches: m.batches,
    events: m.events,
  });
  const predicted = addCounts(addCounts(w.counts.stage1, w.counts.planner), { ...w.counts.compaction, SQS: 0 });
  const measured = addCounts(addCounts(m.counts.stage1, m.counts.planner), m.counts.compaction);
  return { predicted, measured };
}

/** S3 serves at least this many GET/HEAD requests per second per partitioned prefix, and splits a busy prefix over time. */
export const S3_GETS_PER_PREFIX = 5500;
/** The tasks' reads per second while a window is compacted: every partition's task at once, each with its reads in flight. */
const getRate = (w: WindowModel, inputs: ModelInputs) => (w.partitions * TASK_IO_IN_FLIGHT * 1000) / inputs.latencyMs;

const SECTION = `Export cost model (us-east-1 list prices read ${PRICES_READ})`;
const cents = (dollars: number) => +(dollars * 100).toFixed(2);
const dollars = (n: number) => Math.round(n);

export function exportCostFigures(m: ExportScaleMeasurement): { figures: Figure[]; windows: WindowModel[]; inputs: ModelInputs; check: { predicted: Counts; measured: Counts } } {
  const inputs = modelInputs(m);
  const windows = LOADS.map((load) => modelWindow(load, inputs));
  const check = modelCheck(m, inputs);
  const figures: Figure[] = [];
  const predictedTotal = Object.values(check.predicted).reduce((a, b) => a + b, 0);
  const measuredTotal = Object.values(check.measured).reduce((a, b) => a + b, 0);
  figures.push({
    section: SECTION,
    name: 'model check: S3 + SQS requests the formulas give for the run’s own load',
    value: Math.round(predictedTotal),
    unit: 'requests',
    baseline: { name: 'counted in the run', value: measuredTotal, unit: 'requests' },
    ratio: predictedTotal / measuredTotal,
    goal: '1.00',
    pass: Math.abs(predictedTotal / measuredTotal - 1) < 0.005,
  });
  for (const w of windows) {
    const name = `${w.load.name} (${Math.round(w.load.eventsPerSecond).toLocaleString('en')} events/s, ${w.load.shards} shards, P = ${w.partitions})`;
    const ours = perMillion(w, w.cost.total);
    const firehose = perMillion(w, w.firehose.total);
    const all = addCounts(addCounts(w.counts.stage1, w.counts.planner), w.counts.compaction);
    const per1M = (n: number) => Math.round((n / w.events) * 1e6);
    figures.push(
      {
        section: SECTION,
        name: `${name}: cost per 1M events (S3 ${cents(perMillion(w, w.cost.s3))} ¢, Lambda ${cents(perMillion(w, w.cost.lambda))} ¢, SQS ${cents(perMillion(w, w.cost.sqs))} ¢)`,
        value: cents(ours),
        unit: '¢',
        baseline: { name: `Firehose with dynamic partitioning (ingestion ${cents(perMillion(w, w.firehose.ingestion))} ¢, partitioning ${cents(perMillion(w, w.firehose.partitioningBytes + w.firehose.objects))} ¢; JQ hours not included)`, value: cents(firehose), unit: '¢' },
        ratio: ours / firehose,
        goal: '≤ 0.1',
        pass: ours / firehose <= 0.1,
      },
      {
        section: SECTION,
        name: `${name}: $ per month (30 days)`,
        value: dollars(perMonth(w.cost.total)),
        unit: '$',
        baseline: { name: 'Firehose', value: dollars(perMonth(w.firehose.total)), unit: '$' },
        ratio: w.cost.total / w.firehose.total,
      },
      {
        section: SECTION,
        name: `${name}: S3 requests per 1M events (PUT ${per1M(all.PUT)}, GET ${per1M(all.GET)}, LIST ${per1M(all.LIST)}, HEAD ${per1M(all.HEAD)}, DELETE ${per1M(all.DELETE)}); SQS ${per1M(all.SQS)}`,
        value: per1M(all.PUT + all.GET + all.LIST + all.HEAD + all.DELETE),
        unit: 'requests',
      },
      {
        section: SECTION,
        name: `${name}: Lambda GB-s per 1M events (stage 1 ${+perMillion(w, w.gbSeconds.stage1).toFixed(1)}, planner ${+perMillion(w, w.gbSeconds.planner).toFixed(1)}, compactor ${+perMillion(w, w.gbSeconds.compactor).toFixed(1)})`,
        value: +perMillion(w, w.gbSeconds.stage1 + w.gbSeconds.planner + w.gbSeconds.compactor).toFixed(1),
        unit: 'GB-s',
      },
      {
        section: SECTION,
        name: `${name}: one task: ${Math.round(w.rowsPerTask).toLocaleString('en')} rows, ${Math.round(w.objectsPerTask).toLocaleString('en')} ranged GETs, ${(w.taskMs / 1000).toFixed(1)} s; peak memory`,
        value: Math.round(w.taskMemoryBytes / 2 ** 20),
        unit: 'MiB',
        baseline: { name: 'the compactor’s memory', value: MEMORY_MB.compactor, unit: 'MB' },
        ratio: w.taskMemoryBytes / (MEMORY_MB.compactor * 2 ** 20),
        goal: '≤ 0.5 (skew, GC)',
        pass: w.taskMemoryBytes <= 0.5 * MEMORY_MB.compactor * 2 ** 20,
      },
      {
        section: SECTION,
        name: `${name}: ranged GETs per second while a window is compacted (${w.partitions} tasks × ${TASK_IO_IN_FLIGHT} in flight ÷ ${inputs.latencyMs} ms), all under _staging/<window>/`,
        value: Math.round(getRate(w, inputs)),
        unit: 'GET/s',
        baseline: { name: 'S3 per partitioned prefix', value: S3_GETS_PER_PREFIX, unit: 'GET/s' },
        ratio: getRate(w, inputs) / S3_GETS_PER_PREFIX,
      },
      {
        section: SECTION,
        name: `${name}: lag put → visible, worst case = batching ${w.lag.batching / 1000} s + stage 1 ${(w.lag.stage1 / 1000).toFixed(1)} s + window ${w.lag.window / 1000} s + grace ${w.lag.grace / 1000} s + planner ${(w.lag.planner / 1000).toFixed(1)} s + task ${(w.lag.task / 1000).toFixed(1)} s`,
        value: +(w.lag.total / 1000).toFixed(1),
        unit: 's',
        baseline: { name: 'window + 60 s', value: (WINDOW_MS + 60_000) / 1000, unit: 's' },
        ratio: w.lag.total / (WINDOW_MS + 60_000),
        goal: '≤ 1',
        pass: w.lag.total <= WINDOW_MS + 60_000,
      },
    );
  }
  return { figures, windows, inputs, check };
}

// ---------------------------------------------------------------------------------------------------------
// The bench part: measure, model, and (in a run of this part alone) update its sections of the report

/** What the report says beside the figures: the formulas, the assumptions, what is left out. */
function notes(m: ExportScaleMeasurement, windows: readonly WindowModel[], inputs: ModelInputs, check: { predicted: Counts; measured: Counts }): string[] {
  const lag = measuredLag(m);
  const fmt = (n: number, digits = 0) => n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return [
    `Run ${m.runAt} on ${m.machine}; load average ${m.loadAverage.map((l) => l.toFixed(2)).join(' / ')} (1 / 5 / 15 min) on ${os.cpus().length} cores`,
    'shared with other work: wall times are stretched by it (CPU times are given beside them). `BENCH_ONLY=export-scale npm run bench`.',
    '',
    `- **Load.** ${fmt(m.events)} events of a simulated fleet (1,000 OEMs, ${fmt(m.oemTypePairs)} OEM × type pairs seen), dealt to ${m.shards} shards by MD5 of the`,
    `  partition key and cut as Lambda cuts batches (≤ 10,000 records, ≤ 6 MiB of event JSON: ${fmt(inputs.payloadBytesPerRecord)} bytes per record for`,
    `  ${fmt(inputs.eventBytes)}-byte events → ${fmt(m.recordsPerBatch.mean)} records a batch). All ${m.rounds} rounds fall in one 5-minute window; the first`,
    '  batches hold rows that arrived before it (late rows, checked against the previous window’s row hashes).',
    `- **Bucket.** The unit tests’ in-memory bucket (conditional create, ranged GET, list, DeleteObjects) behind a store that waits ${m.latencyMs} ms`,
    '  per request and counts it: a list or DeleteObjects of n keys is ceil(n/1000) requests, one after the other, as the S3 adapter sends them;',
    '  the queue counts one SendMessageBatch per 10 messages. Steady state: the 12 windows before were already planned.',
    `- **Lag formula.** worst case = batching window + stage-1 handler + window (a record put just after a window opens) + grace + planner +`,
    `  slowest task (the partitions’ tasks run side by side). Measured: stage 1 ${fmt(lag.stage1)} ms, planner ${fmt(lag.planner)} ms, slowest task ${fmt(lag.task)} ms.`,
    '  Not modelled: EventBridge’s delivery delay and the SQS poller’s pick-up (usually under a second each).',
    `- **Model check.** The formulas of the cost model, given this run’s events, batches, partitions and pairs, predict`,
    `  ${REQUEST_KINDS.filter((k) => k !== 'SQS').map((k) => `${k} ${fmt(check.predicted[k])}`).join(', ')} requests; the run counted`,
    `  ${REQUEST_KINDS.filter((k) => k !== 'SQS').map((k) => `${k} ${fmt(check.measured[k])}`).join(', ')}.`,
    `- **Scaling.** Per window of a load: events E = rate × 300 s; records per batch = min(10,000, 6 MiB / ${fmt(inputs.payloadBytesPerRecord)} B, rate per shard × 10 s);`,
    '  staged objects B = E / that; stage-1 PUTs = B; planner: 4 idle runs (their measured LISTs) + 1 due run (3 LISTs + ceil(B/1000) pages, 1 + B GETs,',
    '  2 PUTs, ceil(P/10) SQS); per task: HEAD, manifest GET, one ranged GET per object holding the partition (B × (1 − (1 − 1/P)^records)), the',
    `  previous window’s row hashes (${fmt(inputs.hashReadsPerTask, 2)} GETs measured), a PUT per file, row-hash and done PUTs, one LIST; ceil(B/1000) DeleteObjects`,
    '  per window; files = 5,000 OEM × type pairs × ceil(pair bytes / 64 MiB).',
    `- **Times at scale.** A function’s time = its CPU time × max(1, 1,769 MB / its memory) (Lambda’s CPU share: ×${fmt(cpuStretch(MEMORY_MB.stage1), 2)} for stage 1,`,
    `  ×${fmt(cpuStretch(MEMORY_MB.planner), 2)} for the planner, ×1 for the compactor) + its request rounds × ${inputs.latencyMs} ms. Measured CPU: stage 1 ${fmt(inputs.stage1CpuMsPerRecord * 1000, 1)} µs per record`,
    `  (payload parse included); task ${fmt(inputs.taskCpuMsPerRow * 1000, 1)} µs per row; planner ${fmt(inputs.plannerFixedCpuMs, 1)} ms + ${fmt(inputs.plannerCpuMsPerObject * 1000, 1)} µs per staged object (slope over 200 and 2,000 objects); requests`,
    `  in flight: ${PLANNER_READS_IN_FLIGHT} (planner) and ${TASK_IO_IN_FLIGHT} (task), as the code has them. CPU time, not this loaded machine’s wall time: on Lambda a function has its share to itself.`,
    '  GB-s = memory × time, the planner’s 15 s wait for the grace included (Lambda bills it).',
    `- **Partitions.** Peak RSS growth of a task: ${fmt(inputs.rssBytesPerRow)} bytes per row (one task of ${fmt(m.stage2Memory.rows)} rows, child process,`,
    `  \`--expose-gc\`), over a function base of ${fmt(inputs.baseRssBytes / 2 ** 20)} MiB. P = the power of two ≥ 16 that keeps one task’s rows within half`,
    `  of 3,008 MB (skew between OEMs, GC slack): ${windows.map((w) => `${w.load.name} ${w.partitions} (minimum ${w.partitionsMinimum})`).join(', ')}. An OEM is in one`,
    '  partition: one very large OEM bounds a task whatever P is.',
    `- **Prices** (us-east-1, read ${PRICES_READ}): S3 PUT/COPY/POST/LIST $0.005 per 1,000, GET/HEAD $0.0004 per 1,000, DELETE free; Lambda arm64`,
    '  $0.0000133334 per GB-s and $0.20 per 1M requests; SQS FIFO $0.50 per 1M requests (the compactor’s event source: one receive and one delete',
    '  per message); EventBridge scheduled rules free. Firehose (Kinesis stream as source): $0.029 per GB ingested with each record rounded up to',
    `  5 KB (${fmt(inputs.eventBytesFirehoseBilled)} billed bytes per ${fmt(inputs.eventBytes)}-byte event), dynamic partitioning $0.020 per GB and $0.005 per`,
    '  1,000 objects (one object per OEM × type per 5-minute buffer: the same files as here).',
    '- **Left out, same for both designs:** the Kinesis stream (shards or on-demand throughput, its reads), S3 storage, CloudWatch Logs.',
    '  **Left out of Firehose, so its figure is a floor:** JQ processing hours ($0.07 per hour of JQ time; the keys live in the JSON, so a JQ',
    '  query is needed; its duration cannot be measured here) and a transform Lambda to write these CSV rows (Firehose delivers the JSON records).',
    '  Left out of this design: the SQS pollers’ empty receives while idle.',
    `- **Firehose limits.** Dynamic partitioning allows ${FIREHOSE_PARTITIONS.default} active partitions per stream by default, ${fmt(FIREHOSE_PARTITIONS.max)} with a quota increase;`,
    '  1,000 OEMs × 5 types = 5,000 partitions, the ceiling: more OEMs need several streams.',
    `- **S3 request rate, not modelled.** While a window is compacted its tasks ask for ${windows.map((w) => `${fmt(getRate(w, inputs))} GET/s (${w.load.name})`).join(' and ')}`,
    `  under one window's \`_staging/<window>/\`; S3 serves at least ${fmt(S3_GETS_PER_PREFIX)} GET/s per partitioned prefix and splits a busy prefix as the`,
    '  load persists, but each window is a new prefix. Until S3 has split it, it answers 503 SlowDown and the SDK backs off, so the compaction',
    `  takes longer than modelled: at ${fmt(S3_GETS_PER_PREFIX)} GET/s a window's ranged GETs take ${windows.map((w) => `${fmt(w.counts.compaction.GET / S3_GETS_PER_PREFIX, 1)} s (${w.load.name})`).join(' and ')}.`,
    ...windows.flatMap((w) => {
      const limit = WINDOW_MS + 60_000;
      const failed: string[] = [];
      if (w.lag.total > limit) {
        const wider = modelWindow(w.load, inputs, { partitions: w.partitions * 2 });
        failed.push(
          `- **Not met: lag at ${w.load.name}** (${fmt(w.lag.total / 1000, 1)} s > ${limit / 1000} s). ${fmt(w.batches)} staged objects a window: the planner reads their`,
          `  headers ${PLANNER_READS_IN_FLIGHT} at a time (${fmt(w.plannerDueMs / 1000, 1)} s), each task its slices ${TASK_IO_IN_FLIGHT} at a time (${fmt((Math.ceil(w.objectsPerTask / TASK_IO_IN_FLIGHT) * inputs.latencyMs) / 1000, 1)} s of its ${fmt(w.taskMs / 1000, 1)} s; the rest`,
          `  is ${fmt(w.rowsPerTask)} rows × ${fmt(inputs.taskCpuMsPerRow * 1000, 1)} µs). With P = ${wider.partitions}: ${fmt(wider.lag.total / 1000, 1)} s at ${fmt(perMillion(wider, wider.cost.total) * 100, 2)} ¢ per 1M events`,
          `  (ratio ${fmt(wider.cost.total / wider.firehose.total, 3)}: twice the ranged GETs).`,
        );
      }
      if (w.cost.total / w.firehose.total > 0.1) {
        failed.push(`- **Not met: cost at ${w.load.name}** (ratio ${fmt(w.cost.total / w.firehose.total, 3)}): ranged GETs = staged objects × partitions = ${fmt(w.counts.compaction.GET)} a window.`);
      }
      return failed;
    }),
  ];
}

/**
 * Runs the part. Its figures join the run's; `writeReport` then rewrites this part's sections of bench/REPORT.md
 * (with their notes: formulas, assumptions, exclusions) and its details in bench/results.json, once the run has
 * written its own report.
 */
export async function exportScaleBenchmark(log: (line: string) => void): Promise<{ figures: Figure[]; writeReport: () => Promise<void> }> {
  const measured = await measureExportScale(log);
  const scale = exportScaleFigures(measured);
  const { figures: cost, windows, inputs, check } = exportCostFigures(measured);
  const { concurrentStage1, sequentialStage1, tasks, ...summary } = measured;
  const writeReport = () => updateReport([...scale, ...cost], notes(measured, windows, inputs, check), {
    measured: { ...summary, concurrentStage1Ms: concurrentStage1.map((c) => +c.wallMs.toFixed(1)), sequentialStage1, tasks },
    inputs,
    windows: windows.map(({ load, ...w }) => ({ load: load.name, ...w })),
    check,
    prices: { read: PRICES_READ, ...PRICES },
  });
  return { figures: [...scale, ...cost], writeReport };
}

const REPORT = path.join(__dirname, 'REPORT.md');
const RESULTS = path.join(__dirname, 'results.json');
const OWN_SECTIONS = (section: string) => section.startsWith('Export at fleet scale') || section.startsWith('Export cost model');

function table(figures: readonly Figure[]): string[] {
  const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en') : n.toFixed(2));
  return [
    '| figure | value | baseline (same run) | ratio | goal | met |',
    '|---|---|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.baseline.unit}` : ''} | ${f.ratio === undefined ? '' : f.ratio.toFixed(2)} | ${f.goal ?? ''} | ${f.pass === undefined ? '' : f.pass ? 'yes' : '**no**'} |`,
    ),
  ];
}

/** Replaces this part's sections in the report (appended when absent) and its figures in results.json; the rest stays. */
async function updateReport(figures: readonly Figure[], noteLines: readonly string[], details: unknown): Promise<void> {
  const sections = [...new Set(figures.map((f) => f.section))];
  const blocks: string[] = [];
  sections.forEach((section, i) => {
    blocks.push(`## ${section}`, '', ...(i === 0 ? [...noteLines, ''] : []), ...table(figures.filter((f) => f.section === section)), '');
  });
  const lines = (await readFile(REPORT, 'utf8')).split('\n');
  const kept: string[] = [];
  let skipping = false;
  for (const line of lines) {
    if (line.startsWith('## ')) skipping = OWN_SECTIONS(line.slice(3));
    if (!skipping) kept.push(line);
  }
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  await writeFile(REPORT, `${[...kept, '', ...blocks].join('\n').trimEnd()}\n`);

  const results = JSON.parse(await readFile(RESULTS, 'utf8')) as { figures: Figure[] } & Record<string, unknown>;
  results.figures = [...results.figures.filter((f) => !OWN_SECTIONS(f.section)), ...figures];
  results.exportScale = details;
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
}
