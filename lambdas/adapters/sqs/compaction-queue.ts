import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { deduplicationId, messageBody, messageGroupId } from '../../domain/export/messages';
import type { CompactionMessage, CompactionQueue } from '../../domain/export/ports';

/** Entries per SendMessageBatch request: SQS's limit. */
export const SEND_BATCH = 10;

export interface SqsCompactionQueueOptions {
  /** Tries of the entries SQS reports failed, default 5. */
  attempts?: number;
  /** Wait before the first retry of failed entries, ms (doubled each time), default 100. */
  retryDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The compaction FIFO queue as a {@link CompactionQueue}: SendMessageBatch, 10 entries per request,
 * entries SQS reports failed sent again (only those; a failure the sender caused is not retried).
 * `send` returns when every message is queued, so the planner sends one window after the other.
 */
export class SqsCompactionQueue implements CompactionQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly options: SqsCompactionQueueOptions = {},
  ) {}

  async send(messages: readonly CompactionMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += SEND_BATCH) await this.sendBatch(messages.slice(i, i + SEND_BATCH));
  }

  private async sendBatch(messages: readonly CompactionMessage[]): Promise<void> {
    let pending: SendMessageBatchRequestEntry[] = messages.map((m, i) => ({
      Id: `m${i}`,
      MessageBody: messageBody(m),
      MessageGroupId: messageGroupId(m),
      MessageDeduplicationId: deduplicationId(m),
    }));
    const attempts = this.options.attempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const reply = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
      const failed = reply.Failed ?? [];
      if (failed.length === 0) return;
      const senderFault = failed.find((f) => f.SenderFault);
      if (senderFault || attempt >= attempts) {
        const f = senderFault ?? failed[0]!;
        throw new Error(`SQS refused ${failed.length} compaction message(s), e.g. ${f.Id}: ${f.Code} ${f.Message ?? ''}`.trim());
      }
      const retry = new Set(failed.map((f) => f.Id));
      pending = pending.filter((e) => retry.has(e.Id));
      await sleep((this.options.retryDelayMs ?? 100) * 2 ** (attempt - 1));
    }
  }
}
