import path from 'node:path';
import type { DeployContext } from './cloudformation/deploy';
import type { DeployedStack } from './cloudformation/template';
import type { LocalService, ServiceEnvironment } from './service';
import { startApiGateway } from './services/apigateway/service';
import { cloudWatchService } from './services/cloudwatch/service';
import { startCloudFront } from './services/cloudfront/service';
import { startCognito } from './services/cognito/service';
import { startDynamoDb } from './services/dynamodb/service';
import { eventsService } from './services/events/service';
import { iamService } from './services/iam/service';
import { LocalIam } from './services/iam/models';
import { startKinesis } from './services/kinesis/service';
import { lambdaService } from './services/lambda/service';
import { startS3 } from './services/s3/service';
import { LocalSecretsManager } from './services/secretsmanager/models';
import { secretsManagerService } from './services/secretsmanager/service';
import { snsService } from './services/sns/service';
import { LocalSqs } from './services/sqs/models';
import { sqsService } from './services/sqs/service';
import { stsService } from './services/sts/service';

/**
 * The local cloud's services. A service is one `LocalService` entry: its name, how the edge recognises its
 * requests, its request handler, how it deploys the template's resources of its types, and how it closes.
 *
 * To add a service:
 *   1. create `services/<name>/`: its state and rules (`models.ts`), its protocol (`responses.ts`, or a
 *      `provider.ts` in front of an emulator), the resource types it deploys (`deploy.ts`), and
 *      `service.ts`, which starts it and returns its `LocalService`;
 *   2. add one line to `startServices` below. Services start, deploy and close (in reverse) in that order:
 *      list a service after the ones it uses. One that checks callers' keys takes `iam.store` (a
 *      `CredentialStore`, auth/credentials.ts), never the IAM service itself.
 * The edge routes with the entries' matchers only, and `intercept(name, …)` uses the same names. A `deploy`
 * reads its own resource types from the `DeployedStack` and calls the services through the edge.
 */

/** The services' settings (`LocalCloudOptions` passes them on). */
export interface ServiceOptions {
  /** HTTP API port (0 = any free port). */
  apiPort: number;
  /** Port of the local CloudFront, which serves the console (default 0 = any free port). */
  consolePort?: number;
  /** Port of the local Cognito hosted UI, the OAuth endpoints (default 0 = any free port). */
  authPort?: number;
  /** OEM id the local sign-in page offers (default: the first OEM of the simulated fleet). */
  signInOemId?: string;
  /** How often expired DynamoDB items are swept (default 10 s). */
  ttlSweepIntervalMs?: number;
  /** Stream poll interval on an idle shard (default 200 ms). */
  pollIntervalMs?: number;
  /** Base delay of event source mapping retries and of asynchronous invocation retries (default 100 ms, doubling). */
  retryBaseDelayMs?: number;
  /** Tests: every recurring EventBridge schedule (rate and cron, rules and Scheduler) fires at this interval instead of its own. */
  scheduleIntervalMs?: number;
  /** Execution environments per function (default 4). */
  maxConcurrency?: number;
  functionLog?: (functionLogicalId: string, line: string) => void;
}

/** The list the edge routes by; services join it as they start. */
export class ServiceRegistry {
  readonly services: LocalService[] = [];

  constructor(services: LocalService[] = []) {
    this.services.push(...services);
  }

  add<S extends LocalService>(service: S): S {
    if (this.services.some((s) => s.name === service.name)) throw new Error(`service ${service.name} is registered twice`);
    this.services.push(service);
    return service;
  }

  /** Deploys the template through every service, in order. */
  async deploy(stack: DeployedStack, context: DeployContext): Promise<void> {
    for (const service of this.services) await service.deploy?.(stack, context);
  }

  /** Closes every service, last started first; a failure is logged and the others still close. */
  async close(log: (line: string) => void): Promise<void> {
    for (const service of this.services.splice(0).reverse()) {
      await Promise.resolve(service.close?.()).catch((error: Error) => log(`stop: ${service.name}: ${error.message}`));
    }
  }
}

/** Starts every service into `registry`; the returned fields are what `LocalCloud` exposes of them. */
export async function startServices(registry: ServiceRegistry, env: ServiceEnvironment, options: ServiceOptions) {
  const iam = registry.add(iamService(new LocalIam(path.join(env.stateDir, 'iam.json'), env.accountId)));
  registry.add(stsService(iam.store));
  const secretsManager = registry.add(secretsManagerService(new LocalSecretsManager(path.join(env.stateDir, 'secretsmanager.json'), env.region, env.accountId), iam.store));
  const s3 = registry.add(await startS3(env, iam.store));
  const dynamodb = registry.add(await startDynamoDb(env, { sweepIntervalMs: options.ttlSweepIntervalMs }));
  const kinesis = registry.add(await startKinesis(env));
  const sqs = registry.add(sqsService(new LocalSqs(path.join(env.stateDir, 'sqs.json'), env.region, env.accountId)));
  const lambda = registry.add(lambdaService(env, { streamEndpoint: kinesis.emulatorUrl, queues: sqs.queues, ...options }));
  const events = registry.add(eventsService(env, { functions: lambda, scheduleIntervalMs: options.scheduleIntervalMs, retryBaseDelayMs: options.retryBaseDelayMs }));
  const apiGateway = registry.add(await startApiGateway(env, { port: options.apiPort, functions: lambda }));
  const sns = registry.add(snsService());
  const cloudWatch = registry.add(cloudWatchService());
  const cognito = registry.add(await startCognito(env, { port: options.authPort ?? 0, issuer: () => apiGateway.issuer, signInOemId: options.signInOemId }));
  const cloudfront = registry.add(await startCloudFront(env, { port: options.consolePort ?? 0 }));
  return { iam: iam.store, secretsManager: secretsManager.secrets, s3: s3.gateway, dynamodb, lambda, events, apiGateway, cognito, cloudfront, sns: sns.recorded, cloudWatch: cloudWatch.recorded };
}
