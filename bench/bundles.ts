/**
 * Each Lambda bundle's size and cold module-init time, against a bundle built the same way that
 * only imports (and constructs) the SDK clients the function uses: what the function adds on top
 * of its unavoidable dependencies.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import type { Figure } from './datapoint-logs';
import { ENV as NAMES } from '../lambdas/shared/config';

const ROOT = path.resolve(__dirname, '..');

/** The SDK clients each function constructs at module scope, as its baseline imports them. */
const BASELINES: Record<string, string> = {
  HealthFunction: '',
  IdentityFunction: '',
  ExporterFunction: "import { S3Client } from '@aws-sdk/client-s3'; new S3Client({});",
  DatapointLoggerFunction: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; DynamoDBDocumentClient.from(new DynamoDBClient({}));",
  IapLogConfigFunction: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; import { SQSClient } from '@aws-sdk/client-sqs'; DynamoDBDocumentClient.from(new DynamoDBClient({})); new SQSClient({});",
  IapLogValuesFunction: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; import { SQSClient } from '@aws-sdk/client-sqs'; DynamoDBDocumentClient.from(new DynamoDBClient({})); new SQSClient({});",
  IapJobsFunction: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; DynamoDBDocumentClient.from(new DynamoDBClient({}));",
  IapJobWorkerFunction: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; import { SQSClient } from '@aws-sdk/client-sqs'; DynamoDBDocumentClient.from(new DynamoDBClient({})); new SQSClient({});",
  ExportPlannerFunction: "import { S3Client } from '@aws-sdk/client-s3'; import { SQSClient } from '@aws-sdk/client-sqs'; new S3Client({}); new SQSClient({});",
  ExportCompactorFunction: "import { S3Client } from '@aws-sdk/client-s3'; new S3Client({});",
  ExportFilesFunction: "import { S3Client } from '@aws-sdk/client-s3'; import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; new S3Client({}); DynamoDBDocumentClient.from(new DynamoDBClient({}));",
  ExportCredentialsFunction: "import { IAMClient } from '@aws-sdk/client-iam'; import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; new IAMClient({}); new SecretsManagerClient({}); DynamoDBDocumentClient.from(new DynamoDBClient({}));",
};

/** Environment every function needs at init (config is checked at cold start), by the names the functions read. */
const ENV = {
  [NAMES.region]: 'us-east-1', [NAMES.exportBucket]: 'b', [NAMES.datapointLogTable]: 't', [NAMES.iamPath]: '/p/',
  [NAMES.secretPrefix]: 'p/', [NAMES.lockTable]: 'l', [NAMES.exportWindowSeconds]: '300', [NAMES.exportCompactionPartitions]: '16',
  [NAMES.exportCompactionDelaySeconds]: '15', [NAMES.exportFileSizeCapBytes]: String(64 * 1024 * 1024),
  [NAMES.compactionQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/tasks.fifo', [NAMES.serviceName]: 'bench',
  [NAMES.jobQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/000000000000/jobs.fifo', [NAMES.jobChunkValues]: '20000',
  [NAMES.jobChunkDatapoints]: '2000', [NAMES.rateLimitTable]: 'r', [NAMES.rateLimitRequests]: '200', [NAMES.rateLimitWindowSeconds]: '10',
  [NAMES.exportUserBoundary]: 'arn:aws:iam::000000000000:policy/boundary',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x',
};

/** Median cold init of a bundle: a fresh node process requiring it, timed inside the process. */
function coldInitMs(file: string, runs = 7): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    times.push(Number(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...ENV }, encoding: 'utf8' })));
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

/** Bundles as the functions are bundled (minified, ES module builds preferred, CJS, SDK included). */
function bundleBaseline(source: string, dir: string): string {
  const entry = path.join(dir, 'entry.ts');
  const outfile = path.join(dir, 'index.js');
  writeFileSync(entry, source || 'export {};');
  buildSync({ entryPoints: [entry], outfile, bundle: true, minify: true, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'], nodePaths: [path.join(ROOT, 'node_modules')], logLevel: 'silent' });
  return outfile;
}

/** The functions' bundles in a synthesized cloud assembly, by construct id. */
function functionBundles(assemblyDir: string): Record<string, string> {
  const template = JSON.parse(readFileSync(path.join(assemblyDir, 'DevicePipeline.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Metadata?: Record<string, string> }> };
  const bundles: Record<string, string> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    const asset = resource.Metadata?.['aws:asset:path'];
    if (resource.Type !== 'AWS::Lambda::Function' || !asset) continue;
    const name = Object.keys(BASELINES).find((n) => id.startsWith(n));
    if (name) bundles[name] = path.join(assemblyDir, asset, 'index.js');
  }
  return bundles;
}

export function bundleBenchmark(assemblyDir: string): Figure[] {
  const figures: Figure[] = [];
  const work = mkdtempSync(path.join(os.tmpdir(), 'bench-bundles-'));
  try {
    for (const [name, file] of Object.entries(functionBundles(assemblyDir))) {
      const dir = mkdtempSync(path.join(work, `${name}-`));
      const baseline = bundleBaseline(BASELINES[name]!, dir);
      const size = statSync(file).size;
      const baseSize = statSync(baseline).size;
      figures.push({
        section: 'Lambda bundles',
        name: `${name}: bundle size`,
        value: +(size / 1024).toFixed(1),
        unit: 'KiB',
        baseline: { name: 'only its SDK clients', value: +(baseSize / 1024).toFixed(1), unit: 'KiB' },
        ratio: baseSize > 0 ? size / baseSize : undefined,
        goal: '< 1 MiB',
        pass: size < 1024 * 1024,
      });
      const init = coldInitMs(file);
      const baseInit = coldInitMs(baseline);
      figures.push({
        section: 'Lambda bundles',
        name: `${name}: cold module init`,
        value: +init.toFixed(1),
        unit: 'ms',
        baseline: { name: 'only its SDK clients', value: +baseInit.toFixed(1), unit: 'ms' },
        ratio: init / baseInit,
      });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return figures;
}
