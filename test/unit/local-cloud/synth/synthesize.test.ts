import { App, Stack } from 'aws-cdk-lib';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { lambdaEntry, PipelineFunction, REPO_ROOT } from '../../../../infra/constructs/pipeline-function';
import { DeployedStack } from '../../../../infra/local-cloud/cloudformation/template';
import { functionsFromTemplate } from '../../../../infra/local-cloud/services/lambda/deploy';
import { synthesize } from '../../../../infra/local-cloud/synth';

jest.setTimeout(120_000);

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'synthesize-'));
});
afterEach(() => rm(dataDir, { recursive: true, force: true }));

/** A small app (the built-in template validation is not what is tested); `plain` adds a NodejsFunction that records no entry. */
const appWith = (plain: boolean) => ({ outdir, context }: { outdir: string; context: Record<string, unknown> }) => {
  const app = new App({ outdir, context, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Probe', { env: { region: 'us-east-1' } });
  new PipelineFunction(stack, 'Health', { entry: lambdaEntry('health'), description: 'probe' });
  if (plain) new NodejsFunction(stack, 'Plain', { entry: lambdaEntry('identity'), runtime: Runtime.NODEJS_22_X, projectRoot: REPO_ROOT, depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json') });
  return app;
};

/** Each function's asset directory (as services/lambda/deploy.ts resolves it) and its files. */
async function assetFiles(assemblyDir: string, template: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> }) {
  const out: Record<string, string[]> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const key = (resource.Properties!.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    out[id.replace(/[0-9A-F]{8}$/, '')] = (await readdir(path.join(assemblyDir, `asset.${key}`))).sort();
  }
  return out;
}

it('skips CDK’s bundling and fills each function’s asset directory from the cache', async () => {
  const first = await synthesize(REPO_ROOT, dataDir, { buildApp: appWith(false) });
  expect(first.build).toEqual({ synthesized: true, bundlesBuilt: 1, bundlesReused: 0 });
  expect(await assetFiles(first.assemblyDir, first.template)).toEqual({ Health: ['index.js', 'index.js.map'] });
  const [bundle] = (await readdir(path.join(dataDir, 'bundles'))).filter((name) => /^[0-9a-f]{64}$/.test(name));
  const key = (Object.values(first.template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!.Properties!.Code as { S3Key: string }).S3Key;
  const [cached, asset] = await Promise.all([stat(path.join(dataDir, 'bundles', bundle!, 'index.js')), stat(path.join(first.assemblyDir, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'))]);
  expect(asset.ino).toBe(cached.ino);

  // A given app is synthesized again each time; its bundle comes from the cache.
  const second = await synthesize(REPO_ROOT, dataDir, { buildApp: appWith(false) });
  expect(second.build).toEqual({ synthesized: true, bundlesBuilt: 0, bundlesReused: 1 });
  expect(await assetFiles(second.assemblyDir, second.template)).toEqual({ Health: ['index.js', 'index.js.map'] });
});

it('lets CDK bundle an app with a NodejsFunction that records no entry', async () => {
  const synth = await synthesize(REPO_ROOT, dataDir, { buildApp: appWith(true) });
  expect(synth.build).toEqual({ synthesized: true, bundlesBuilt: 0, bundlesReused: 0 });
  expect(await assetFiles(synth.assemblyDir, synth.template)).toEqual({ Health: ['index.js', 'index.js.map'], Plain: ['index.js'] });
});

it('gives the Lambda service the filled asset directory also when CDK records asset metadata (the source directory, with bundling skipped)', async () => {
  const synth = await synthesize(REPO_ROOT, dataDir, { buildApp: appWith(false), context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new DeployedStack(synth.template, { stackName: synth.stackName, region: 'us-east-1', accountId: '000000000000', apiEndpoint: 'http://127.0.0.1:9' });
  const client = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const functions = functionsFromTemplate(stack, { client, assemblyDir: synth.assemblyDir, log: () => undefined }, {});
  try {
    const [fn] = [...functions.values()];
    expect(path.dirname(fn!.definition.assetDir)).toBe(synth.assemblyDir);
    expect((await readdir(fn!.definition.assetDir)).sort()).toEqual(['index.js', 'index.js.map']);
  } finally {
    await Promise.all([...functions.values()].map((f) => f.close()));
  }
});


it('leaves out functions of other runtimes (CDK\'s Python BucketDeployment provider, done natively), saying so', () => {
  const template = { Resources: { Provider: { Type: 'AWS::Lambda::Function', Properties: { Runtime: 'python3.13', Handler: 'index.handler', Code: { S3Bucket: 'assets', S3Key: 'abc123.zip' } } } } };
  const stack = new DeployedStack(template, { stackName: 'Probe', region: 'us-east-1', accountId: '000000000000', apiEndpoint: 'http://127.0.0.1:9' });
  const client = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const logs: string[] = [];
  const functions = functionsFromTemplate(stack, { client, assemblyDir: dataDir, log: (line) => logs.push(line) }, {});
  expect(functions.size).toBe(0);
  expect(logs).toEqual(['function Provider: runtime python3.13 is not run locally, skipped']);
});
