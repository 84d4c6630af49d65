/**
 * Bulk job benchmark (BENCH_ONLY=bulk-jobs), in-process against dynalite (the local cloud's DynamoDB):
 * - the bulk delete worker's throughput: a wildcard DELETE over N stored values (BENCH_BULK_VALUES, default
 *   100,000, over 100 datapoints) answered 202, then the worker's chunks one message at a time, each with a
 *   Lambda-shaped time budget (60 s, chunks of 20,000 values), job records in the table; values/s and the
 *   projected time for 1M values;
 * - the synchronous bounds: a DELETE of 5,000 values and a PUT over 500 datapoints, each against the 29 s an
 *   HTTP API integration may take.
 * It writes its own section of bench/REPORT.md.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import dynalite from 'dynalite';
import { readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { listen } from '../infra/local-cloud/aws-protocol/http';
import { DatapointLogStore } from '../lambdas/adapters/dynamodb/datapoint-log-store';
import { DynamoJobStore } from '../lambdas/adapters/dynamodb/job-store';
import { ValueStore } from '../lambdas/adapters/dynamodb/value-store';
import { BY_NAME_INDEX } from '../lambdas/domain/datapoint-logs/keys';
import type { DatapointLogStores, ValueLog } from '../lambdas/domain/datapoint-logs/ports';
import { valueId, type DatapointRef, type StoredValue } from '../lambdas/domain/datapoint-logs/records';
import { CHUNK_LIMITS } from '../lambdas/domain/iap-jobs/chunks';
import { SYNC_MAX_DATAPOINTS, SYNC_MAX_VALUES, type ChunkMessage } from '../lambdas/domain/iap-jobs/jobs';
import type { JobStarter } from '../lambdas/domain/iap-jobs/ports';
import { runChunkMessage } from '../lambdas/domain/iap-jobs/worker';
import { handleLogConfig } from '../lambdas/functions/iap-log-config/log-config';
import { handleLogValues } from '../lambdas/functions/iap-log-values/log-values';
import type { Figure } from './datapoint-logs';

const TABLE = 'bench-bulk-jobs';
const OEM = 'bench-oem';
const DAY = 24 * 3600 * 1000;
const API_LIMIT_MS = 29_000;
const LAMBDA_TIMEOUT_MS = 60_000;
const MILLION = 1_000_000;
const GOAL_1M_MINUTES = 60;

async function startDynamo(): Promise<{ doc: DynamoDBDocumentClient; close: () => Promise<void> }> {
  const server: Server = dynalite({ createTableMs: 0 });
  const port = await listen(server, 0);
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  await client.send(new CreateTableCommand({
    TableName: TABLE,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    GlobalSecondaryIndexes: [{ IndexName: BY_NAME_INDEX, KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' }, { AttributeName: 'gsi1sk', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
  }));
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { doc, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A job queue in memory (one FIFO), deduplicating a chunk queued twice. */
function memoryQueue() {
  const messages: ChunkMessage[] = [];
  return {
    messages,
    async send(message: ChunkMessage) {
      if (!messages.some((m) => m.jobId === message.jobId && m.chunk === message.chunk)) messages.push({ ...message });
    },
  };
}

/** `datapoints` datapoints of one device with `each` values each, logged at level 1 (kept a day), written as the logger writes them. */
async function seed(stores: { registry: DatapointLogStore; values: ValueLog }, datapoints: number, each: number, now: number, dsn = 'BENCHDEV'): Promise<void> {
  const refs: DatapointRef[] = Array.from({ length: datapoints }, (_, i) => ({ dsn: `${dsn}${i % 4}`, block: 'device', blockIndex: 0, name: `n${String(i).padStart(5, '0')}` }));
  const records = await stores.registry.registerDatapoints(OEM, refs, now - DAY / 2);
  const patch = { levels: { 1: { interval: 0, retention: 1 } } };
  const list = [...records.values()];
  for (let i = 0; i < list.length; i += 16) await Promise.all(list.slice(i, i + 16).map((r) => stores.registry.updateConfig(OEM, r, patch, now - DAY / 2)));
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const record = list[next++]!;
      const entries = Array.from({ length: each }, (_, k) => {
        const at = now - 3600_000 + k * 10;
        const value: StoredValue = {
          id: valueId(record.id, k + 1), sequence: k + 1, at, value: k, levels: [1], deviceState: 'provisioned', deviceHealth: 'normal',
          expiresAt: Math.ceil((at + DAY) / 1000), loggedAt: at,
        };
        return { ref: record, value };
      });
      await stores.values.putValues(OEM, entries);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

function request(method: 'PUT' | 'DELETE', params: Record<string, string>, body?: unknown): APIGatewayProxyEventV2WithJWTAuthorizer {
  const valueRoute = params.value_param !== undefined;
  const routeKey = `${method} /iap/devs/{id}/if/{block}/{block_index}/{datapoint_name}/logs/${valueRoute ? 'value/{value_param}' : '{setting}'}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: '/iap/devs/*/if/*/*/*/logs/bench',
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    pathParameters: { id: '*', block: '*', block_index: '*', datapoint_name: '*', ...params },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    requestContext: {
      accountId: '1', apiId: 'bench', domainName: 'bench', domainPrefix: 'bench', requestId: 'r', routeKey, stage: '$default', time: '', timeEpoch: 0,
      http: { method, path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims: { sub: 'bench', 'custom:oem_id': OEM }, scopes: null } },
    },
  };
}

interface Measured {
  values: number;
  datapoints: number;
  seedMs: number;
  deleteMs: number;
  chunks: number;
  longestChunkMs: number;
  left: number;
  syncDeleteMs: number;
  syncPutMs: number;
  load: number[];
}

async function measure(log: (line: string) => void): Promise<Measured> {
  const total = Number(process.env.BENCH_BULK_VALUES ?? 100_000);
  const datapoints = 100;
  const dynamo = await startDynamo();
  try {
    const registry = new DatapointLogStore(dynamo.doc, TABLE);
    const stores = { registry, values: new ValueStore(dynamo.doc, TABLE) };
    const jobs = new DynamoJobStore(dynamo.doc, TABLE);
    const queue = memoryQueue();
    let ids = 0;
    const starter: JobStarter = { store: jobs, queue, newId: () => (++ids).toString(16).padStart(24, '0') };
    const now = Date.now();

    log(`  seeding ${total.toLocaleString('en')} values over ${datapoints} datapoints…`);
    let t = performance.now();
    await seed(stores, datapoints, Math.ceil(total / datapoints), now);
    const seedMs = performance.now() - t;

    const reply = await handleLogValues(request('DELETE', { value_param: '*' }), stores as unknown as DatapointLogStores, now, starter);
    if (reply.statusCode !== 202) throw new Error(`expected 202, got ${reply.statusCode}`);
    const jobId = (JSON.parse(reply.body!) as { jobId: string }).jobId;
    log('  deleting through the worker…');
    let chunks = 0;
    let longestChunkMs = 0;
    t = performance.now();
    while (queue.messages.length > 0) {
      const message = queue.messages.shift()!;
      const started = performance.now();
      await runChunkMessage({ jobs, queue, stores: stores as unknown as DatapointLogStores, now: () => Date.now(), limits: CHUNK_LIMITS }, message, 1, {
        remainingMs: () => LAMBDA_TIMEOUT_MS - (performance.now() - started),
      });
      chunks++;
      longestChunkMs = Math.max(longestChunkMs, performance.now() - started);
      // Progress as GET /iap/jobs/{id} shows it meanwhile.
      const progress = await jobs.get(OEM, jobId);
      log(`    chunk ${chunks}: ${progress?.state} ${progress?.done.toLocaleString('en')} deleted, ${progress?.datapointsDone}/${progress?.datapoints} datapoints, ${((performance.now() - t) / 1000).toFixed(0)} s`);
    }
    const deleteMs = performance.now() - t;
    const job = await jobs.get(OEM, jobId);
    if (job?.state !== 'succeeded') throw new Error(`job ended ${job?.state}`);
    const left = (await handleLogValues(request('DELETE', { value_param: '*' }), stores as unknown as DatapointLogStores, Date.now(), starter)).statusCode === 204 ? 0 : -1;

    log(`  a synchronous DELETE of ${SYNC_MAX_VALUES.toLocaleString('en')} values…`);
    await seed(stores, 10, SYNC_MAX_VALUES / 10, Date.now(), 'SYNCDEV');
    t = performance.now();
    const sync = await handleLogValues(request('DELETE', { id: '*+id=+^SYNCDEV', value_param: '*' }), stores as unknown as DatapointLogStores, Date.now(), starter);
    const syncDeleteMs = performance.now() - t;
    if (sync.statusCode !== 204) throw new Error(`expected 204, got ${sync.statusCode}`);

    log(`  a synchronous PUT over ${SYNC_MAX_DATAPOINTS} datapoints…`);
    await seed(stores, SYNC_MAX_DATAPOINTS, 0, Date.now(), 'PUTDEV');
    t = performance.now();
    const put = await handleLogConfig(request('PUT', { id: '*+id=+^PUTDEV', setting: '2' }, { interval: 60, retention: 2 }), registry, Date.now(), starter);
    const syncPutMs = performance.now() - t;
    if (put.statusCode !== 200) throw new Error(`expected 200, got ${put.statusCode}`);

    return { values: job.done, datapoints, seedMs, deleteMs, chunks, longestChunkMs, left, syncDeleteMs, syncPutMs, load: os.loadavg().map((l) => +l.toFixed(1)) };
  } finally {
    await dynamo.close();
  }
}

function figuresOf(m: Measured): Figure[] {
  const section = 'IAP bulk jobs (dynalite)';
  const rate = m.values / (m.deleteMs / 1000);
  const millionMinutes = MILLION / rate / 60;
  return [
    {
      section,
      name: `bulk delete through the worker: ${m.values.toLocaleString('en')} values of ${m.datapoints} datapoints, ${m.chunks} chunks`,
      value: Math.round(rate),
      unit: 'values/s',
      baseline: { name: 'seeding the same values (BatchWriteItem puts)', value: Math.round(m.values / (m.seedMs / 1000)), unit: 'values/s' },
      ratio: m.seedMs / m.deleteMs,
    },
    {
      section,
      name: 'projected time to delete 1M values of an OEM (one job)',
      value: +millionMinutes.toFixed(1),
      unit: 'min',
      ratio: millionMinutes / GOAL_1M_MINUTES,
      goal: `≤ 1 (1M within ${GOAL_1M_MINUTES} min)`,
      pass: millionMinutes <= GOAL_1M_MINUTES,
    },
    {
      section,
      name: 'longest chunk (progress shows at least this often)',
      value: +(m.longestChunkMs / 1000).toFixed(1),
      unit: 's',
      ratio: m.longestChunkMs / LAMBDA_TIMEOUT_MS,
      goal: '≤ 0.75 of the 60 s worker timeout',
      pass: m.longestChunkMs / LAMBDA_TIMEOUT_MS <= 0.75,
    },
    {
      section,
      name: `synchronous DELETE of ${SYNC_MAX_VALUES.toLocaleString('en')} values (the bound)`,
      value: +(m.syncDeleteMs / 1000).toFixed(2),
      unit: 's',
      ratio: m.syncDeleteMs / API_LIMIT_MS,
      goal: '≤ 0.33 of the 29 s API limit',
      pass: m.syncDeleteMs / API_LIMIT_MS <= 0.33,
    },
    {
      section,
      name: `synchronous PUT over ${SYNC_MAX_DATAPOINTS} datapoints (the bound)`,
      value: +(m.syncPutMs / 1000).toFixed(2),
      unit: 's',
      ratio: m.syncPutMs / API_LIMIT_MS,
      goal: '≤ 0.33 of the 29 s API limit',
      pass: m.syncPutMs / API_LIMIT_MS <= 0.33,
    },
  ];
}

const REPORT = path.join(__dirname, 'REPORT.md');
const OWN_SECTION = (title: string) => title.startsWith('IAP bulk jobs');

/** Replaces this part's section of the report (appended when absent); the rest stays. */
async function updateReport(figures: readonly Figure[], m: Measured): Promise<void> {
  const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en') : String(n));
  const block = [
    `## ${figures[0]!.section}`,
    '',
    `Goal: deleting 1M values of an OEM completes within ${GOAL_1M_MINUTES} minutes as one job, with progress at least every 45 s; a synchronous change at the bound`,
    'takes at most a third of the 29 s API limit. In-process against dynalite (the local cloud\'s DynamoDB, on this 2-core machine, 1/5/15-minute',
    `load ${m.load.join('/')}): the job started by the DELETE handler (202), its chunks run one after the other by the worker's own code`,
    `with a 60 s budget each and the default chunk of ${CHUNK_LIMITS.maxValues.toLocaleString('en')} values, job records in the same table. DynamoDB itself`,
    'takes BatchWriteItem far faster than dynalite (an emulation in one Node.js process, on in-memory LevelDB), so the figures are a floor.',
    '',
    '| figure | value | baseline (same run) | ratio | goal | met |',
    '|---|---|---|---|---|---|',
    ...figures.map((f) => `| ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.baseline.unit}` : ''} | ${f.ratio === undefined ? '' : f.ratio.toFixed(2)} | ${f.goal ?? ''} | ${f.pass === undefined ? '' : f.pass ? 'yes' : '**no**'} |`),
    '',
  ];
  const lines = (await readFile(REPORT, 'utf8')).split('\n');
  const kept: string[] = [];
  let skipping = false;
  for (const line of lines) {
    if (line.startsWith('## ')) skipping = OWN_SECTION(line.slice(3));
    if (!skipping) kept.push(line);
  }
  while (kept.at(-1) === '') kept.pop();
  await writeFile(REPORT, `${[...kept, '', ...block].join('\n')}`);
}

/** Runs the part: its figures, and `writeReport` that rewrites its section of bench/REPORT.md. */
export async function bulkJobsBenchmark(log: (line: string) => void): Promise<{ figures: Figure[]; writeReport: () => Promise<void> }> {
  const measured = await measure(log);
  const figures = figuresOf(measured);
  return { figures, writeReport: () => updateReport(figures, measured) };
}
