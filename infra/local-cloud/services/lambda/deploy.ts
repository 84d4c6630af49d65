import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DeployContext } from '../../cloudformation/deploy';
import { nameFromArn, type DeployedStack } from '../../cloudformation/template';
import type { KinesisMappingSettings } from './event-source-mapping';
import { LambdaFunctionRuntime, type LambdaFunctionDefinition } from './runtime';

export interface FunctionOptions {
  /** Execution environments per function (default 4). */
  maxConcurrency?: number;
  functionLog?: (functionLogicalId: string, line: string) => void;
}

/** `AWS::Lambda::Function`: each function's bundle from the cloud assembly, with its environment and limits. */
export function functionsFromTemplate(stack: DeployedStack, context: DeployContext, options: FunctionOptions): Map<string, LambdaFunctionRuntime> {
  const functions = new Map<string, LambdaFunctionRuntime>();
  const { region, endpoint, credentials } = context.client;
  const awsEnvironment = {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs_local',
    AWS_EC2_METADATA_DISABLED: 'true',
    // Functions run on Node.js 24 in AWS; the SDK's warning about an older local Node does not apply to them.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const [id, resource] of stack.resourcesOfType('AWS::Lambda::Function')) {
    const props = resource.Properties ?? {};
    const runtime = String(stack.resolve(props.Runtime) ?? '');
    if (!runtime.startsWith('nodejs')) {
      // E.g. CDK's own BucketDeployment provider (Python): the local cloud does its custom resource natively.
      context.log(`function ${id}: runtime ${runtime || 'unknown'} is not run locally, skipped`);
      continue;
    }
    const code = stack.resolve(props.Code) as { S3Key?: string; ZipFile?: string } | undefined;
    const metadataPath = resource.Metadata?.['aws:asset:path'];
    // An absolute asset path is a source directory CDK did not stage (bundling skipped): the local synth fills
    // `asset.<S3Key hash>` instead.
    const assetDir = typeof metadataPath === 'string' && !path.isAbsolute(metadataPath)
      ? path.join(context.assemblyDir, metadataPath)
      : code?.S3Key ? path.join(context.assemblyDir, `asset.${code.S3Key.replace(/\.zip$/, '')}`) : undefined;
    if (!assetDir) {
      context.log(`function ${id}: inline code is not run locally, skipped`);
      continue;
    }
    const environment = (stack.resolve((props.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}) ?? {}) as Record<string, unknown>;
    const definition: LambdaFunctionDefinition = {
      logicalId: id,
      name: stack.ref(id),
      arn: stack.getAtt(id, 'Arn'),
      assetDir,
      handler: String(props.Handler ?? 'index.handler'),
      environment: Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)])),
      timeoutSeconds: Number(props.Timeout ?? 3),
      memoryMb: Number(props.MemorySize ?? 128),
      logGroupName: logGroupOf(stack, id),
    };
    const onLog = options.functionLog ?? ((fn: string, line: string) => console.log(`[${fn}] ${line}`));
    functions.set(id, new LambdaFunctionRuntime(definition, awsEnvironment, onLog, options.maxConcurrency ?? 4));
  }
  return functions;
}

function logGroupOf(stack: DeployedStack, functionId: string): string {
  const props = stack.resource(functionId).Properties ?? {};
  const config = props.LoggingConfig as { LogGroup?: unknown } | undefined;
  return config?.LogGroup ? stack.resolveString(config.LogGroup) : `/aws/lambda/${stack.ref(functionId)}`;
}

/** A stable mapping UUID, so a restart finds its checkpoints. */
function uuidOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `AWS::Lambda::EventSourceMapping` on Kinesis streams (enabled ones), with Lambda's defaults filled in. */
export function kinesisMappings(stack: DeployedStack): KinesisMappingSettings[] {
  const { region, accountId } = stack.env;
  return stack.resourcesOfType('AWS::Lambda::EventSourceMapping').flatMap(([id, resource]) => {
    const p = stack.resolve(resource.Properties ?? {}) as {
      EventSourceArn?: string; FunctionName: string; BatchSize?: number; MaximumBatchingWindowInSeconds?: number;
      BisectBatchOnFunctionError?: boolean; MaximumRetryAttempts?: number; MaximumRecordAgeInSeconds?: number;
      FunctionResponseTypes?: string[]; StartingPosition?: KinesisMappingSettings['startingPosition'];
      StartingPositionTimestamp?: number; DestinationConfig?: { OnFailure?: { Destination?: string } }; Enabled?: boolean;
    };
    if (!p.EventSourceArn?.includes(':kinesis:') || p.Enabled === false) return [];
    const destination = p.DestinationConfig?.OnFailure?.Destination;
    const functionArn = p.FunctionName.startsWith('arn:') ? p.FunctionName : `arn:aws:lambda:${region}:${accountId}:function:${p.FunctionName}`;
    return [{
      uuid: uuidOf(`${stack.env.stackName}/${id}`),
      functionArn,
      streamArn: p.EventSourceArn,
      streamName: nameFromArn(p.EventSourceArn),
      batchSize: p.BatchSize ?? 100,
      maxBatchingWindowSeconds: p.MaximumBatchingWindowInSeconds ?? 0,
      bisectBatchOnFunctionError: p.BisectBatchOnFunctionError ?? false,
      maxRetryAttempts: p.MaximumRetryAttempts ?? -1,
      maxRecordAgeSeconds: p.MaximumRecordAgeInSeconds ?? -1,
      reportBatchItemFailures: p.FunctionResponseTypes?.includes('ReportBatchItemFailures') ?? false,
      startingPosition: p.StartingPosition ?? 'LATEST',
      ...(p.StartingPositionTimestamp ? { startingPositionTimestamp: new Date(p.StartingPositionTimestamp * 1000) } : {}),
      ...(destination?.startsWith('arn:aws:s3:::') ? { onFailureBucket: nameFromArn(destination) } : {}),
      region,
    }];
  });
}
