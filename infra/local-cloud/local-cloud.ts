import {
  BatchWriteItemCommand, CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient, ScanCommand, UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand, type AttributeValue, type CreateTableCommandInput,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, StartStreamEncryptionCommand } from '@aws-sdk/client-kinesis';
import {
  CreateBucketCommand, PutBucketEncryptionCommand, PutBucketLifecycleConfigurationCommand, PutBucketPolicyCommand,
  PutPublicAccessBlockCommand, S3Client, type LifecycleRule, type ServerSideEncryption, type ServerSideEncryptionConfiguration,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { KinesisStreamEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import S3rver from 's3rver';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { DynamoDbGateway } from './dynamodb-gateway';
import { startEdge, type EdgeEndpoint } from './edge';
import { listen } from './http-util';
import { LocalIam } from './iam';
import { KinesisGateway } from './kinesis-gateway';
import { LocalHttpApi, type HttpRoute, type JwtAuthorizerSettings } from './http-api';
import { KinesisEventSourceMapping, type KinesisMappingSettings } from './kinesis-mapping';
import { LambdaFunctionRuntime, type LambdaFunctionDefinition } from './lambda-runtime';
import { LocalIssuer } from './local-issuer';
import { S3Authorizer } from './s3-auth';
import { S3Gateway } from './s3-gateway';
import { LocalSecretsManager } from './secrets-manager';
import { DeployedStack, nameFromArn, type CfnTemplate } from './template';

export const LOCAL_ACCOUNT_ID = '000000000000';
/** Credentials the local cloud hands its own functions; any credentials work for the stack's callers. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalCloudOptions {
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
  /** CDK context, over `cdk.json`'s. */
  context?: Record<string, unknown>;
  /** Builds the CDK app to run (default: the pipeline app in `infra/pipeline-app.ts`). */
  buildApp?: (options: { outdir: string; context: Record<string, unknown> }) => App;
  /** Stack to run when the app has several (default: the first). */
  stackName?: string;
  /** How often expired DynamoDB items are swept (default 10 s). */
  ttlSweepIntervalMs?: number;
  /** Stream poll interval on an idle shard (default 200 ms). */
  pollIntervalMs?: number;
  /** Base delay of event source mapping retries (default 100 ms, doubling). */
  retryBaseDelayMs?: number;
  /** Execution environments per function (default 4). */
  maxConcurrency?: number;
  log?: (line: string) => void;
  functionLog?: (functionLogicalId: string, line: string) => void;
}

export interface LocalCloud {
  /** The stack's outputs by `CfnOutput` id, plus `AwsEndpoint` and `Region`. */
  outputs: Record<string, string>;
  edgeUrl: string;
  apiUrl: string;
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
  /** Runs the DynamoDB TTL sweep now; resolves to the number of items deleted. */
  sweepExpiredItems(nowSeconds?: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Synthesizes the CDK app and runs its template on in-process emulators: dynalite, kinesalite and
 * s3rver behind one edge endpoint, the Lambda bundles in worker threads, the stream's event source
 * mappings, and the HTTP API with its JWT authorizer. IAM (users, inline policies, access keys; STS
 * GetCallerIdentity) and Secrets Manager are local stand-ins on the same edge; S3 enforces the IAM keys.
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
    for (const dir of ['dynamodb', 'kinesis', 's3', 's3-config', 'state']) await mkdir(path.join(dataDir, dir), { recursive: true });

    // The HTTP API's URL is part of the template (ApiEndpoint): bind it first.
    const api = new LocalHttpApi((line) => log(`api: ${line}`));
    const apiPort = await api.start(options.apiPort ?? 3000).catch((e: NodeJS.ErrnoException) => {
      throw portError(e, options.apiPort ?? 3000, 'PORT');
    });
    cleanups.push(() => api.stop());
    const apiUrl = `http://127.0.0.1:${apiPort}`;

    const { template, stackName, assemblyDir } = await synthesize(rootDir, dataDir, options);
    const stack = new DeployedStack(template, { stackName, region, accountId: LOCAL_ACCOUNT_ID, apiEndpoint: apiUrl });

    const emulators = await startEmulators(dataDir);
    cleanups.push(() => emulators.close());

    const iam = new LocalIam(path.join(dataDir, 'state', 'iam.json'), LOCAL_ACCOUNT_ID);
    cleanups.push(() => iam.close());
    const secretsManager = new LocalSecretsManager(path.join(dataDir, 'state', 'secretsmanager.json'), region, LOCAL_ACCOUNT_ID, iam);
    cleanups.push(() => secretsManager.close());
    const s3 = new S3Gateway(emulators.s3Port, path.join(dataDir, 's3-config'), new S3Authorizer(iam).check);
    const dynamodb = new DynamoDbGateway(emulators.dynamodbPort, path.join(dataDir, 'state', 'dynamodb-tables.json'), log);
    cleanups.push(() => dynamodb.close());
    const kinesis = new KinesisGateway(emulators.kinesisPort, path.join(dataDir, 'state', 'kinesis-encryption.json'));
    const edgePort = options.edgePort ?? 4566;
    const edge: EdgeEndpoint = await startEdge(edgePort, {
      s3: s3.handle, dynamodb: dynamodb.handle, kinesis: kinesis.handle, iam: iam.handle, sts: iam.handleSts, secretsmanager: secretsManager.handle,
    }, log).catch(
      (e: NodeJS.ErrnoException) => {
        throw portError(e, edgePort, 'EDGE_PORT');
      },
    );
    cleanups.push(() => edge.close());

    const clientConfig = { region, endpoint: edge.url, credentials: LOCAL_CREDENTIALS };
    const s3Client = new S3Client({ ...clientConfig, forcePathStyle: true });
    const kinesisClient = new KinesisClient({ ...clientConfig, endpoint: `http://127.0.0.1:${emulators.kinesisPort}`, requestHandler: new NodeHttpHandler() });
    const dynamoClient = new DynamoDBClient(clientConfig);
    cleanups.push(() => {
      s3Client.destroy();
      kinesisClient.destroy();
      dynamoClient.destroy();
    });

    const edgeKinesis = new KinesisClient({ ...clientConfig, requestHandler: new NodeHttpHandler() });
    cleanups.push(() => edgeKinesis.destroy());
    await provisionStreams(stack, edgeKinesis);
    await provisionTables(stack, dynamoClient, log);
    await provisionBuckets(stack, s3Client);

    const functions = createFunctions(stack, assemblyDir, edge.url, region, options);
    cleanups.push(() => Promise.all([...functions.values()].map((f) => f.close())).then(() => undefined));
    const byArn = new Map([...functions.values()].map((f) => [f.definition.arn, f]));
    const byName = new Map([...functions.values()].map((f) => [f.definition.name, f]));

    const mappings = kinesisMappings(stack, region).flatMap((settings) => {
      const target = byName.get(nameFromArn(settings.functionArn)) ?? byArn.get(settings.functionArn);
      if (!target) {
        log(`event source mapping ${settings.uuid}: no function ${settings.functionArn}, skipped`);
        return [];
      }
      return [new KinesisEventSourceMapping(settings, {
        kinesis: kinesisClient,
        s3: s3Client,
        invoke: (event: KinesisStreamEvent) => target.invoke(event),
        stateDir: path.join(dataDir, 'state', 'event-source-mappings'),
        log,
        pollIntervalMs: options.pollIntervalMs,
        retryBaseDelayMs: options.retryBaseDelayMs,
      })];
    });
    for (const mapping of mappings) await mapping.start();
    cleanups.push(() => Promise.all(mappings.map((m) => m.stop())).then(() => undefined));

    const { routes, authorizer, apiId, stage } = httpApiRoutes(stack, (arn) => byArn.get(arn), log);
    const issuer = await LocalIssuer.open(path.join(dataDir, 'issuer.json'), authorizer?.issuer ?? `${apiUrl}/local-issuer`, authorizer?.audience ?? ['local']);
    api.configure({ apiId, stage, routes, publicJwk: issuer.file.publicJwk, accountId: LOCAL_ACCOUNT_ID });

    const sweepEvery = options.ttlSweepIntervalMs ?? 10_000;
    const sweeper = setInterval(() => void dynamodb.sweep().catch((e: Error) => log(`TTL sweep: ${e.message}`)), sweepEvery);
    sweeper.unref();
    cleanups.push(() => clearInterval(sweeper));

    const stackOutputs: Record<string, string> = {};
    for (const [id, output] of Object.entries(template.Outputs ?? {})) stackOutputs[id] = stack.resolveString(output.Value);
    const outputs = { ...stackOutputs, AwsEndpoint: edge.url, Region: region };
    // Flat keys for scripts, plus the stack-keyed shape `cdk deploy --outputs-file` writes.
    await writeFile(path.join(dataDir, 'outputs.json'), `${JSON.stringify({ ...outputs, [stackName]: stackOutputs }, null, 2)}\n`);

    return {
      outputs, edgeUrl: edge.url, apiUrl, region, dataDir, stack, issuer, functions, s3, iam, secretsManager, intercept: edge.intercept,
      sweepExpiredItems: (now) => dynamodb.sweep(now),
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

async function synthesize(rootDir: string, dataDir: string, options: LocalCloudOptions): Promise<{ template: CfnTemplate; stackName: string; assemblyDir: string }> {
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

interface Emulators {
  dynamodbPort: number;
  kinesisPort: number;
  s3Port: number;
  close(): Promise<void>;
}

async function startEmulators(dataDir: string): Promise<Emulators> {
  const dynamo: Server = dynalite({ path: path.join(dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const kinesis: Server = kinesalite({ path: path.join(dataDir, 'kinesis'), createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: path.join(dataDir, 's3') });
  const [dynamodbPort, kinesisPort, s3Address] = await Promise.all([listen(dynamo, 0), listen(kinesis, 0), s3.run()]);
  const closeHttp = (server: Server) => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return {
    dynamodbPort,
    kinesisPort,
    s3Port: s3Address.port,
    close: async () => {
      await Promise.all([closeHttp(dynamo), closeHttp(kinesis), s3.close()]);
    },
  };
}

function isAlreadyThere(error: unknown): boolean {
  const name = (error as Error).name;
  return name === 'ResourceInUseException' || name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists';
}

async function provisionStreams(stack: DeployedStack, kinesis: KinesisClient): Promise<void> {
  for (const [id, resource] of stack.resourcesOfType('AWS::Kinesis::Stream')) {
    const name = stack.ref(id);
    const props = stack.resolve(resource.Properties ?? {}) as { ShardCount?: number; StreamEncryption?: { EncryptionType: 'KMS'; KeyId: string } };
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: props.ShardCount ?? 1 })).catch((e: unknown) => {
      if (!isAlreadyThere(e)) throw e;
    });
    for (let i = 0; ; i++) {
      const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
      if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
      if (i > 100) throw new Error(`stream ${name} did not become active`);
      await new Promise((r) => setTimeout(r, 20));
    }
    if (props.StreamEncryption) {
      await kinesis.send(new StartStreamEncryptionCommand({ StreamName: name, ...props.StreamEncryption }));
    }
  }
}

/**
 * A table kept in `.local/` from an older template may lack indexes the template now has, and
 * dynalite cannot add an index to a table: copy its items, create it anew, and put them back.
 */
async function migrateIndexes(dynamodb: DynamoDBClient, input: CreateTableCommandInput, log: (line: string) => void): Promise<void> {
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: input.TableName }));
  const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  const missing = (input.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName!).filter((name) => !existing.has(name));
  if (missing.length === 0) return;
  const items: Array<Record<string, AttributeValue>> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: input.TableName, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  log(`table ${input.TableName}: adding index ${missing.join(', ')} (re-creating it with its ${items.length} item(s))`);
  await dynamodb.send(new DeleteTableCommand({ TableName: input.TableName }));
  await dynamodb.send(new CreateTableCommand(input));
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const out = await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [input.TableName!]: requests } }));
      requests = (out.UnprocessedItems?.[input.TableName!] ?? []).map((r) => ({ PutRequest: { Item: r.PutRequest!.Item! } }));
    }
  }
}

async function provisionTables(stack: DeployedStack, dynamodb: DynamoDBClient, log: (line: string) => void): Promise<void> {
  for (const [id, resource] of stack.resourcesOfType('AWS::DynamoDB::Table')) {
    const props = stack.resolve(resource.Properties ?? {}) as Partial<CreateTableCommandInput> & {
      TimeToLiveSpecification?: { AttributeName: string; Enabled: boolean };
      PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled: boolean };
    };
    const input: CreateTableCommandInput = {
      TableName: stack.ref(id),
      KeySchema: props.KeySchema,
      AttributeDefinitions: props.AttributeDefinitions,
      BillingMode: props.BillingMode ?? 'PROVISIONED',
      ...(props.BillingMode === 'PAY_PER_REQUEST' ? {} : { ProvisionedThroughput: props.ProvisionedThroughput ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }),
      ...(props.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: props.GlobalSecondaryIndexes } : {}),
      ...(props.LocalSecondaryIndexes ? { LocalSecondaryIndexes: props.LocalSecondaryIndexes } : {}),
    };
    const created = await dynamodb.send(new CreateTableCommand(input)).then(() => true, (e: unknown) => {
      if (!isAlreadyThere(e)) throw e;
      return false;
    });
    if (!created) await migrateIndexes(dynamodb, input, log);
    if (props.TimeToLiveSpecification?.Enabled) {
      await dynamodb.send(new UpdateTimeToLiveCommand({ TableName: input.TableName, TimeToLiveSpecification: props.TimeToLiveSpecification }));
    }
    if (props.PointInTimeRecoverySpecification) {
      await dynamodb.send(new UpdateContinuousBackupsCommand({ TableName: input.TableName, PointInTimeRecoverySpecification: props.PointInTimeRecoverySpecification }));
    }
  }
}

interface CfnLifecycleRule {
  Id?: string;
  Status: 'Enabled' | 'Disabled';
  Prefix?: string;
  ExpirationInDays?: number;
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  NoncurrentVersionExpiration?: { NoncurrentDays: number };
}

/** CloudFormation's lifecycle rule shape → the S3 API's. */
export function lifecycleRulesFromTemplate(rules: CfnLifecycleRule[]): LifecycleRule[] {
  return rules.map((rule) => ({
    ID: rule.Id,
    Status: rule.Status,
    Filter: { Prefix: rule.Prefix ?? '' },
    ...(rule.ExpirationInDays !== undefined ? { Expiration: { Days: rule.ExpirationInDays } } : {}),
    ...(rule.AbortIncompleteMultipartUpload ? { AbortIncompleteMultipartUpload: rule.AbortIncompleteMultipartUpload } : {}),
    ...(rule.NoncurrentVersionExpiration ? { NoncurrentVersionExpiration: rule.NoncurrentVersionExpiration } : {}),
  }));
}

interface CfnEncryptionRule {
  ServerSideEncryptionByDefault?: { SSEAlgorithm: ServerSideEncryption; KMSMasterKeyID?: string };
  BucketKeyEnabled?: boolean;
}

/** CloudFormation's bucket encryption rules → the S3 API's configuration. */
export function encryptionFromTemplate(rules: CfnEncryptionRule[]): ServerSideEncryptionConfiguration {
  return {
    Rules: rules.map((rule) => ({
      ...(rule.ServerSideEncryptionByDefault ? { ApplyServerSideEncryptionByDefault: rule.ServerSideEncryptionByDefault } : {}),
      ...(rule.BucketKeyEnabled !== undefined ? { BucketKeyEnabled: rule.BucketKeyEnabled } : {}),
    })),
  };
}

async function provisionBuckets(stack: DeployedStack, s3: S3Client): Promise<void> {
  for (const [id, resource] of stack.resourcesOfType('AWS::S3::Bucket')) {
    const Bucket = stack.ref(id);
    const props = stack.resolve(resource.Properties ?? {}) as {
      LifecycleConfiguration?: { Rules: CfnLifecycleRule[] };
      BucketEncryption?: { ServerSideEncryptionConfiguration: CfnEncryptionRule[] };
      PublicAccessBlockConfiguration?: Record<string, boolean>;
    };
    await s3.send(new CreateBucketCommand({ Bucket })).catch((e: unknown) => {
      if (!isAlreadyThere(e)) throw e;
    });
    if (props.LifecycleConfiguration) {
      await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: lifecycleRulesFromTemplate(props.LifecycleConfiguration.Rules) } }));
    }
    if (props.BucketEncryption) {
      await s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: encryptionFromTemplate(props.BucketEncryption.ServerSideEncryptionConfiguration) }));
    }
    if (props.PublicAccessBlockConfiguration) {
      await s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: props.PublicAccessBlockConfiguration }));
    }
  }
  for (const [, resource] of stack.resourcesOfType('AWS::S3::BucketPolicy')) {
    const props = stack.resolve(resource.Properties ?? {}) as { Bucket: string; PolicyDocument: unknown };
    await s3.send(new PutBucketPolicyCommand({ Bucket: props.Bucket, Policy: JSON.stringify(props.PolicyDocument) }));
  }
}

function createFunctions(stack: DeployedStack, assemblyDir: string, edgeUrl: string, region: string, options: LocalCloudOptions): Map<string, LambdaFunctionRuntime> {
  const functions = new Map<string, LambdaFunctionRuntime>();
  const awsEnvironment = {
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL: edgeUrl,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs_local',
    AWS_EC2_METADATA_DISABLED: 'true',
    // Functions run on Node.js 24 in AWS; the SDK's warning about an older local Node does not apply to them.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  for (const [id, resource] of stack.resourcesOfType('AWS::Lambda::Function')) {
    const props = resource.Properties ?? {};
    const code = stack.resolve(props.Code) as { S3Key?: string; ZipFile?: string } | undefined;
    const metadataPath = resource.Metadata?.['aws:asset:path'];
    const assetDir = typeof metadataPath === 'string'
      ? path.join(assemblyDir, metadataPath)
      : code?.S3Key ? path.join(assemblyDir, `asset.${code.S3Key.replace(/\.zip$/, '')}`) : undefined;
    if (!assetDir) {
      (options.log ?? console.log)(`function ${id}: inline code is not run locally, skipped`);
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

function uuidOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function kinesisMappings(stack: DeployedStack, region: string): KinesisMappingSettings[] {
  return stack.resourcesOfType('AWS::Lambda::EventSourceMapping').flatMap(([id, resource]) => {
    const p = stack.resolve(resource.Properties ?? {}) as {
      EventSourceArn?: string; FunctionName: string; BatchSize?: number; MaximumBatchingWindowInSeconds?: number;
      BisectBatchOnFunctionError?: boolean; MaximumRetryAttempts?: number; MaximumRecordAgeInSeconds?: number;
      FunctionResponseTypes?: string[]; StartingPosition?: KinesisMappingSettings['startingPosition'];
      StartingPositionTimestamp?: number; DestinationConfig?: { OnFailure?: { Destination?: string } }; Enabled?: boolean;
    };
    if (!p.EventSourceArn?.includes(':kinesis:') || p.Enabled === false) return [];
    const destination = p.DestinationConfig?.OnFailure?.Destination;
    const functionArn = p.FunctionName.startsWith('arn:') ? p.FunctionName : `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${p.FunctionName}`;
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

function httpApiRoutes(
  stack: DeployedStack,
  functionByArn: (arn: string) => LambdaFunctionRuntime | undefined,
  log: (line: string) => void,
): { routes: HttpRoute[]; authorizer?: JwtAuthorizerSettings; apiId: string; stage: string } {
  const apis = stack.resourcesOfType('AWS::ApiGatewayV2::Api');
  if (apis.length === 0) return { routes: [], apiId: 'none', stage: '$default' };
  if (apis.length > 1) log(`the local cloud serves one HTTP API: ${apis[0]![0]}; others are ignored`);
  const [apiLogicalId] = apis[0]!;
  const belongs = (props: Record<string, unknown> | undefined) => DeployedStack.referencedLogicalId(props?.ApiId) === apiLogicalId;

  const stageResource = stack.resourcesOfType('AWS::ApiGatewayV2::Stage').find(([, r]) => belongs(r.Properties));
  const stage = stageResource ? stack.resolveString(stageResource[1].Properties?.StageName) : '$default';

  const authorizers = new Map<string, JwtAuthorizerSettings>();
  for (const [id, r] of stack.resourcesOfType('AWS::ApiGatewayV2::Authorizer')) {
    if (!belongs(r.Properties)) continue;
    const p = stack.resolve(r.Properties) as { AuthorizerType: string; JwtConfiguration?: { Issuer: string; Audience: string[] }; IdentitySource?: string[] };
    if (p.AuthorizerType !== 'JWT' || !p.JwtConfiguration) {
      log(`authorizer ${id}: only JWT authorizers run locally, routes using it answer 401`);
      continue;
    }
    authorizers.set(stack.ref(id), {
      issuer: p.JwtConfiguration.Issuer,
      audience: p.JwtConfiguration.Audience,
      identitySource: p.IdentitySource?.[0] ?? '$request.header.Authorization',
    });
  }
  const integrations = new Map<string, string>();
  for (const [id, r] of stack.resourcesOfType('AWS::ApiGatewayV2::Integration')) {
    if (!belongs(r.Properties)) continue;
    const p = stack.resolve(r.Properties) as { IntegrationType: string; IntegrationUri?: string };
    if (p.IntegrationType === 'AWS_PROXY' && p.IntegrationUri) integrations.set(stack.ref(id), p.IntegrationUri);
  }
  const routes: HttpRoute[] = [];
  for (const [id, r] of stack.resourcesOfType('AWS::ApiGatewayV2::Route')) {
    if (!belongs(r.Properties)) continue;
    const p = stack.resolve(r.Properties) as { RouteKey: string; Target?: string; AuthorizationType?: string; AuthorizerId?: string; AuthorizationScopes?: string[] };
    const functionArn = integrations.get((p.Target ?? '').replace(/^integrations\//, ''));
    const fn = functionArn ? functionByArn(functionArn) : undefined;
    if (!fn) {
      log(`route ${id} (${p.RouteKey}): no Lambda integration to run, skipped`);
      continue;
    }
    const isJwt = p.AuthorizationType === 'JWT';
    const authorizer = isJwt ? authorizers.get(p.AuthorizerId ?? '') : undefined;
    // A JWT route whose authorizer cannot run locally must still refuse: an impossible issuer does.
    const effective = isJwt ? authorizer ?? { issuer: 'unavailable', audience: [], identitySource: '$request.header.Authorization' } : undefined;
    routes.push({
      routeKey: p.RouteKey,
      invoke: (event: APIGatewayProxyEventV2) => fn.invoke(event),
      ...(effective ? { authorizer: effective } : {}),
      ...(p.AuthorizationScopes ? { authorizationScopes: p.AuthorizationScopes } : {}),
    });
  }
  return { routes, authorizer: [...authorizers.values()][0], apiId: stack.ref(apiLogicalId), stage };
}
