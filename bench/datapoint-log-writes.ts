/**
 * Benchmark part `logs-scale` (`BENCH_ONLY=logs-scale npm run bench`): what the datapoint logs cost in
 * DynamoDB at fleet scale, and what reads hold at depth and width.
 *
 * - Logger capacity (dynalite + bench/dynamo-meter.ts): write and read units per event at fleet-shaped
 *   batches (each datapoint once per batch), nothing configured and every update logged; $ per 1M events.
 * - Hot keys (bench/memory-table.ts, the real logger and stores): the busiest partition key's writes/s for a
 *   100k-device OEM at one event per device per minute, the registration minute and a logging minute.
 * - Page depth (dynalite, through the value route's handler): page k against page 1 at 100k values.
 * - Wildcard read heap (child processes, bench/wildcard-memory.ts): 10k and 100k datapoints.
 *
 * Writes its sections of bench/REPORT.md and its figures in bench/results.json (the rest stays).
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DatapointLogStore } from '../lambdas/adapters/dynamodb/datapoint-log-store';
import { ValueStore } from '../lambdas/adapters/dynamodb/value-store';
import { oemPartition, REGISTRY_BUCKETS } from '../lambdas/domain/datapoint-logs/keys';
import { logOemBatch, type BatchEvent } from '../lambdas/domain/datapoint-logs/log-datapoints';
import { valueId, type DatapointRef, type StoredValue } from '../lambdas/domain/datapoint-logs/records';
import type { DeviceEvent } from '../lambdas/domain/device-events';
import { handleLogValues } from '../lambdas/functions/iap-log-values/log-values';
import type { Figure } from './datapoint-logs';
import { startDynamo } from './dynamo-meter';
import { PRICES_READ } from './export-cost';
import { memoryTable } from './memory-table';

/**
 * DynamoDB on-demand, standard table class, us-east-1 (read on the date of {@link PRICES_READ}): the
 * list prices since the on-demand reduction of November 2024.
 */
export const DYNAMODB_PRICES = { perMillionWriteUnits: 0.625, perMillionReadUnits: 0.125 } as const;

const TABLE = 'bench-datapoint-log-writes';
const CAPACITY = 'Datapoint logger: DynamoDB capacity at fleet-shaped batches';
const HOT = 'Datapoint logs: busiest partition key, 100k-device OEM at 1 event/device/min';
const READS = 'IAP reads at depth and width';
const OWN = new Set([CAPACITY, HOT, READS]);

function datapointEvent(oemId: string, dsn: string, name: string, at: number, value: number, id: string): BatchEvent {
  const ts = new Date(at).toISOString();
  const event = {
    metadata: { oem_id: oemId, oem_model: 'bench', dsn, resource_tags: [], event_type: 'datapoint', property_name: name, display_name: name, base_type: 'integer' },
    datapoint: { id, updated_at: ts, created_at: ts, value, metadata: {} },
  } as unknown as DeviceEvent;
  return { event, arrivalMs: at };
}

function connectivityEvent(oemId: string, dsn: string, at: number, online: boolean): BatchEvent {
  const event = {
    metadata: { oem_id: oemId, oem_model: 'bench', dsn, resource_tags: [], event_type: 'connectivity' },
    connection: { event_time: new Date(at).toISOString(), user_uuid: null, status: online ? 'Online' : 'Offline' },
  } as unknown as DeviceEvent;
  return { event, arrivalMs: at };
}

/** Write and read units per event, nothing configured and every update logged, on dynalite. */
async function loggerCapacity(log: (line: string) => void): Promise<Figure[]> {
  const dynamo = await startDynamo(TABLE);
  try {
    const stores = { registry: new DatapointLogStore(dynamo.doc, TABLE), values: new ValueStore(dynamo.doc, TABLE) };
    const devices = 250;
    const names = ['temp', 'humidity', 'power', 'energy'];
    const batches = 5;
    const start = Date.UTC(2026, 11, 1);
    /** One batch: every datapoint of the fleet once (fleet-shaped), a minute after the previous batch. */
    const batch = (oemId: string, b: number) => {
      const events: BatchEvent[] = [];
      for (let d = 0; d < devices; d++) for (const name of names) events.push(datapointEvent(oemId, `DEV${d}`, name, start + b * 60_000, b * 10 + d, `${oemId}-${d}-${name}-${b}`));
      return events;
    };
    const run = async (oemId: string, configure: boolean) => {
      // The first batch registers every datapoint (measured apart: it happens once per datapoint).
      dynamo.meter.reset();
      await logOemBatch(oemId, batch(oemId, 0), stores, Date.now());
      const registration = { write: dynamo.meter.writeUnits + dynamo.meter.indexWriteUnits, read: dynamo.meter.readUnits };
      if (configure) {
        const refs: DatapointRef[] = [];
        for await (const dp of stores.registry.queryDatapoints(oemId, {})) refs.push(dp);
        await Promise.all(refs.map((r) => stores.registry.updateConfig(oemId, r, { levels: { 1: { interval: 0, retention: 7 } }, minDeltaValue: 'always' }, Date.now())));
      }
      dynamo.meter.reset();
      let logged = 0;
      for (let b = 1; b <= batches; b++) logged += (await logOemBatch(oemId, batch(oemId, b), stores, Date.now())).logged;
      const events = batches * devices * names.length;
      return { registration, events, logged, write: dynamo.meter.writeUnits + dynamo.meter.indexWriteUnits, index: dynamo.meter.indexWriteUnits, read: dynamo.meter.readUnits };
    };
    log('  nothing configured…');
    const idle = await run('bench-unconfigured', false);
    log('  every update logged…');
    const busy = await run('bench-logging', true);
    const datapoints = devices * names.length;
    const dollars = (w: number, r: number) => (w * DYNAMODB_PRICES.perMillionWriteUnits + r * DYNAMODB_PRICES.perMillionReadUnits);
    const shape = `${datapoints.toLocaleString('en')} datapoints (${devices} devices × ${names.length}), ${batches} batches of each datapoint once`;
    return [
      { section: CAPACITY, name: `nothing configured: write units per event (${shape})`, value: idle.write / idle.events, unit: 'WRU', goal: '≤ 0.1', pass: idle.write / idle.events <= 0.1 },
      { section: CAPACITY, name: 'nothing configured: read units per event', value: idle.read / idle.events, unit: 'RRU' },
      { section: CAPACITY, name: 'nothing configured: $ per 1M events (on-demand writes + reads)', value: +dollars(idle.write / idle.events, idle.read / idle.events).toFixed(4), unit: '$' },
      { section: CAPACITY, name: 'registration (once per datapoint, its first batch): write units per new datapoint, table and index', value: idle.registration.write / datapoints, unit: 'WRU' },
      { section: CAPACITY, name: `every update logged (level 1, minDeltaValue always): write units per logged value (${busy.logged.toLocaleString('en')} values)`, value: busy.write / busy.logged, unit: 'WRU', goal: '≤ 1.2', pass: busy.write / busy.logged <= 1.2 },
      { section: CAPACITY, name: 'every update logged: of which index write units', value: busy.index, unit: 'WRU' },
      { section: CAPACITY, name: 'every update logged: read units per event', value: busy.read / busy.events, unit: 'RRU' },
      { section: CAPACITY, name: 'every update logged: $ per 1M events (on-demand writes + reads)', value: +dollars(busy.write / busy.events, busy.read / busy.events).toFixed(4), unit: '$' },
    ];
  } finally {
    await dynamo.close();
  }
}

/**
 * A 100k-device OEM, each device one event a minute (1,667 events/s), in batches of 1,000 as a shard's
 * logger gets them: writes per partition key over the minute, the busiest as writes/s.
 */
async function hotKeys(log: (line: string) => void): Promise<Figure[]> {
  const devices = 100_000;
  const oemId = 'bench-100k';
  const names = ['temp', 'humidity', 'power', 'energy', 'state'];
  const table = memoryTable();
  const stores = { registry: new DatapointLogStore(table.doc, TABLE), values: new ValueStore(table.doc, TABLE) };
  const start = Date.UTC(2026, 11, 1);
  /** Minute `m`: device d sends one event; every tenth device a connectivity event instead of a datapoint. */
  const minute = async (m: number) => {
    table.writesByKey.clear();
    let batch: BatchEvent[] = [];
    for (let d = 0; d < devices; d++) {
      const dsn = `AC000W${String(d).padStart(9, '0')}`;
      const at = start + m * 60_000 + Math.floor((d / devices) * 60_000);
      batch.push(d % 10 === 9 ? connectivityEvent(oemId, dsn, at, m % 2 === 0) : datapointEvent(oemId, dsn, names[m % names.length]!, at, m * 7 + d, `${dsn}-${m}`));
      if (batch.length === 1000) {
        await logOemBatch(oemId, batch, stores, start + m * 60_000);
        batch = [];
      }
    }
    if (batch.length > 0) await logOemBatch(oemId, batch, stores, start + m * 60_000);
    const [key, writes] = [...table.writesByKey].reduce((a, b) => (b[1] > a[1] ? b : a), ['', 0]);
    const registry = [...table.writesByKey].filter(([pk]) => pk.startsWith(`${oemPartition(oemId)}#`)).reduce((n, [, w]) => Math.max(n, w), 0);
    return { key, perSecond: writes / 60, registryPerSecond: registry / 60, counterPerSecond: (table.writesByKey.get(oemPartition(oemId)) ?? 0) / 60 };
  };
  log('  registration minute (every datapoint event new)…');
  const first = await minute(0);
  // Configure every datapoint it registered: from now on each datapoint event logs a value.
  log('  configuring every datapoint…');
  const refs: DatapointRef[] = [];
  for await (const dp of stores.registry.queryDatapoints(oemId, {})) refs.push(dp);
  for (let i = 0; i < refs.length; i += 1000) {
    await Promise.all(refs.slice(i, i + 1000).map((r) => stores.registry.updateConfig(oemId, r, { levels: { 1: { interval: 0, retention: 7 } }, minDeltaValue: 'always' }, start)));
  }
  log('  a logging minute (the same datapoints, every update logged)…');
  const steady = await minute(5); // names[5 % 5] = the datapoints minute 0 registered
  const kind = (pk: string) => (pk.startsWith('VAL#') ? 'a datapoint\'s values' : pk === oemPartition(oemId) ? 'the id counter' : 'a registry bucket');
  const goal = '≤ 300 (DynamoDB: 1,000 per partition)';
  return [
    { section: HOT, name: `registration minute: busiest key (${kind(first.key)}), writes/s`, value: +first.perSecond.toFixed(1), unit: 'writes/s', goal, pass: first.perSecond <= 300 },
    { section: HOT, name: `registration minute: busiest registry bucket (of ${REGISTRY_BUCKETS}), writes/s`, value: +first.registryPerSecond.toFixed(1), unit: 'writes/s' },
    { section: HOT, name: 'registration minute: the OEM\'s id counter (one write per batch that registers), writes/s', value: +first.counterPerSecond.toFixed(1), unit: 'writes/s' },
    { section: HOT, name: `logging minute (90% datapoint events, every one logged; 10% connectivity): busiest key (${kind(steady.key)}), writes/s`, value: +steady.perSecond.toFixed(1), unit: 'writes/s', goal, pass: steady.perSecond <= 300 },
    { section: HOT, name: 'logging minute: busiest registry bucket, writes/s', value: +steady.registryPerSecond.toFixed(1), unit: 'writes/s' },
  ];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Page k against page 1 of a datapoint with `stored` values, each page asked for with the previous page's `next`. */
async function pageDepth(log: (line: string) => void, stored: number): Promise<Figure[]> {
  const dynamo = await startDynamo(TABLE);
  try {
    const stores = { registry: new DatapointLogStore(dynamo.doc, TABLE), values: new ValueStore(dynamo.doc, TABLE) };
    const oemId = 'bench-depth';
    const ref: DatapointRef = { dsn: 'DEV1', block: 'device', blockIndex: 0, name: 'energy' };
    const [record] = (await stores.registry.registerDatapoints(oemId, [ref], Date.now())).values();
    await stores.registry.updateConfig(oemId, ref, { levels: { 1: { interval: 0, retention: 36_500 } } }, Date.now());
    const start = Date.UTC(2026, 0, 1);
    log(`  writing ${stored.toLocaleString('en')} values…`);
    for (let i = 0; i < stored; i += 5000) {
      const chunk: Array<{ ref: DatapointRef; value: StoredValue }> = [];
      for (let s = i + 1; s <= Math.min(stored, i + 5000); s++) {
        chunk.push({ ref, value: { id: valueId(record!.id, s), sequence: s, at: start + s * 60_000, value: s, levels: [1], deviceState: 'provisioned', deviceHealth: 'normal', expiresAt: 4_000_000_000 } });
      }
      await stores.values.putValues(oemId, chunk);
    }
    const size = 1000;
    const ask = async (pg: number, xs?: string) => {
      const event = {
        requestContext: { http: { method: 'GET' }, authorizer: { jwt: { claims: { sub: 'bench', 'custom:oem_id': oemId }, scopes: null } } },
        pathParameters: { id: ref.dsn, block: 'device', block_index: '0', datapoint_name: 'energy', value_param: '*' },
        queryStringParameters: { pg: String(pg), sz: String(size), ...(xs ? { xs } : {}) },
      } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
      const reply = await handleLogValues(event, stores, Date.now());
      if (reply.statusCode !== 200) throw new Error(`page ${pg}: ${reply.statusCode} ${reply.body}`);
      return JSON.parse(reply.body as string) as { next?: string; resources: unknown[] };
    };
    // Walk to the last page by tokens, keeping the token of each page.
    log('  walking every page by its token…');
    const tokens: Array<string | undefined> = [undefined];
    for (let pg = 0; ; pg++) {
      const page = await ask(pg, tokens[pg]);
      if (!page.next) break;
      tokens.push(page.next);
    }
    const last = tokens.length - 1;
    const time = async (pg: number) => {
      const t = performance.now();
      await ask(pg, tokens[pg]);
      return performance.now() - t;
    };
    for (let i = 0; i < 5; i++) await Promise.all([time(0), time(last)].map((p) => p));
    const first: number[] = [];
    const deep: number[] = [];
    for (let i = 0; i < 30; i++) {
      first.push(await time(0));
      deep.push(await time(last));
    }
    const ratio = median(deep) / median(first);
    return [{
      section: READS,
      name: `page ${last + 1} of ${last + 1} (sz=${size}, reached with the previous page's next token), ${stored.toLocaleString('en')} values, median of 30 (dynalite)`,
      value: +median(deep).toFixed(1),
      unit: 'ms',
      baseline: { name: 'page 1', value: +median(first).toFixed(1), unit: 'ms' },
      ratio,
      goal: '≤ 1.5',
      pass: ratio <= 1.5,
    }];
  } finally {
    await dynamo.close();
  }
}

/** Peak heap growth of wildcard reads over `datapoints` datapoints, in a child process each. */
function wildcardHeap(datapoints: number): Figure[] {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(__dirname, 'wildcard-memory.ts'), String(datapoints)], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8' });
  const result = JSON.parse(out) as Array<{ read: string; status: number; code?: string; peakHeapGrowthBytes: number }>;
  return result.map((r) => ({
    section: READS,
    name: `heap growth of ${r.read} over ${datapoints.toLocaleString('en')} datapoints (answer ${r.status}${r.code ? ` ${r.code}` : ''})`,
    value: +(r.peakHeapGrowthBytes / 2 ** 20).toFixed(1),
    unit: 'MiB',
    goal: '< 256 MiB',
    pass: r.peakHeapGrowthBytes < 256 * 2 ** 20,
  }));
}

const REPORT = path.join(__dirname, 'REPORT.md');
const RESULTS = path.join(__dirname, 'results.json');

function notes(): string[] {
  return [
    `Measured ${new Date().toISOString().slice(0, 10)}; prices: DynamoDB on-demand, standard table class, us-east-1 ($${DYNAMODB_PRICES.perMillionWriteUnits} per 1M write units, $${DYNAMODB_PRICES.perMillionReadUnits} per 1M read units; read ${PRICES_READ}).`,
    'Table units are the `ConsumedCapacity` dynalite returns for each request (`ReturnConsumedCapacity: TOTAL`: DynamoDB\'s rules, 1 KB per write unit,',
    '4 KB per read unit, half for eventually consistent reads); dynalite charges nothing for indexes, so the `byName` index\'s write units are computed',
    'from the entries\' sizes by DynamoDB\'s rules (bench/dynamo-meter.ts). The 100k-device figures run the real logger and stores over an in-memory',
    'table that counts item writes per partition key (bench/memory-table.ts): dynalite would take minutes for 100k events a minute.',
  ];
}

function table(figures: readonly Figure[]): string[] {
  const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en') : n.toFixed(3));
  return [
    '| figure | value | baseline (same run) | ratio | goal | met |',
    '|---|---|---|---|---|---|',
    ...figures.map((f) => `| ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.baseline.unit}` : ''} | ${f.ratio === undefined ? '' : f.ratio.toFixed(2)} | ${f.goal ?? ''} | ${f.pass === undefined ? '' : f.pass ? 'yes' : '**no**'} |`),
  ];
}

/** Replaces this part's sections in the report (appended when absent) and its figures in results.json. */
async function updateReport(figures: readonly Figure[]): Promise<void> {
  const blocks: string[] = [];
  [...new Set(figures.map((f) => f.section))].forEach((section, i) => {
    blocks.push(`## ${section}`, '', ...(i === 0 ? [...notes(), ''] : []), ...table(figures.filter((f) => f.section === section)), '');
  });
  const kept: string[] = [];
  let skipping = false;
  for (const line of (await readFile(REPORT, 'utf8')).split('\n')) {
    if (line.startsWith('## ')) skipping = OWN.has(line.slice(3));
    if (!skipping) kept.push(line);
  }
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  await writeFile(REPORT, `${[...kept, '', ...blocks].join('\n').trimEnd()}\n`);
  const results = JSON.parse(await readFile(RESULTS, 'utf8')) as { figures: Figure[] } & Record<string, unknown>;
  results.figures = [...results.figures.filter((f) => !OWN.has(f.section)), ...figures];
  await writeFile(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
}

/** Runs the part; `writeReport` rewrites its sections once the run has written its own report. */
export async function datapointLogScaleBenchmark(log: (line: string) => void): Promise<{ figures: Figure[]; writeReport: () => Promise<void> }> {
  const figures: Figure[] = [];
  log('logger capacity units…');
  figures.push(...(await loggerCapacity(log)));
  log('busiest partition key of a 100k-device OEM…');
  figures.push(...(await hotKeys(log)));
  log('page depth at 100k values…');
  figures.push(...(await pageDepth(log, 100_000)));
  for (const n of [10_000, 100_000]) {
    log(`wildcard read heap over ${n} datapoints…`);
    figures.push(...wildcardHeap(n));
  }
  return { figures, writeReport: () => updateReport(figures) };
}
