import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REPO_ROOT } from './constructs/pipeline-function';
import { DevicePipelineStack } from './pipeline-stack';

export interface PipelineAppOptions {
  /** Cloud assembly directory; the CLI passes it through CDK_OUTDIR, which App reads itself. */
  readonly outdir?: string;
  /** Extra context, e.g. `{ 'aws:cdk:bundling-stacks': [] }` to skip bundling in tests. */
  readonly context?: Record<string, unknown>;
}

/**
 * Validation warnings fail synthesis as errors do: an AwsSolutions warning must be fixed or
 * acknowledged with a reason like any error.
 */
const STRICT_VALIDATION = { '@aws-cdk/core:strictCfnValidateErrors': true };

/**
 * Builds the CDK app with cdk-nag's AwsSolutions checks registered as a validation plugin:
 * an unacknowledged AwsSolutions error or warning fails synthesis. Does not synthesize.
 *
 * The feature flags of cdk.json are applied here too, so that tests and the embedded local
 * cloud (which build the app in-process, without the CLI) get the template `cdk synth` gets.
 * Context given in `options` and by the CLI (`-c key=value`) takes precedence.
 */
export function createPipelineApp(options: PipelineAppOptions = {}): { app: App; stack: DevicePipelineStack } {
  const app = new App({
    outdir: options.outdir,
    context: { ...STRICT_VALIDATION, ...cdkJsonContext(), ...options.context },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  const stack = new DevicePipelineStack(app, 'DevicePipeline', {
    description: 'Serverless IoT device event pipeline: per-OEM CSV export and IAP datapoint logs',
    // Account-agnostic; a concrete region keeps the template (JWT issuer) concrete for the local cloud.
    env: { region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
  });
  return { app, stack };
}

function cdkJsonContext(): Record<string, unknown> {
  const cdkJson: unknown = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8'));
  if (typeof cdkJson === 'object' && cdkJson !== null && 'context' in cdkJson) {
    const context: unknown = cdkJson.context;
    if (typeof context === 'object' && context !== null) return { ...context };
  }
  return {};
}
