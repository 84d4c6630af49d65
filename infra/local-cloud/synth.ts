import type { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { CfnTemplate } from './cloudformation/template';

export interface SynthOptions {
  /** CDK context, over `cdk.json`'s. */
  context?: Record<string, unknown>;
  /** Builds the CDK app to run (default: the pipeline app in `infra/pipeline-app.ts`). */
  buildApp?: (options: { outdir: string; context: Record<string, unknown> }) => App;
  /** Stack to run when the app has several (default: the first). */
  stackName?: string;
}

export interface SynthesizedStack {
  template: CfnTemplate;
  stackName: string;
  /** The cloud assembly's directory (`<dataDir>/cdk.out`): templates and function bundles. */
  assemblyDir: string;
}

/** Synthesizes the CDK app in-process with `cdk.json`'s context, as `cdk synth` would, into `<dataDir>/cdk.out`. */
export async function synthesize(rootDir: string, dataDir: string, options: SynthOptions): Promise<SynthesizedStack> {
  const cdkJson = await readFile(path.join(rootDir, 'cdk.json'), 'utf8').then((s) => JSON.parse(s) as { context?: Record<string, unknown> }, () => ({ context: {} }));
  const context = { ...cdkJson.context, ...options.context };
  const outdir = path.join(dataDir, 'cdk.out');
  await rm(outdir, { recursive: true, force: true });
  const buildApp = options.buildApp ?? (await import('../pipeline-app')).createPipelineApp;
  const built = buildApp({ outdir, context }) as App | { app: App };
  const app = 'app' in built ? built.app : built;
  const assembly: CloudAssembly = app.synth();
  const artifact = options.stackName ? assembly.getStackByName(options.stackName) : assembly.stacks[0];
  if (!artifact) throw new Error('The CDK app has no stack to run');
  return { template: artifact.template as CfnTemplate, stackName: artifact.stackName, assemblyDir: assembly.directory };
}
