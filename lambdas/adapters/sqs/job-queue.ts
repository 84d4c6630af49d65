import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ChunkMessage } from '../../domain/iap-jobs/jobs';
import type { JobQueue } from '../../domain/iap-jobs/ports';

/**
 * The bulk job FIFO queue: one message group per job (its chunks run one after the other), the
 * deduplication id the job and chunk number, so a chunk sent twice within SQS's five-minute
 * deduplication interval is queued once.
 */
export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: ChunkMessage): Promise<void> {
    await this.sqs.send(new SendMessageCommand({
      QueueUrl: this.queueUrl,
      MessageBody: JSON.stringify(message),
      MessageGroupId: message.jobId,
      MessageDeduplicationId: `${message.jobId}-${message.chunk}`,
    }));
  }
}

/** A chunk message from a queue body, or undefined when it is not one (never retried: it would never be one). */
export function parseChunkMessage(body: string): ChunkMessage | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<ChunkMessage>;
    if (typeof parsed.oemId === 'string' && typeof parsed.jobId === 'string' && Number.isSafeInteger(parsed.chunk) && (parsed.chunk ?? -1) >= 0) {
      return { oemId: parsed.oemId, jobId: parsed.jobId, chunk: parsed.chunk! };
    }
  } catch {
    // not JSON
  }
  return undefined;
}
