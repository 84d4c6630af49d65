import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamEvent, SQSEvent } from 'aws-lambda';
import path from 'node:path';
import { nameFromArn } from '../../cloudformation/template';
import type { LocalService, ServiceEnvironment } from '../../service';
import { functionsFromTemplate, kinesisMappings, type FunctionOptions } from './deploy';
import { KinesisEventSourceMapping } from './event-source-mapping';
import type { LambdaFunctionRuntime } from './runtime';
import { SqsEventSourceMapping, sqsMappings, type QueuePoller } from './sqs-event-source-mapping';

export interface LambdaOptions extends FunctionOptions {
  /** Where the mappings read the streams: kinesalite itself, so faults injected at the edge spare them. */
  streamEndpoint: string;
  /** Stream poll interval on an idle shard (default 200 ms). */
  pollIntervalMs?: number;
  /** Base delay of event source mapping retries (default 100 ms, doubling). */
  retryBaseDelayMs?: number;
  /** The SQS queues, which SQS event source mappings poll directly. */
  queues?: QueuePoller;
}

export interface LambdaService extends LocalService {
  /** The deployed functions by logical id. */
  readonly functions: ReadonlyMap<string, LambdaFunctionRuntime>;
  functionByArn(arn: string): LambdaFunctionRuntime | undefined;
}

/**
 * Lambda: the template's functions in worker threads, their Kinesis event source mappings (checkpoints
 * under `<dataDir>/state/event-source-mappings`) and SQS ones. The Lambda API itself is not emulated.
 */
export function lambdaService(env: ServiceEnvironment, options: LambdaOptions): LambdaService {
  const functions = new Map<string, LambdaFunctionRuntime>();
  const mappings: KinesisEventSourceMapping[] = [];
  const queueMappings: SqsEventSourceMapping[] = [];
  const clients: Array<{ destroy(): void }> = [];
  const functionByArn = (arn: string) => [...functions.values()].find((f) => f.definition.arn === arn);
  return {
    name: 'lambda',
    functions,
    functionByArn,
    deploy: async (stack, context) => {
      for (const [id, fn] of functionsFromTemplate(stack, context, options)) functions.set(id, fn);
      const byName = new Map([...functions.values()].map((f) => [f.definition.name, f]));
      const kinesis = new KinesisClient({ ...context.client, endpoint: options.streamEndpoint, requestHandler: new NodeHttpHandler() });
      const s3 = new S3Client({ ...context.client, forcePathStyle: true });
      clients.push(kinesis, s3);
      for (const settings of kinesisMappings(stack)) {
        const target = byName.get(nameFromArn(settings.functionArn)) ?? functionByArn(settings.functionArn);
        if (!target) {
          env.log(`event source mapping ${settings.uuid}: no function ${settings.functionArn}, skipped`);
          continue;
        }
        mappings.push(new KinesisEventSourceMapping(settings, {
          kinesis,
          s3,
          invoke: (event: KinesisStreamEvent) => target.invoke(event),
          stateDir: path.join(env.stateDir, 'event-source-mappings'),
          log: env.log,
          pollIntervalMs: options.pollIntervalMs,
          retryBaseDelayMs: options.retryBaseDelayMs,
        }));
      }
      for (const mapping of mappings) await mapping.start();
      for (const settings of sqsMappings(stack)) {
        const target = byName.get(nameFromArn(settings.functionArn)) ?? functionByArn(settings.functionArn);
        if (!target || !options.queues) {
          env.log(`event source mapping ${settings.uuid}: ${target ? 'no SQS service' : `no function ${settings.functionArn}`}, skipped`);
          continue;
        }
        const mapping = new SqsEventSourceMapping(settings, {
          queues: options.queues,
          invoke: (event: SQSEvent) => target.invoke(event),
          log: env.log,
          functionConcurrency: options.maxConcurrency ?? 4,
        });
        queueMappings.push(mapping);
        mapping.start();
      }
    },
    close: async () => {
      await Promise.all(queueMappings.splice(0).map((m) => m.stop()));
      await Promise.all(mappings.splice(0).map((m) => m.stop()));
      await Promise.all([...functions.values()].map((f) => f.close()));
      for (const client of clients.splice(0)) client.destroy();
    },
  };
}
