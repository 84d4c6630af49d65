import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { nameFromArn, type DeployedStack } from '../../cloudformation/template';
import type { ReceivedMessage } from '../sqs/types';
import { reportedFailures } from './batch-item-failures';
import type { InvocationResult } from './runtime';

/** An `AWS::Lambda::EventSourceMapping` on an SQS queue, with Lambda's defaults filled in. */
export interface SqsMappingSettings {
  uuid: string;
  functionArn: string;
  queueArn: string;
  queueName: string;
  /** 1 to 10 on FIFO queues, up to 10,000 on standard ones (default 10). */
  batchSize: number;
  /** Standard queues only: how long to gather a batch (default 0). */
  maxBatchingWindowSeconds: number;
  reportBatchItemFailures: boolean;
  /** `ScalingConfig.MaximumConcurrency`: concurrent invocations at most (default: the function's). */
  maximumConcurrency?: number;
  region: string;
}

/** What a mapping needs of the queues (`LocalSqs`): it polls them directly, not through the edge. */
export interface QueuePoller {
  receive(queueName: string, options: { maxMessages: number }): ReceivedMessage[];
  waitForMessages(queueName: string, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  deleteMessage(queueName: string, receiptHandle: string): void;
  changeMessageVisibility(queueName: string, receiptHandle: string, seconds: number): void;
  flush(): Promise<void>;
}

export interface SqsMappingDependencies {
  queues: QueuePoller;
  invoke: (event: SQSEvent) => Promise<InvocationResult>;
  log: (message: string) => void;
  /** Concurrent invocations the function allows (its execution environments). */
  functionConcurrency: number;
  /** How long an idle poller waits for a message before it polls again (default 20 s, SQS's long poll). */
  longPollMs?: number;
}

/** Lambda's synchronous invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** A stable mapping UUID, so logs name the same mapping across restarts. */
function uuidOf(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `AWS::Lambda::EventSourceMapping` on SQS queues (enabled ones), with Lambda's defaults filled in. */
export function sqsMappings(stack: DeployedStack): SqsMappingSettings[] {
  const { region, accountId } = stack.env;
  return stack.resourcesOfType('AWS::Lambda::EventSourceMapping').flatMap(([id, resource]) => {
    const p = stack.resolve(resource.Properties ?? {}) as {
      EventSourceArn?: string; FunctionName: string; BatchSize?: number; MaximumBatchingWindowInSeconds?: number;
      FunctionResponseTypes?: string[]; ScalingConfig?: { MaximumConcurrency?: number }; Enabled?: boolean;
    };
    if (!p.EventSourceArn?.startsWith('arn:aws:sqs:') || p.Enabled === false) return [];
    const functionArn = p.FunctionName.startsWith('arn:') ? p.FunctionName : `arn:aws:lambda:${region}:${accountId}:function:${p.FunctionName}`;
    const maximumConcurrency = p.ScalingConfig?.MaximumConcurrency;
    return [{
      uuid: uuidOf(`${stack.env.stackName}/${id}`),
      functionArn,
      queueArn: p.EventSourceArn,
      queueName: nameFromArn(p.EventSourceArn),
      batchSize: p.BatchSize ?? 10,
      maxBatchingWindowSeconds: p.MaximumBatchingWindowInSeconds ?? 0,
      reportBatchItemFailures: p.FunctionResponseTypes?.includes('ReportBatchItemFailures') ?? false,
      ...(maximumConcurrency !== undefined ? { maximumConcurrency } : {}),
      region,
    }];
  });
}

export type SqsBatchOutcome =
  | { kind: 'success' }
  | { kind: 'partial'; failedMessageIds: ReadonlySet<string> }
  | { kind: 'error'; errorType: string; errorMessage: string };

/**
 * How Lambda reads an invocation's result for an SQS batch. A function error fails every message. With
 * `ReportBatchItemFailures`, the listed `itemIdentifier`s (message ids) fail and the rest succeed; an empty
 * or null list is a success, and an entry naming no message of the batch fails the whole batch.
 */
export function interpretSqsResult(result: InvocationResult, messages: readonly { messageId: string }[], reportBatchItemFailures: boolean): SqsBatchOutcome {
  const reported = reportedFailures(result, reportBatchItemFailures);
  if (reported.kind !== 'reported') return reported;
  const ids = new Set(messages.map((m) => m.messageId));
  const failed = new Set<string>();
  for (const id of reported.ids) {
    if (typeof id !== 'string' || !ids.has(id)) {
      return { kind: 'error', errorType: 'InvalidResponse', errorMessage: `batchItemFailures names an unknown message: ${JSON.stringify(id)}` };
    }
    failed.add(id);
  }
  return { kind: 'partial', failedMessageIds: failed };
}

/** The record Lambda builds from a message (messageAttributes in Lambda's lower-case shape). */
export function sqsRecord(message: ReceivedMessage, settings: Pick<SqsMappingSettings, 'queueArn' | 'region'>): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.messageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType,
    };
  }
  const { ApproximateReceiveCount, SentTimestamp, SenderId, ApproximateFirstReceiveTimestamp, ...rest } = message.attributes;
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: ApproximateReceiveCount!,
      SentTimestamp: SentTimestamp!,
      SenderId: SenderId!,
      ApproximateFirstReceiveTimestamp: ApproximateFirstReceiveTimestamp!,
      ...rest,
    },
    messageAttributes,
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: settings.queueArn,
    awsRegion: settings.region,
  };
}

/**
 * Polls a queue and invokes the function as Lambda's SQS event source mapping does: up to `BatchSize`
 * messages per invocation, successful ones deleted, failed ones left in the queue to become visible
 * again after the visibility timeout (so the queue's redrive policy moves them to its dead-letter queue
 * in the end). As many pollers as the function may run at once (or `MaximumConcurrency`); FIFO order
 * holds because the queue hands out no message of a group while another of it is in flight.
 */
export class SqsEventSourceMapping {
  private readonly abort = new AbortController();
  private readonly pollers: Promise<void>[] = [];

  constructor(
    readonly settings: SqsMappingSettings,
    private readonly deps: SqsMappingDependencies,
  ) {}

  start(): void {
    const count = Math.max(1, Math.min(this.deps.functionConcurrency, this.settings.maximumConcurrency ?? Number.POSITIVE_INFINITY));
    for (let i = 0; i < count; i++) {
      this.pollers.push(this.poll().catch((error: Error) => this.deps.log(`mapping ${this.settings.uuid} stopped: ${error.message}`)));
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.pollers);
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async poll(): Promise<void> {
    const { queues } = this.deps;
    const { queueName, batchSize } = this.settings;
    const windowMs = this.settings.maxBatchingWindowSeconds * 1000;
    while (!this.stopped) {
      let batch: ReceivedMessage[];
      try {
        batch = queues.receive(queueName, { maxMessages: batchSize });
        if (batch.length === 0) {
          await queues.waitForMessages(queueName, this.deps.longPollMs ?? 20_000, this.abort.signal);
          continue;
        }
        // A batching window gathers more messages before invoking, up to the batch size.
        const until = Date.now() + windowMs;
        while (!this.stopped && batch.length < batchSize && Date.now() < until) {
          await queues.waitForMessages(queueName, until - Date.now(), this.abort.signal);
          batch.push(...queues.receive(queueName, { maxMessages: batchSize - batch.length }));
        }
        await queues.flush();
      } catch (error) {
        // The queue is gone or unreadable: wait, as Lambda keeps polling a mapping until it is deleted.
        this.deps.log(`mapping ${this.settings.uuid}: receive from ${queueName} failed (${(error as Error).message})`);
        await queues.waitForMessages(queueName, this.deps.longPollMs ?? 20_000, this.abort.signal);
        continue;
      }
      await this.process(batch);
    }
  }

  private async process(received: ReceivedMessage[]): Promise<void> {
    const { queues } = this.deps;
    const { queueName } = this.settings;
    const batch = this.cutToPayloadLimit(received);
    const event: SQSEvent = { Records: batch.map((m) => sqsRecord(m, this.settings)) };
    const outcome = interpretSqsResult(await this.deps.invoke(event), batch, this.settings.reportBatchItemFailures);
    if (outcome.kind === 'error') {
      this.deps.log(`mapping ${this.settings.uuid}: function error ${outcome.errorType}: ${outcome.errorMessage}; ${batch.length} message(s) back after the visibility timeout`);
      return;
    }
    for (const message of batch) {
      if (outcome.kind === 'partial' && outcome.failedMessageIds.has(message.messageId)) continue;
      try {
        queues.deleteMessage(queueName, message.receiptHandle);
      } catch (error) {
        // The visibility timeout ended during the invocation: the message is delivered again, as on AWS.
        this.deps.log(`mapping ${this.settings.uuid}: delete of ${message.messageId} failed (${(error as Error).message})`);
      }
    }
    await queues.flush();
  }

  /** Keeps the batch under Lambda's payload limit; the messages cut off are shown again at once. */
  private cutToPayloadLimit(messages: ReceivedMessage[]): ReceivedMessage[] {
    let bytes = 0;
    let count = 0;
    while (count < messages.length) {
      const size = Buffer.byteLength(JSON.stringify(sqsRecord(messages[count]!, this.settings)));
      if (count > 0 && bytes + size > MAX_PAYLOAD_BYTES) break;
      bytes += size;
      count++;
    }
    for (const message of messages.slice(count)) {
      try {
        this.deps.queues.changeMessageVisibility(this.settings.queueName, message.receiptHandle, 0);
      } catch {
        // Already visible again: nothing to undo.
      }
    }
    return messages.slice(0, count);
  }
}
