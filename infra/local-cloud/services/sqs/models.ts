import { createHash, randomUUID } from 'node:crypto';
import { readState, StateWriter } from '../../aws-protocol/state-file';
import { ATTRIBUTES, checkAttributes, COMPUTED_ATTRIBUTES, FIFO_QUEUE_NAME, isFifo, MAX_VISIBILITY_TIMEOUT, parseRedrivePolicy, QUEUE_NAME } from './attributes';
import { invalidAttributeName, invalidAttributeValue, invalidParameterValue, queueDoesNotExist, receiptHandleIsInvalid, SqsError } from './errors';
import {
  DEDUPLICATION_WINDOW_MS, expiredReceiptHandle, md5, md5OfMessageAttributes, messageIdOf, receiptHandleOf, received, sequenceNumber, validateMessage,
} from './messages';
import type { ReceivedMessage, SendInput, SendResult, SqsState, StoredMessage, StoredQueue } from './types';

/**
 * SQS's state and rules: standard and FIFO queues; messages with delays, visibility timeouts, receive
 * counts and redrive to a dead-letter queue after `maxReceiveCount` receives; FIFO message groups (in order,
 * and no message of a group is handed out while another of it is in flight) and deduplication within five
 * minutes (by `MessageDeduplicationId` or the body's SHA-256). Everything lives in one JSON file under the
 * data directory, written atomically after every change, so a restart loses nothing (in-flight messages
 * stay in flight until their visibility timeout ends). Operations take queue names and throw `SqsError`;
 * the JSON protocol is in responses.ts, attribute rules in attributes.ts, message rules in messages.ts,
 * errors in errors.ts and the stored shapes in types.ts.
 */

const PURGE_INTERVAL_MS = 60_000;

export class LocalSqs {
  private readonly state: SqsState;
  private readonly writer: StateWriter;
  private scheduledWrite: Promise<void> | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    stateFile: string,
    readonly region: string,
    readonly accountId: string,
    private readonly now: () => number = Date.now,
  ) {
    this.writer = new StateWriter(stateFile);
    const loaded = readState<Partial<SqsState> | null>(stateFile, null);
    this.state = { queues: loaded?.queues ?? [] };
  }

  // ---- queues -------------------------------------------------------------------------------------

  /** Creates a queue, or finds it when one of that name has the same attributes (as SQS does). */
  createQueue(name: string, attributes: Record<string, string> = {}): StoredQueue {
    const fifo = attributes.FifoQueue === 'true';
    if (fifo ? !FIFO_QUEUE_NAME.test(name) : !QUEUE_NAME.test(name) || name.endsWith('.fifo')) {
      throw invalidParameterValue(fifo
        ? 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.'
        : 'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
    }
    const checked = checkAttributes(attributes, fifo, true, (arn) => this.findByArn(arn));
    const existing = this.state.queues.find((q) => q.name === name);
    if (existing) {
      const differing = Object.entries(checked).find(([key, value]) => (existing.attributes[key] ?? ATTRIBUTES[key]?.default) !== value);
      if (differing) {
        throw new SqsError('QueueNameExists', 'QueueAlreadyExists', `A queue already exists with the same name and a different value for attribute ${differing[0]}`);
      }
      return existing;
    }
    const seconds = Math.floor(this.now() / 1000);
    const queue: StoredQueue = {
      name,
      arn: `arn:aws:sqs:${this.region}:${this.accountId}:${name}`,
      attributes: checked,
      createdTimestamp: seconds,
      lastModifiedTimestamp: seconds,
      nextSequence: 1,
      messages: [],
      deduplication: [],
    };
    this.state.queues.push(queue);
    this.changed();
    return queue;
  }

  setQueueAttributes(name: string, attributes: Record<string, string>): void {
    const queue = this.queue(name);
    const fifo = isFifo(queue);
    if (attributes.FifoQueue !== undefined && attributes.FifoQueue !== String(fifo)) throw invalidAttributeValue('FifoQueue', 'a queue cannot change its type');
    Object.assign(queue.attributes, checkAttributes(attributes, fifo, false, (arn) => this.findByArn(arn)));
    queue.lastModifiedTimestamp = Math.floor(this.now() / 1000);
    this.changed();
  }

  deleteQueue(name: string): void {
    const queue = this.queue(name);
    this.state.queues.splice(this.state.queues.indexOf(queue), 1);
    this.notify(name);
    this.changed();
  }

  /** The queue of that name; `QueueDoesNotExist` otherwise. */
  queue(name: string): StoredQueue {
    const found = this.state.queues.find((q) => q.name === name);
    if (!found) throw queueDoesNotExist();
    return found;
  }

  findByArn(arn: string): StoredQueue | undefined {
    return this.state.queues.find((q) => q.arn === arn);
  }

  listQueues(prefix = ''): StoredQueue[] {
    return this.state.queues.filter((q) => q.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The named attributes (`All` for every one), as GetQueueAttributes answers them. */
  getQueueAttributes(name: string, names: readonly string[]): Record<string, string> {
    const queue = this.queue(name);
    this.expire(queue);
    for (const n of names) if (n !== 'All' && !(n in ATTRIBUTES) && !COMPUTED_ATTRIBUTES.includes(n)) throw invalidAttributeName(n);
    const now = this.now();
    const fifo = isFifo(queue);
    const all: Record<string, string> = {
      QueueArn: queue.arn,
      ApproximateNumberOfMessages: String(queue.messages.filter((m) => m.visibleAt <= now).length),
      ApproximateNumberOfMessagesNotVisible: String(queue.messages.filter((m) => m.visibleAt > now && m.receiptHandle !== undefined).length),
      ApproximateNumberOfMessagesDelayed: String(queue.messages.filter((m) => m.visibleAt > now && m.receiptHandle === undefined).length),
      CreatedTimestamp: String(queue.createdTimestamp),
      LastModifiedTimestamp: String(queue.lastModifiedTimestamp),
    };
    for (const [key, rule] of Object.entries(ATTRIBUTES)) {
      if (rule.fifoOnly && !fifo) continue;
      const value = queue.attributes[key] ?? rule.default;
      if (value !== undefined) all[key] = value;
    }
    if (fifo) {
      all.FifoQueue = 'true';
      all.ContentBasedDeduplication ??= 'false';
      all.DeduplicationScope ??= 'queue';
      all.FifoThroughputLimit ??= 'perQueue';
    }
    if (names.includes('All')) return all;
    return Object.fromEntries(names.filter((n) => all[n] !== undefined).map((n) => [n, all[n]!]));
  }

  purgeQueue(name: string): void {
    const queue = this.queue(name);
    const now = this.now();
    if (queue.lastPurge !== undefined && now - queue.lastPurge < PURGE_INTERVAL_MS) {
      throw new SqsError('PurgeQueueInProgress', 'AWS.SimpleQueueService.PurgeQueueInProgress',
        `Only one PurgeQueue operation on ${name} is allowed every 60 seconds.`, 403);
    }
    queue.messages = [];
    queue.lastPurge = now;
    this.changed();
  }

  // ---- messages -----------------------------------------------------------------------------------

  sendMessage(name: string, input: SendInput): SendResult {
    const queue = this.queue(name);
    const fifo = isFifo(queue);
    const now = this.now();
    validateMessage(queue, input);
    const result: SendResult = {
      messageId: randomUUID(),
      md5OfMessageBody: md5(input.body),
      ...(input.messageAttributes && Object.keys(input.messageAttributes).length > 0 ? { md5OfMessageAttributes: md5OfMessageAttributes(input.messageAttributes) } : {}),
      ...(input.awsTraceHeader !== undefined
        ? { md5OfMessageSystemAttributes: md5OfMessageAttributes({ AWSTraceHeader: { DataType: 'String', StringValue: input.awsTraceHeader } }) }
        : {}),
    };
    let deduplicationId: string | undefined;
    if (fifo) {
      deduplicationId = input.deduplicationId ?? createHash('sha256').update(input.body).digest('hex');
      const key = queue.attributes.DeduplicationScope === 'messageGroup' ? `${input.groupId}\u0000${deduplicationId}` : deduplicationId;
      queue.deduplication = queue.deduplication.filter((d) => d.expiresAt > now);
      const duplicate = queue.deduplication.find((d) => d.key === key);
      // A duplicate is accepted and answered as the first was, but not enqueued again.
      if (duplicate) return { ...result, messageId: duplicate.messageId, ...(duplicate.sequenceNumber ? { sequenceNumber: duplicate.sequenceNumber } : {}) };
      result.sequenceNumber = sequenceNumber(queue);
      queue.deduplication.push({ key, messageId: result.messageId, sequenceNumber: result.sequenceNumber, expiresAt: now + DEDUPLICATION_WINDOW_MS });
    }
    const delay = input.delaySeconds ?? Number(queue.attributes.DelaySeconds ?? 0);
    queue.messages.push({
      messageId: result.messageId,
      body: input.body,
      md5OfBody: result.md5OfMessageBody,
      ...(result.md5OfMessageAttributes ? { messageAttributes: input.messageAttributes, md5OfMessageAttributes: result.md5OfMessageAttributes } : {}),
      ...(input.awsTraceHeader !== undefined ? { awsTraceHeader: input.awsTraceHeader } : {}),
      sentTimestamp: now,
      ...(input.groupId !== undefined ? { groupId: input.groupId } : {}),
      ...(deduplicationId !== undefined ? { deduplicationId } : {}),
      ...(result.sequenceNumber ? { sequenceNumber: result.sequenceNumber } : {}),
      receiveCount: 0,
      visibleAt: now + delay * 1000,
    });
    this.changed();
    this.notify(name);
    return result;
  }

  /**
   * Hands out up to `maxMessages` visible messages and hides them for the visibility timeout. A message
   * received `maxReceiveCount` times already goes to the dead-letter queue instead. FIFO queues hand out
   * each group's messages in order, as many of one group as fit, and none of a group that has a message
   * in flight (or a delayed head), so one group is processed by one consumer at a time.
   */
  receive(name: string, options: { maxMessages: number; visibilityTimeout?: number }): ReceivedMessage[] {
    const queue = this.queue(name);
    this.expire(queue);
    const now = this.now();
    const visibility = options.visibilityTimeout ?? Number(queue.attributes.VisibilityTimeout ?? 30);
    const redrive = queue.attributes.RedrivePolicy ? parseRedrivePolicy(queue.attributes.RedrivePolicy) : undefined;
    const deadLetterQueue = redrive ? this.findByArn(redrive.deadLetterTargetArn) : undefined;
    const taken: ReceivedMessage[] = [];
    let moved = false;
    const take = (message: StoredMessage): void => {
      if (redrive && deadLetterQueue && message.receiveCount >= redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message, deadLetterQueue);
        moved = true;
        return;
      }
      message.receiveCount++;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + visibility * 1000;
      message.receiptHandle = receiptHandleOf(queue, message.messageId);
      taken.push(received(queue, message));
    };
    if (isFifo(queue)) {
      const groups = new Map<string, StoredMessage[]>();
      for (const message of queue.messages) {
        const group = groups.get(message.groupId ?? '') ?? [];
        group.push(message);
        groups.set(message.groupId ?? '', group);
      }
      for (const messages of groups.values()) {
        if (taken.length >= options.maxMessages) break;
        if (messages.some((m) => m.visibleAt > now && m.receiptHandle !== undefined)) continue; // in flight
        for (const message of messages) {
          if (taken.length >= options.maxMessages || message.visibleAt > now) break; // order: nothing past a delayed message
          take(message);
        }
      }
    } else {
      for (const message of [...queue.messages]) {
        if (taken.length >= options.maxMessages) break;
        if (message.visibleAt <= now) take(message);
      }
    }
    if (taken.length > 0 || moved) this.changed();
    return taken;
  }

  /** Deletes a received message. A stale handle of a standard queue deletes nothing, as on SQS. */
  deleteMessage(name: string, receiptHandle: string): void {
    const queue = this.queue(name);
    const messageId = messageIdOf(queue, receiptHandle);
    if (messageId === undefined) throw receiptHandleIsInvalid(receiptHandle);
    const at = queue.messages.findIndex((m) => m.messageId === messageId);
    if (at < 0) return; // already deleted: SQS answers success
    const message = queue.messages[at]!;
    if (message.receiptHandle !== receiptHandle) {
      if (isFifo(queue)) throw expiredReceiptHandle(receiptHandle);
      return;
    }
    // On a FIFO queue, a message whose visibility timeout ended may be with another consumer now.
    if (isFifo(queue) && message.visibleAt <= this.now()) throw expiredReceiptHandle(receiptHandle);
    queue.messages.splice(at, 1);
    this.changed();
    this.notify(name);
  }

  /** Shows (0) or hides an in-flight message again for `seconds` from now. */
  changeMessageVisibility(name: string, receiptHandle: string, seconds: number): void {
    const queue = this.queue(name);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_VISIBILITY_TIMEOUT) {
      throw invalidParameterValue(`Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and ${MAX_VISIBILITY_TIMEOUT}, if provided.`);
    }
    const messageId = messageIdOf(queue, receiptHandle);
    if (messageId === undefined) throw receiptHandleIsInvalid(receiptHandle);
    const message = queue.messages.find((m) => m.messageId === messageId);
    if (!message || message.receiptHandle !== receiptHandle) {
      throw invalidParameterValue(`Value ${receiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`);
    }
    const now = this.now();
    if (message.visibleAt <= now) throw new SqsError('MessageNotInflight', 'AWS.SimpleQueueService.MessageNotInflight', 'The message referred to is not in flight.');
    message.visibleAt = now + seconds * 1000;
    this.changed();
    if (seconds === 0) this.notify(name);
  }

  /**
   * Resolves when a message may have become receivable on the queue (sent, shown again, deleted so its
   * group moves on), at the next visibility change due, after `timeoutMs`, or when `signal` aborts.
   */
  waitForMessages(name: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve();
    const queue = this.state.queues.find((q) => q.name === name);
    const now = this.now();
    const nextVisible = queue?.messages.reduce((next, m) => (m.visibleAt > now ? Math.min(next, m.visibleAt - now) : next), Number.POSITIVE_INFINITY) ?? Number.POSITIVE_INFINITY;
    return new Promise((resolve) => {
      const waiters = this.waiters.get(name) ?? new Set();
      this.waiters.set(name, waiters);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(timeoutMs, nextVisible + 1));
      waiters.add(done);
      signal?.addEventListener('abort', done);
    });
  }

  /** Resolves when every change so far is on disk (rejects if the write failed). */
  flush(): Promise<void> {
    return this.scheduledWrite ?? this.writer.settled();
  }

  async close(): Promise<void> {
    for (const waiters of this.waiters.values()) for (const wake of [...waiters]) wake();
    await this.writer.settled();
  }

  // ---- internals ----------------------------------------------------------------------------------

  /** Drops messages older than the queue's retention period. */
  private expire(queue: StoredQueue): void {
    const oldest = this.now() - Number(queue.attributes.MessageRetentionPeriod ?? ATTRIBUTES.MessageRetentionPeriod!.default) * 1000;
    const kept = queue.messages.filter((m) => m.sentTimestamp > oldest);
    if (kept.length === queue.messages.length) return;
    queue.messages = kept;
    this.changed();
  }

  private moveToDeadLetterQueue(source: StoredQueue, message: StoredMessage, target: StoredQueue): void {
    source.messages.splice(source.messages.indexOf(message), 1);
    const { receiptHandle: _handle, firstReceiveTimestamp: _first, sequenceNumber: _sequence, ...kept } = message;
    target.messages.push({
      ...kept,
      receiveCount: 0,
      visibleAt: this.now(),
      deadLetterQueueSourceArn: source.arn,
      ...(isFifo(target) ? { sequenceNumber: sequenceNumber(target) } : {}),
    });
    this.notify(target.name);
  }

  /** Writes the state after the current write, once however many changes come in meanwhile. */
  private changed(): void {
    if (this.scheduledWrite) return;
    const write = this.writer.settled().then(() => {
      this.scheduledWrite = undefined;
      return this.writer.write(this.state);
    });
    this.scheduledWrite = write;
    write.catch(() => undefined); // reported to whoever flushes
  }

  private notify(name: string): void {
    for (const wake of [...(this.waiters.get(name) ?? [])]) wake();
  }
}
