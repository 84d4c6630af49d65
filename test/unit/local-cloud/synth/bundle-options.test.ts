import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FUNCTION_ENTRY_METADATA, lambdaEntry, PipelineFunction, REPO_ROOT } from '../../../../infra/constructs/pipeline-function';
import { BundleCache } from '../../../../infra/local-cloud/bundles/function-bundles';
import { InputDigests } from '../../../../infra/local-cloud/bundles/input-digests';

jest.setTimeout(120_000);

interface Template {
  Resources: Record<string, { Type: string; Properties?: { Code?: { S3Key?: string } } }>;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bundle-options-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const ENTRIES = [lambdaEntry('health'), path.join(__dirname, 'fixtures', 'bundle-probe', 'handler.ts')];

/**
 * PipelineFunctions of the health function and of a probe, synthesized into `<dir>/<name>`; the built-in
 * template validation is not what is tested.
 */
function synthFunctions(name: string, context: Record<string, unknown> = {}) {
  const app = new App({ outdir: path.join(dir, name), context, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'Probe', { env: { region: 'us-east-1' } });
  const functions = ENTRIES.map((entry, i) => new PipelineFunction(stack, `Function${i}`, { entry, description: 'probe' }));
  const assembly = app.synth();
  const template = assembly.getStackByName('Probe').template as Template;
  const s3Keys = functions.map((fn) => template.Resources[stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnElement)) as string]!.Properties!.Code!.S3Key!);
  return { functions, template, assemblyDir: assembly.directory, s3Keys };
}

it('PipelineFunction records its entry relative to the project root', () => {
  const { functions } = synthFunctions('metadata', { 'aws:cdk:bundling-stacks': [] });
  const recorded = functions.map((fn) => fn.node.metadata.filter((m) => m.type === FUNCTION_ENTRY_METADATA).map((m) => m.data));
  expect(recorded).toEqual(ENTRIES.map((entry) => [path.relative(REPO_ROOT, entry)]));
});

it('the cache bundles functions byte for byte as NodejsFunction does with PipelineFunction’s options', async () => {
  // Both output directories sit at the same depth under `dir`, so the source maps' relative paths agree too.
  const bundled = synthFunctions('cdk.out');
  const cache = new BundleCache(new InputDigests(REPO_ROOT), path.join(dir, 'bundles'));
  for (const [i, entry] of ENTRIES.entries()) {
    const assetDir = path.join(bundled.assemblyDir, `asset.${bundled.s3Keys[i]!.replace(/\.zip$/, '')}`);
    const ours = await cache.bundle(path.relative(REPO_ROOT, entry));
    for (const file of ['index.js', 'index.js.map']) {
      expect({ entry, file, same: (await readFile(path.join(ours.dir, file))).equals(await readFile(path.join(assetDir, file))) }).toEqual({ entry, file, same: true });
    }
  }

  // With bundling skipped, the template is the same but for CDK's placeholder asset keys.
  const skipped = synthFunctions('skipped', { 'aws:cdk:bundling-stacks': [] });
  const withoutKeys = (template: Template, keys: string[]) => JSON.parse(keys.reduce((text, key, i) => text.split(key).join(`<asset ${i}>`), JSON.stringify(template))) as Template;
  expect(skipped.s3Keys).not.toEqual(bundled.s3Keys);
  expect(withoutKeys(skipped.template, skipped.s3Keys)).toEqual(withoutKeys(bundled.template, bundled.s3Keys));
});
