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
import { exportBatch } from '../lambdas/exporter/export-batch';
import { startLocalCloud } from '../infra/local-cloud/local-cloud';
import { generateEvents } from '../tools/simulator/fleet';
import { bundleBenchmark } from './bundles';
import { loggerBenchmark, valueQueryBenchmark, type Figure } from './datapoint-logs';
import { createPipelineApp } from '../infra/pipeline-app';
import { mixedBatch, nullStore } from './fixtures';
import { csvRow } from '../lambdas/exporter/csv';
import { validateEvent } from '../lambdas/shared/device-events';

/** The CSV row an event becomes (the encoder itself is pinned to the seed by unit tests). */
function rowOf(event: unknown): string {
  const result = validateEvent(event);
  if (!result.ok) throw new Error(result.reason);
  return csvRow(result.event, result.type);
}

const ROOT = path.resolve(__dirname, '..');
const figures: Figure[] = [];
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
  const exporter = () => exportBatch(base64.map((data, i) => ({ ...records[i]!, data: Buffer.from(data, 'base64') })), nullStore);
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

/** Events put on the stream until every row is in a CSV on S3, through the whole local cloud. */
async function exporterEndToEnd(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-cloud-'));
  const cloud = await startLocalCloud({ rootDir: ROOT, dataDir, edgePort: 0, apiPort: 0, context: { exportBatchingWindowSeconds: '1' }, log: () => undefined, functionLog: () => undefined });
  const config = { region: cloud.region, endpoint: cloud.edgeUrl, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } };
  const kinesis = new KinesisClient(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  try {
    const count = 20_000;
    const oems = ['bench-a', 'bench-b', 'bench-c', 'bench-d'];
    const events = generateEvents({ oems, devicesPerOem: 25, seed: 3, count, start: new Date(Date.UTC(2026, 10, 22)), intervalMs: 1000 });
    const started = Date.now();
    const chunks = [];
    for (let i = 0; i < events.length; i += 500) chunks.push(events.slice(i, i + 500));
    for (let i = 0; i < chunks.length; i += 4) {
      await Promise.all(chunks.slice(i, i + 4).map((chunk) => kinesis.send(new PutRecordsCommand({
        StreamName: cloud.outputs.EventStreamName,
        Records: chunk.map((e) => ({ PartitionKey: e.metadata.dsn, Data: Buffer.from(JSON.stringify(e)) })),
      }))));
    }
    const putDone = Date.now();
    // Identical events (a device registering twice) are one row in a file: count distinct rows.
    const expected = new Set(events.map(rowOf));
    const found = new Set<string>();
    const seen = new Set<string>();
    const deadline = Date.now() + 180_000;
    while (found.size < expected.size && Date.now() < deadline) {
      for (const oem of oems) {
        let token: string | undefined;
        do {
          const page = await s3.send(new ListObjectsV2Command({ Bucket: cloud.outputs.ExportBucketName, Prefix: `${oem}/`, ContinuationToken: token }));
          for (const { Key } of page.Contents ?? []) {
            if (seen.has(Key!)) continue;
            const text = await (await s3.send(new GetObjectCommand({ Bucket: cloud.outputs.ExportBucketName, Key }))).Body!.transformToString();
            for (const line of text.split('\r\n').slice(1)) if (expected.has(line)) found.add(line);
            seen.add(Key!);
          }
          token = page.NextContinuationToken;
        } while (token);
      }
      if (found.size < expected.size) await new Promise((r) => setTimeout(r, 200));
    }
    const visible = Date.now();
    figures.push({
      section: 'Exporter',
      name: `end to end on the local cloud: ${count.toLocaleString('en')} events from PutRecords to CSV rows on S3`,
      value: Math.round(count / ((visible - started) / 1000)),
      unit: 'events/s',
    });
    figures.push({ section: 'Exporter', name: 'end to end: lag from the last put to the last row visible (1 s batching window)', value: visible - putDone, unit: 'ms' });
    figures.push({ section: 'Exporter', name: 'end to end: events missing after 3 minutes', value: expected.size - found.size, unit: 'events', goal: '0', pass: found.size === expected.size });
    figures.push({ section: 'Exporter', name: 'end to end: CSV files written', value: seen.size, unit: 'files' });
  } finally {
    kinesis.destroy();
    s3.destroy();
    await cloud.stop();
    await rm(dataDir, { recursive: true, force: true });
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
  log('exporter throughput…');
  await exporterThroughput();
  log('exporter memory…');
  exporterMemory();
  log('exporter end to end on the local cloud…');
  await exporterEndToEnd();
  log('datapoint logger…');
  figures.push(...(await loggerBenchmark()));
  for (const stored of [1_000, 100_000]) {
    log(`value queries over ${stored} stored values…`);
    figures.push(...(await valueQueryBenchmark(stored)));
  }
  log('Lambda bundles…');
  const outdir = await mkdtemp(path.join(os.tmpdir(), 'bench-assembly-'));
  try {
    const assembly = createPipelineApp({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } }).app.synth();
    figures.push(...bundleBenchmark(assembly.directory));
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
  const markdown = report();
  await writeFile(path.join(__dirname, 'REPORT.md'), `${markdown}\n`);
  await writeFile(path.join(__dirname, 'results.json'), `${JSON.stringify({ runAt: new Date().toISOString(), node: process.version, cpus: os.cpus().length, figures }, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
