import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './aws-protocol/state-file';
import { DeployedStack } from './cloudformation/template';
import { startEdge, type EdgeEndpoint } from './edge';
import { ServiceRegistry, startServices, type ServiceOptions } from './registry';
import type { LocalIssuer } from './services/apigateway/local-issuer';
import type { LocalIam } from './services/iam/models';
import type { LambdaFunctionRuntime } from './services/lambda/runtime';
import type { S3Gateway } from './services/s3/provider';
import type { LocalSecretsManager } from './services/secretsmanager/models';
import { synthesize, type BuildSummary, type SynthOptions } from './synth';

export const LOCAL_ACCOUNT_ID = '000000000000';
/** Credentials the local cloud hands its own functions; any credentials work for the stack's callers. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalCloudOptions extends SynthOptions, Omit<ServiceOptions, 'apiPort'> {
  /** Repository root: `cdk.json` is read from here. */
  rootDir?: string;
  /** Where data, the synthesized assembly and state live (default `<rootDir>/.local`). */
  dataDir?: string;
  /** Edge endpoint port (default 4566; 0 = any free port). */
  edgePort?: number;
  /** HTTP API port (default 3000; 0 = any free port). */
  apiPort?: number;
  region?: string;
  /** Wipe `dataDir` first. */
  fresh?: boolean;
  log?: (line: string) => void;
}

export interface LocalCloud {
  /** The stack's outputs by `CfnOutput` id, plus `AwsEndpoint` and `Region`. */
  outputs: Record<string, string>;
  edgeUrl: string;
  apiUrl: string;
  /** Where the console is served (the distribution's `ConsoleUrl`). */
  consoleUrl: string;
  /** The local Cognito hosted UI: `/oauth2/authorize`, `/oauth2/token`, `/logout`. */
  authUrl: string;
  region: string;
  dataDir: string;
  stack: DeployedStack;
  issuer: LocalIssuer;
  functions: ReadonlyMap<string, LambdaFunctionRuntime>;
  s3: S3Gateway;
  /**
   * The IAM stand-in (users, inline policies, access keys; `.local/state/iam.json`). Keys it issues
   * (`AKIA…`) are checked by local S3: unknown, deleted or inactive → 403 InvalidAccessKeyId, bad signature
   * → 403 SignatureDoesNotMatch, not allowed by the user's inline policies → 403 AccessDenied. Other key
   * ids (`test`, `local`) and unsigned requests are not checked.
   */
  iam: LocalIam;
  /** The Secrets Manager stand-in (`.local/state/secretsmanager.json`). */
  secretsManager: LocalSecretsManager;
  /** Answers a service's requests instead of it while set (fault injection in tests). */
  intercept: EdgeEndpoint['intercept'];
  /** What this start rebuilt: the synth (or `<dataDir>/cdk.out` reused) and the Lambda bundles esbuild built or reused. */
  build: BuildSummary;
  /** Runs the DynamoDB TTL sweep now; resolves to the number of items deleted. */
  sweepExpiredItems(nowSeconds?: number): Promise<number>;
  /** Fires every EventBridge schedule now; resolves when the invocations (with their retries) are done. */
  runSchedules(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the CDK app's template locally: starts the edge endpoint and the services of the registry
 * (in-process emulators for S3, DynamoDB and Kinesis, stand-ins for IAM, STS and Secrets Manager, the
 * functions in worker threads, the HTTP API with its JWT authorizer), synthesizes the app, deploys the
 * template through the registry, and writes the stack's outputs. Each service lives in `services/<name>/`.
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const rootDir = options.rootDir ?? process.cwd();
  const dataDir = options.dataDir ?? path.join(rootDir, '.local');
  const region = options.region ?? 'us-east-1';
  const log = options.log ?? ((line: string) => console.log(line));
  const cleanups: Array<() => Promise<void> | void> = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await Promise.resolve(cleanup()).catch((error: Error) => log(`stop: ${error.message}`));
    }
  };

  try {
    if (options.fresh) await rm(dataDir, { recursive: true, force: true });
    const stateDir = path.join(dataDir, 'state');
    await mkdir(stateDir, { recursive: true });

    // The edge first, so it closes last: functions and mappings stop while it still answers them.
    const registry = new ServiceRegistry();
    const edgePort = options.edgePort ?? 4566;
    const edge = await startEdge(edgePort, registry, log).catch((e: NodeJS.ErrnoException) => {
      throw portError(e, edgePort, 'EDGE_PORT');
    });
    cleanups.push(() => edge.close());
    cleanups.push(() => registry.close(log));
    const apiPort = options.apiPort ?? 3000;
    // The HTTP API is the only service on a fixed port.
    const services = await startServices(registry, { dataDir, stateDir, region, accountId: LOCAL_ACCOUNT_ID, log }, { ...options, apiPort }).catch(
      (e: NodeJS.ErrnoException & { port?: number }) => {
        const [port, variable] = e.port === options.consolePort ? [options.consolePort ?? 0, 'CONSOLE_PORT'] : e.port === options.authPort ? [options.authPort ?? 0, 'AUTH_PORT'] : [apiPort, 'PORT'];
        throw portError(e, port, variable);
      },
    );

    const { template, stackName, assemblyDir, build } = await synthesize(rootDir, dataDir, options);
    log(`${build.synthesized ? 'CDK app synthesized' : 'CDK app unchanged: cdk.out reused'}; Lambda bundles: ${build.bundlesBuilt} built by esbuild, ${build.bundlesReused} reused`);
    // The HTTP API's URL is part of the template (ApiEndpoint): it was bound before.
    const stack = new DeployedStack(template, {
      stackName, region, accountId: LOCAL_ACCOUNT_ID, apiEndpoint: services.apiGateway.url, edgeUrl: edge.url,
      consoleEndpoint: services.cloudfront.url, authEndpoint: services.cognito.url,
    });
    await registry.deploy(stack, { client: { region, endpoint: edge.url, credentials: LOCAL_CREDENTIALS }, assemblyDir, log });

    const stackOutputs: Record<string, string> = {};
    for (const [id, output] of Object.entries(template.Outputs ?? {})) stackOutputs[id] = stack.resolveString(output.Value);
    const outputs = { ...stackOutputs, AwsEndpoint: edge.url, Region: region };
    // Flat keys for scripts, plus the stack-keyed shape `cdk deploy --outputs-file` writes.
    await writeFileAtomic(path.join(dataDir, 'outputs.json'), `${JSON.stringify({ ...outputs, [stackName]: stackOutputs }, null, 2)}\n`);

    return {
      outputs,
      edgeUrl: edge.url,
      apiUrl: services.apiGateway.url,
      consoleUrl: services.cloudfront.url,
      authUrl: services.cognito.url,
      region,
      dataDir,
      stack,
      issuer: services.apiGateway.issuer,
      functions: services.lambda.functions,
      s3: services.s3,
      iam: services.iam,
      secretsManager: services.secretsManager,
      intercept: edge.intercept,
      build,
      sweepExpiredItems: (now) => services.dynamodb.sweep(now),
      runSchedules: () => services.events.runSchedules(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function portError(error: NodeJS.ErrnoException, port: number, variable: string): Error {
  if (error.code === 'EADDRINUSE') return new Error(`Port ${port} is in use: stop what holds it or choose another with ${variable}=<port>`);
  return error;
}
