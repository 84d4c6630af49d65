import type { App } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { copyFile, link, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { BundleCache, writeAtomically, type FunctionBundle } from './bundles/function-bundles';
import { InputDigests } from './bundles/input-digests';
import type { CfnTemplate } from './cloudformation/template';

export interface SynthOptions {
  /** CDK context, over `cdk.json`'s. */
  context?: Record<string, unknown>;
  /** Builds the CDK app to run (default: the pipeline app in `infra/pipeline-app.ts`). */
  buildApp?: (options: { outdir: string; context: Record<string, unknown> }) => App | { app: App };
  /** Stack to run when the app has several (default: the first). */
  stackName?: string;
}

/** What a start had to rebuild. */
export interface BuildSummary {
  /** False when `<dataDir>/cdk.out` was reused: nothing the CDK app is built from had changed. */
  synthesized: boolean;
  /** Lambda bundles esbuild built in this start. */
  bundlesBuilt: number;
  /** Lambda bundles found in `<dataDir>/bundles`, their inputs unchanged. */
  bundlesReused: number;
}

export interface SynthesizedStack {
  template: CfnTemplate;
  stackName: string;
  /** The cloud assembly's directory (`<dataDir>/cdk.out`): templates and function bundles. */
  assemblyDir: string;
  build: BuildSummary;
}

/** A function of the template whose asset directory is filled with a bundle of its entry. */
interface BundledFunction {
  logicalId: string;
  /** Relative to the project root. */
  entry: string;
}

interface SynthResult {
  template: CfnTemplate;
  stackName: string;
  /** Relative to the assembly directory. */
  templateFile: string;
  functions: BundledFunction[];
}

/** `<dataDir>/synth.json`: the key of the assembly in `<dataDir>/cdk.out` and what a start needs of it. */
interface SynthRecord extends Omit<SynthResult, 'template'> {
  key: string;
  /** The files the key covers, relative to the project root. */
  inputs: string[];
}

/** Context that makes CDK skip bundling in every stack; the template stays complete (only asset hashes differ). */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';
/** The default app's module: esbuild lists the project files it imports, which the synth key covers. */
const PIPELINE_APP = path.resolve(__dirname, '..', 'pipeline-app.ts');
/** Files the synth reads besides the app's modules: context and feature flags, dependency versions, transpile settings. */
const SYNTH_FILES = ['cdk.json', 'package-lock.json', 'package.json', 'tsconfig.json'];
/** Part of the synth key: a change in how this module uses the assembly invalidates every record. */
const RECORD_VERSION = 1;

/**
 * Synthesizes the CDK app in-process with `cdk.json`'s context, as `cdk synth` would, into `<dataDir>/cdk.out`,
 * with CDK's own bundling skipped: the Lambda bundles come from a cache (bundles/function-bundles.ts), built by
 * esbuild with the options PipelineFunction gives NodejsFunction only when their inputs changed, and are linked
 * into the asset directories the template names.
 *
 * The default app's assembly is reused when nothing it is built from changed: the project files the app imports
 * (listed by esbuild), `cdk.json`, the lock file, package.json, tsconfig.json, the context, the stack name and the
 * `CDK_*` environment. Then aws-cdk-lib is not even loaded. An app given as `buildApp` is always synthesized.
 */
export async function synthesize(rootDir: string, dataDir: string, options: SynthOptions): Promise<SynthesizedStack> {
  const cdkJson = await readFile(path.join(rootDir, 'cdk.json'), 'utf8').then((s) => JSON.parse(s) as { context?: Record<string, unknown> }, () => ({ context: {} }));
  const context = { ...cdkJson.context, ...options.context };
  const outdir = path.join(dataDir, 'cdk.out');
  const recordPath = path.join(dataDir, 'synth.json');
  const digests = new InputDigests(rootDir);
  const bundles = new BundleCache(digests, path.join(dataDir, 'bundles'));
  const keyParts: SynthKeyParts | undefined = options.buildApp ? undefined : { context, stackName: options.stackName, environment: process.env };

  let synth = keyParts ? await reusableSynth(recordPath, outdir, digests, keyParts) : undefined;
  const synthesized = !synth;
  if (!synth) {
    // The record goes first: a synth failing half-way must not leave its template under an older key.
    await rm(recordPath, { force: true });
    await rm(outdir, { recursive: true, force: true });
    // The key is taken before the app's modules load: a file saved meanwhile makes the next start synthesize again.
    const files = keyParts ? [...(await appInputs(rootDir)), ...SYNTH_FILES] : [];
    const key = keyParts && synthKey(digests, keyParts, files);
    synth = await synthesizeApp(outdir, context, options, async (functions) => {
      // Requested before the synth, which blocks this thread for seconds (cdk-nag, template validation):
      // esbuild bundles in its own process meanwhile. A build failure surfaces where the bundles are awaited below.
      await bundles.requested(functions.map((fn) => fn.entry));
      // One turn of the event loop, so the requests are written to esbuild's stdin before the thread blocks.
      await new Promise((resolve) => setImmediate(resolve));
    });
    if (key) {
      const record: SynthRecord = {
        key,
        inputs: files,
        stackName: synth.stackName,
        templateFile: synth.templateFile,
        functions: synth.functions,
      };
      await writeAtomically(recordPath, `${JSON.stringify(record, null, 2)}\n`);
    }
  }

  const bundled = await Promise.all(synth.functions.map(async (fn) => {
    const bundle = await bundles.bundle(fn.entry);
    await fillAssetDirectory(assetDirectory(synth.template, fn.logicalId, outdir), bundle);
    return bundle;
  }));
  await bundles.prune();
  const distinct = [...new Map(bundled.map((b) => [b.entry, b])).values()];
  return {
    template: synth.template,
    stackName: synth.stackName,
    assemblyDir: outdir,
    build: { synthesized, bundlesBuilt: distinct.filter((b) => b.built).length, bundlesReused: distinct.filter((b) => !b.built).length },
  };
}

/** The assembly of an earlier start, when its key matches the current inputs and its template is there. */
async function reusableSynth(recordPath: string, outdir: string, digests: InputDigests, keyParts: SynthKeyParts): Promise<SynthResult | undefined> {
  const record = await readFile(recordPath, 'utf8').then((text) => JSON.parse(text) as SynthRecord, () => undefined);
  if (!record || !Array.isArray(record.inputs) || !Array.isArray(record.functions)) return undefined;
  if (synthKey(digests, keyParts, record.inputs) !== record.key) return undefined;
  const template = await readFile(path.join(outdir, record.templateFile), 'utf8').then((text) => JSON.parse(text) as CfnTemplate, () => undefined);
  return template && { template, stackName: record.stackName, templateFile: record.templateFile, functions: record.functions };
}

/**
 * Builds the app with bundling skipped, hands over its functions' entries (recorded by PipelineFunction as
 * construct metadata) and synthesizes it. An app with a NodejsFunction that records no entry is built again and
 * synthesized with CDK's own bundling, so that every function still gets its bundle.
 */
async function synthesizeApp(
  outdir: string,
  context: Record<string, unknown>,
  options: SynthOptions,
  onFunctions: (functions: BundledFunction[]) => Promise<void>,
): Promise<SynthResult> {
  const [{ CfnElement, Stack }, { NodejsFunction }, { FUNCTION_ENTRY_METADATA }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/aws-lambda-nodejs'),
    import('../constructs/pipeline-function'),
  ]);
  const buildApp = options.buildApp ?? (await import('../pipeline-app')).createPipelineApp;
  const appOf = (appContext: Record<string, unknown>): App => {
    const built = buildApp({ outdir, context: appContext });
    return 'app' in built ? built.app : built;
  };

  let app = appOf({ ...context, [BUNDLING_STACKS]: [] });
  let functions: Array<BundledFunction & { stackId: string }> = [];
  let unbundled = false;
  for (const construct of app.node.findAll()) {
    const entry = construct.node.metadata.find((m) => m.type === FUNCTION_ENTRY_METADATA)?.data as unknown;
    if (typeof entry === 'string' && construct.node.defaultChild instanceof CfnElement) {
      const stack = Stack.of(construct);
      functions.push({ logicalId: stack.resolve(stack.getLogicalId(construct.node.defaultChild)) as string, entry, stackId: stack.artifactId });
    } else if (construct instanceof NodejsFunction) {
      unbundled = true;
    }
  }
  if (unbundled) {
    app = appOf(context);
    functions = [];
  }
  await onFunctions(functions);

  const assembly = app.synth();
  const artifact = options.stackName ? assembly.getStackByName(options.stackName) : assembly.stacks[0];
  if (!artifact) throw new Error('The CDK app has no stack to run');
  return {
    template: artifact.template as CfnTemplate,
    stackName: artifact.stackName,
    templateFile: artifact.templateFile,
    functions: functions.filter((fn) => fn.stackId === artifact.id).map(({ logicalId, entry }) => ({ logicalId, entry })),
  };
}

/** The project files the default app imports (npm packages aside, the lock file covers them), per esbuild. */
async function appInputs(rootDir: string): Promise<string[]> {
  const result = await build({
    entryPoints: [PIPELINE_APP],
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    platform: 'node',
    absWorkingDir: rootDir,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

/** What the synthesized template depends on besides files. */
export interface SynthKeyParts {
  /** The context the app is built with (cdk.json's and the caller's). */
  context: Record<string, unknown>;
  stackName?: string;
  /** The process environment; only `CDK_*` variables count (the app reads CDK_DEFAULT_REGION, App and its validation others). */
  environment: NodeJS.ProcessEnv;
}

/** The key of a synthesized assembly: the context, stack name, `CDK_*` variables and the files' paths and contents. */
export function synthKey(digests: InputDigests, parts: SynthKeyParts, files: readonly string[]): string {
  const environment = Object.entries(parts.environment)
    .filter(([name, value]) => name.startsWith('CDK_') && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return digests.hash({ version: RECORD_VERSION, context: parts.context, stackName: parts.stackName ?? null, environment }, files);
}

/**
 * The directory the template's function code points to: `asset.<hash>` of its `S3Key`, where CDK stages an asset
 * and where services/lambda/deploy.ts looks for it. With bundling skipped the hash is CDK's placeholder for the
 * bundle; the same asset directory name as always, only filled by the cache.
 */
function assetDirectory(template: CfnTemplate, logicalId: string, outdir: string): string {
  const code = template.Resources[logicalId]?.Properties?.Code as { S3Key?: unknown } | undefined;
  if (typeof code?.S3Key !== 'string') throw new Error(`Function ${logicalId} has no asset S3Key in the template`);
  return path.join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
}

/**
 * Puts the bundle's files in the asset directory as hard links (no copy of megabytes per start; a link keeps its
 * content should the cache entry be removed), or copies where links are refused. Nothing is done when the
 * directory already holds exactly these files.
 */
async function fillAssetDirectory(assetDir: string, bundle: FunctionBundle): Promise<void> {
  const files = await readdir(bundle.dir);
  const present = await readdir(assetDir).catch(() => [] as string[]);
  const linked = await Promise.all(files.map((file) => sameFile(path.join(bundle.dir, file), path.join(assetDir, file))));
  if (present.length === files.length && linked.every(Boolean)) return;
  await rm(assetDir, { recursive: true, force: true });
  await mkdir(assetDir, { recursive: true });
  for (const file of files) {
    const from = path.join(bundle.dir, file);
    const to = path.join(assetDir, file);
    await link(from, to).catch(() => copyFile(from, to));
  }
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a), stat(b).catch(() => undefined)]);
  return y !== undefined && x.ino === y.ino && x.dev === y.dev;
}
