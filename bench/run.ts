/**
 * `npm run bench`: every benchmark side by side in one run, each figure with the baseline measured
 * in the same run. Writes bench/REPORT.md and bench/results.json.
 */
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeStagedBatch } from '../lambdas/domain/export/stage-batch';
import { startLocalCloud } from '../infra/local-cloud/local-cloud';
import { createFleet } from '../tools/simulator/fleet';
import { bundleBenchmark } from './bundles';
import { startBenchmark } from './start';
import { exportScaleBenchmark } from './export-cost';
import { loggerBenchmark, valueQueryBenchmark, type Figure } from './datapoint-logs';
import { datapointLogScaleBenchmark } from './datapoint-log-writes';
import { bulkJobsBenchmark } from './bulk-jobs';
import { createPipelineApp } from '../infra/pipeline-app';
import { mixedBatch, nullStore, STAGE_OPTIONS } from './fixtures';
import { csvRow } from '../lambdas/domain/export/csv';
import { validateEvent } from '../lambdas/domain/device-events';

/** The CSV row an event becomes (the encoder itself is pinned to the seed by unit tests). */
function rowOf(event: unknown): string {
  const result = validateEvent(event);
  if (!result.ok) throw new Error(result.reason);
  return csvRow(result.event, result.type);
}

const ROOT = path.resolve(__dirname, '..');
const figures: Figure[] = [];
/** Parts that write their own sections (with notes) into the report once the run has written it. */
const afterReport: Array<() => Promise<void>> = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (line: string) => process.stderr.write(`${line}\n`);

async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Exporter encoding throughput against merely base64-decoding and JSON.parse-ing the same records. */
async function exporterThroughput(): Promise<void> {
  const { records, base64 } = mixedBatch(10_000);
  const baseline = () => {
    let keys = 0;
    for (const data of base64) keys += Object.keys(JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as object).length;
    return keys;
  };
  const exporter = () => writeStagedBatch(base64.map((data, i) => ({ ...records[i]!, data: Buffer.from(data, 'base64') })), nullStore, Date.now(), STAGE_OPTIONS);
  for (let i = 0; i < 3; i++) {
    baseline();
    await exporter();
  }
  const baseTimes: number[] = [];
  const exportTimes: number[] = [];
  for (let i = 0; i < 15; i++) {
    baseTimes.push(await time(baseline));
    exportTimes.push(await time(exporter));
  }
  const base = median(baseTimes);
  const exp = median(exportTimes);
  const ratio = base / exp;
  figures.push({
    section: 'Exporter',
    name: 'encoding throughput, 10,000-record mixed batch',
    value: Math.round(10_000 / (exp / 1000)),
    unit: 'records/s',
    baseline: { name: 'base64 decode + JSON.parse of the same records', value: Math.round(10_000 / (base / 1000)), unit: 'records/s' },
    ratio,
    goal: '≥ 0.5',
    pass: ratio >= 0.5,
  });
}

function exporterMemory(): void {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(__dirname, 'exporter-memory.ts'), '10000'], { cwd: ROOT, encoding: 'utf8' });
  const result = JSON.parse(out) as { batchBytes: number; peakHeapGrowthBytes: number };
  const ratio = result.peakHeapGrowthBytes / result.batchBytes;
  figures.push({
    section: 'Exporter',
    name: 'peak heap growth exporting one 10,000-record batch',
    value: +(result.peakHeapGrowthBytes / 2 ** 20).toFixed(1),
    unit: 'MiB',
    baseline: { name: 'the batch’s record data', value: +(result.batchBytes / 2 ** 20).toFixed(1), unit: 'MiB' },
    ratio,
    goal: 'a small multiple of the batch (≤ 10×)',
    pass: ratio <= 10,
  });
}

/**
 * The whole pipeline on the local cloud: a fleet sends events at a steady rate for `seconds`; then
 * the time until every event is a CSV row on S3 and every datapoint update a value in the IAP API,
 * and how many are missing.
 */
/** The local demo's export settings: one-minute windows compacted 2 s after they close. */
const E2E_CONTEXT = { exportWindowMinutes: '1', exportCompactionDelaySeconds: '2', exportCompactionPartitions: '2', exportBatchingWindowSeconds: '1' };

async function pipelineEndToEnd(seconds: number, rate: number): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-cloud-'));
  const cloud = await startLocalCloud({ rootDir: ROOT, dataDir, edgePort: 0, apiPort: 0, context: E2E_CONTEXT, log: () => undefined, functionLog: () => undefined });
  const config = { region: cloud.region, endpoint: cloud.edgeUrl, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } };
  const kinesis = new KinesisClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  try {
    const fleet = createFleet({ oems: ['bench-a', 'bench-b', 'bench-c'], devicesPerOem: 10, seed: 5 });
    const tokens = new Map<string, string>();
    for (const { oemId } of fleet.oems) tokens.set(oemId, await cloud.issuer.sign({ oemId }));
    // Log every update of every datapoint of the fleet (level 1, every value).
    for (const device of fleet.devices) {
      for (const p of device.properties) {
        const url = `${cloud.apiUrl}/iap/devs/${encodeURIComponent(device.dsn)}/if/${encodeURIComponent(p.block)}/${p.blockIndex}/${encodeURIComponent(p.name)}/logs`;
        const reply = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${tokens.get(device.oemId)}` }, body: JSON.stringify({ level1: { interval: 0, retention: 1 }, minDeltaValue: 'always' }) });
        if (reply.status !== 200) throw new Error(`configuring ${url}: ${reply.status} ${await reply.text()}`);
      }
    }

    const expectedRows = new Set<string>();
    const expectedValues = new Map<string, number>();
    const started = Date.now();
    let sent = 0;
    for (let tick = 0; Date.now() - started < seconds * 1000; tick++) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate) - sent;
      const events = Array.from({ length: Math.max(0, due) }, () => fleet.nextEvent(new Date()));
      for (let i = 0; i < events.length; i += 500) {
        const chunk = events.slice(i, i + 500);
        const out = await kinesis.send(new PutRecordsCommand({ StreamName: cloud.outputs.EventStreamName, Records: chunk.map((e) => ({ PartitionKey: e.metadata.dsn, Data: Buffer.from(JSON.stringify(e)) })) }));
        if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} records not put`);
      }
      for (const event of events) {
        expectedRows.add(rowOf(event));
        if (event.metadata.event_type === 'datapoint') expectedValues.set(event.metadata.oem_id, (expectedValues.get(event.metadata.oem_id) ?? 0) + 1);
      }
      sent += events.length;
      await new Promise((r) => setTimeout(r, 100));
    }
    const putDone = Date.now();

    const foundRows = new Set<string>();
    const readFiles = new Set<string>();
    let rowsAt = 0;
    let valuesAt = 0;
    let foundValues = 0;
    const deadline = Date.now() + 180_000;
    while ((!rowsAt || !valuesAt) && Date.now() < deadline) {
      if (!rowsAt) {
        for (const { oemId } of fleet.oems) {
          let token: string | undefined;
          do {
            const page = await s3.send(new ListObjectsV2Command({ Bucket: cloud.outputs.ExportBucketName, Prefix: `${oemId}/`, ContinuationToken: token }));
            for (const { Key } of page.Contents ?? []) {
              if (readFiles.has(Key!)) continue;
              const text = await (await s3.send(new GetObjectCommand({ Bucket: cloud.outputs.ExportBucketName, Key }))).Body!.transformToString();
              for (const line of text.split('\r\n').slice(1)) if (expectedRows.has(line)) foundRows.add(line);
              readFiles.add(Key!);
            }
            token = page.NextContinuationToken;
          } while (token);
        }
        if (foundRows.size === expectedRows.size) rowsAt = Date.now();
      }
      if (!valuesAt) {
        foundValues = 0;
        for (const { oemId } of fleet.oems) foundValues += await countValues(cloud.apiUrl, tokens.get(oemId)!);
        const expected = [...expectedValues.values()].reduce((a, b) => a + b, 0);
        if (foundValues >= expected) valuesAt = Date.now();
      }
      if (!rowsAt || !valuesAt) await new Promise((r) => setTimeout(r, 500));
    }
    const expectedValueCount = [...expectedValues.values()].reduce((a, b) => a + b, 0);
    const section = `End to end (local cloud, ${seconds} s at ${rate} events/s)`;
    figures.push(
      { section, name: 'events put on the stream', value: sent, unit: 'events' },
      { section, name: 'sustained put rate', value: Math.round(sent / ((putDone - started) / 1000)), unit: 'events/s' },
      { section, name: 'export: lag from the last put to every row on S3 (one-minute windows, 2 s grace: at most a window + grace + compaction)', value: rowsAt ? rowsAt - putDone : NaN, unit: 'ms' },
      { section, name: 'export: events missing', value: expectedRows.size - foundRows.size, unit: 'events', goal: '0', pass: foundRows.size === expectedRows.size },
      { section, name: 'export: CSV files', value: readFiles.size, unit: 'files' },
      { section, name: 'datapoint logs: lag from the last put to every value in the API', value: valuesAt ? valuesAt - putDone : NaN, unit: 'ms' },
      { section, name: 'datapoint logs: values missing', value: Math.max(0, expectedValueCount - foundValues), unit: 'values', goal: '0', pass: foundValues >= expectedValueCount },
    );
  } finally {
    kinesis.destroy();
    s3.destroy();
    await cloud.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** All values of an OEM through the IAP API, page by page. */
async function countValues(apiUrl: string, token: string): Promise<number> {
  let count = 0;
  for (let page = 0; ; page++) {
    const reply = await fetch(`${apiUrl}/iap/devs/*/if/*/*/*/logs/value/*?pg=${page}&sz=1000`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await reply.json()) as { resources: unknown[]; remainingPages: number };
    count += body.resources.length;
    if (body.remainingPages === 0) return count;
  }
}

function report(): string {
  const fmt = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en') : n.toFixed(2));
  const lines = [
    '# Benchmark report',
    '',
    `Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node.js ${process.version}, ${os.platform()} ${os.arch()}.`,
    'Reproduce with `npm run bench`. Baselines are measured in the same run, side by side; ratios are what the goals judge,',
    'since absolute figures depend on the machine and its load.',
    '',
  ];
  for (const section of [...new Set(figures.map((f) => f.section))]) {
    lines.push(`## ${section}`, '', '| figure | value | baseline (same run) | ratio | goal | met |', '|---|---|---|---|---|---|');
    for (const f of figures.filter((x) => x.section === section)) {
      lines.push(`| ${f.name} | ${fmt(f.value)} ${f.unit} | ${f.baseline ? `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.baseline.unit}` : ''} | ${f.ratio === undefined ? '' : f.ratio.toFixed(2)} | ${f.goal ?? ''} | ${f.pass === undefined ? '' : f.pass ? 'yes' : '**no**'} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const only = process.env.BENCH_ONLY;
  if (!only || only === 'exporter') {
    log('exporter throughput…');
    await exporterThroughput();
    log('exporter memory…');
    exporterMemory();
  }
  if (!only || only === 'e2e') {
    const seconds = Number(process.env.BENCH_E2E_SECONDS ?? 60);
    log(`the pipeline end to end on the local cloud for ${seconds} s…`);
    await pipelineEndToEnd(seconds, 250);
  }
  if (!only || only === 'logs') {
    log('datapoint logger…');
    figures.push(...(await loggerBenchmark()));
    for (const stored of [1_000, 100_000]) {
      log(`value queries over ${stored} stored values…`);
      figures.push(...(await valueQueryBenchmark(stored)));
    }
  }
  if (!only || only === 'bulk-jobs') await bulkJobsBenchmark(log).then((part) => (figures.push(...part.figures), afterReport.push(part.writeReport)));
  if (!only || only === 'logs-scale') {
    log('datapoint logs at scale: capacity units, hot keys, page depth, wildcard heap…');
    const part = await datapointLogScaleBenchmark(log);
    figures.push(...part.figures);
    afterReport.push(part.writeReport);
  }
  if (!only || only === 'export-scale') {
    log('export at fleet scale, and its cost model…');
    const part = await exportScaleBenchmark(log);
    figures.push(...part.figures);
    afterReport.push(part.writeReport);
  }
  if (!only || only === 'start') {
    log('local cloud start, cold and warm…');
    figures.push(...(await startBenchmark(log)));
  }
  if (only && only !== 'bundles') return finish();
  log('Lambda bundles…');
  const outdir = await mkdtemp(path.join(os.tmpdir(), 'bench-assembly-'));
  try {
    const assembly = createPipelineApp({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } }).app.synth();
    figures.push(...bundleBenchmark(assembly.directory));
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
  await finish();
}

async function finish(): Promise<void> {
  const markdown = report();
  if (process.env.BENCH_ONLY) {
    // A partial run (BENCH_ONLY=exporter|e2e|logs|start|bundles) prints its figures and keeps the report;
    // export-scale rewrites its own sections in it.
    for (const write of afterReport) await write();
    process.stdout.write(`${markdown}\n`);
    return;
  }
  await writeFile(path.join(__dirname, 'REPORT.md'), `${markdown}\n`);
  await writeFile(path.join(__dirname, 'results.json'), `${JSON.stringify({ runAt: new Date().toISOString(), node: process.version, cpus: os.cpus().length, figures }, null, 2)}\n`);
  for (const write of afterReport) await write();
  process.stdout.write(`${markdown}\n`);
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
