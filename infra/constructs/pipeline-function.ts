import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambdas/shared/metric-names';
import { ENV } from '../../lambdas/shared/config';

/** Repository root: the esbuild project root and the home of package-lock.json. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Absolute path of `lambdas/functions/<name>/handler.ts`, the entry convention of every function. */
export function lambdaEntry(name: string): string {
  return path.join(REPO_ROOT, 'lambdas', 'functions', name, 'handler.ts');
}

/**
 * Construct metadata type under which each PipelineFunction records its entry, relative to REPO_ROOT: tools that
 * bundle the functions themselves (the local cloud, with bundling skipped) find the entries without the stack
 * knowing them.
 */
export const FUNCTION_ENTRY_METADATA = 'device-pipeline:function-entry';

export interface PipelineFunctionProps {
  /** Path of the function's `handler.ts`; it must export `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Powertools service name; defaults to the construct id. */
  readonly service?: string;
  /** Extra environment; the Powertools variables are set by the construct. */
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
}

// The newest Node.js runtime aws-cdk-lib knows (what cdk-nag AwsSolutions-L1 asks for),
// and the esbuild target that matches it.
const RUNTIME = Runtime.NODEJS_24_X;
const ESBUILD_TARGET = 'node24';

/**
 * The one Lambda construct of the pipeline: Node.js on arm64, bundled locally by esbuild
 * (minified, source maps, SDK v3 clients bundled in), an explicit one-month log group,
 * an execution role that may write only to that log group, and the Powertools environment.
 *
 * The log group and role are created in the function's scope as `<id>LogGroup` and
 * `<id>ServiceRole`, because a subclass cannot create children before `super()`.
 */
export class PipelineFunction extends NodejsFunction {
  /** Its Powertools service name: the `service` dimension of its own metrics. */
  readonly service: string;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Own role instead of the AWSLambdaBasicExecutionRole managed policy (log writes on every group).
    const role = new Role(scope, `${id}ServiceRole`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    logGroup.grantWrite(role);

    const logLevel: unknown = scope.node.tryGetContext('logLevel');
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      logGroup,
      role,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      environment: {
        ...props.environment,
        [ENV.serviceName]: props.service ?? id,
        [ENV.logLevel]: typeof logLevel === 'string' && logLevel !== '' ? logLevel : 'INFO',
        [ENV.logEvent]: 'false',
        [ENV.metricsNamespace]: METRICS_NAMESPACE,
        // aws-cdk-lib 2.276 does not add this for `sourceMap: true`; without it stack traces point into index.js.
        [ENV.nodeOptions]: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        target: ESBUILD_TARGET,
        format: OutputFormat.CJS,
        // Bundle the SDK v3 clients: we pin exact versions instead of using the runtime's copy.
        externalModules: [],
        forceDockerBundling: false,
        logLevel: LogLevel.WARNING,
        // ES module builds of the SDK and zod tree-shake far better than their CommonJS builds.
        mainFields: ['module', 'main'],
      },
    });
    this.service = props.service ?? id;
    this.node.addMetadata(FUNCTION_ENTRY_METADATA, path.relative(REPO_ROOT, props.entry));
  }
}
