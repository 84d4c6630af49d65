import { deduplicationId, messageGroupId } from '../../lambdas/domain/export/messages';
import type { CompactionMessage, CompactionQueue } from '../../lambdas/domain/export/ports';

/**
 * The compaction FIFO queue in memory: deduplicated by deduplication id, one message of a group in
 * flight at a time, a failed message redelivered before anything after it in its group.
 */
export class MemoryCompactionQueue implements CompactionQueue {
  /** Every message accepted, in order. */
  readonly accepted: CompactionMessage[] = [];
  private readonly pending: CompactionMessage[] = [];
  private readonly seen = new Set<string>();
  /** Deliveries made, failed ones included. */
  deliveries = 0;
  /** Send calls that fail before they take effect. */
  failSends = 0;

  constructor(private readonly options: { deduplicate?: boolean } = {}) {}

  async send(messages: readonly CompactionMessage[]): Promise<void> {
    if (this.failSends > 0) {
      this.failSends--;
      throw new Error('injected SQS failure');
    }
    for (const m of messages) {
      const id = deduplicationId(m);
      if ((this.options.deduplicate ?? true) && this.seen.has(id)) continue;
      this.seen.add(id);
      this.accepted.push(m);
      this.pending.push(m);
    }
  }

  get size(): number {
    return this.pending.length;
  }

  /**
   * Delivers until the queue is empty or `rounds` pass: each round hands every group's first message
   * to `handle`; one that throws stays first in its group for the next round (a redelivery).
   */
  async drain(handle: (message: CompactionMessage) => Promise<void>, rounds = 1000): Promise<number> {
    let failures = 0;
    for (let round = 0; round < rounds && this.pending.length > 0; round++) {
      const heads = new Map<string, CompactionMessage>();
      for (const m of this.pending) if (!heads.has(messageGroupId(m))) heads.set(messageGroupId(m), m);
      for (const m of heads.values()) {
        this.deliveries++;
        try {
          await handle(m);
          this.pending.splice(this.pending.indexOf(m), 1);
        } catch {
          failures++;
        }
      }
    }
    return failures;
  }
}
