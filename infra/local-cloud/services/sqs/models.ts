import { createHash, randomUUID } from 'node:crypto';
import { readState, StateWriter } from '../../aws-protocol/state-file';

/**
 * SQS's state and rules: standard and FIFO queues; messages with delays, visibility timeouts, receive
 * counts and redrive to a dead-letter queue after `maxReceiveCount` receives; FIFO message groups (in order,
 * and no message of a group is handed out while another of it is in flight) and deduplication within five
 * minutes (by `MessageDeduplicationId` or the body's SHA-256). Everything lives in one JSON file under the
 * data directory, written atomically after every change, so a restart loses nothing (in-flight messages
 * stay in flight until their visibility timeout ends). Operations take queue names and throw `SqsError`;
 * the JSON protocol is in responses.ts.
 */

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  /** Base64, as the JSON protocol carries blobs. */
  BinaryValue?: string;
}

export interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  awsTraceHeader?: string;
  /** Epoch ms. */
  sentTimestamp: number;
  groupId?: string;
  deduplicationId?: string;
  sequenceNumber?: string;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Not handed out before this time (epoch ms): a delay, or the visibility timeout of the latest receive. */
  visibleAt: number;
  /** The handle of the latest receive. */
  receiptHandle?: string;
  deadLetterQueueSourceArn?: string;
}

interface DeduplicationRecord {
  key: string;
  messageId: string;
  sequenceNumber?: string;
  expiresAt: number;
}

export interface StoredQueue {
  name: string;
  arn: string;
  /** The settable attributes, as strings (as SQS keeps them). */
  attributes: Record<string, string>;
  /** Epoch seconds. */
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  nextSequence: number;
  /** In the order they were sent. */
  messages: StoredMessage[];
  deduplication: DeduplicationRecord[];
  lastPurge?: number;
}

interface SqsState {
  queues: StoredQueue[];
}

/** A message handed out by a receive: every system attribute, the caller picks. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  attributes: Record<string, string>;
}

export interface SendInput {
  body: string;
  delaySeconds?: number;
  messageAttributes?: Record<string, MessageAttributeValue>;
  awsTraceHeader?: string;
  groupId?: string;
  deduplicationId?: string;
}

export interface SendResult {
  messageId: string;
  md5OfMessageBody: string;
  md5OfMessageAttributes?: string;
  md5OfMessageSystemAttributes?: string;
  sequenceNumber?: string;
}

/** An SQS error: the JSON protocol's type, the query protocol's code (`x-amzn-query-error`), the status. */
export class SqsError extends Error {
  constructor(
    readonly type: string,
    readonly queryCode: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const queueDoesNotExist = () => new SqsError('QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
export const invalidParameterValue = (message: string) => new SqsError('InvalidParameterValue', 'InvalidParameterValue', message);
export const missingParameter = (name: string) => new SqsError('MissingParameter', 'MissingParameter', `The request must contain the parameter ${name}.`);
const receiptHandleIsInvalid = (handle: string) =>
  new SqsError('ReceiptHandleIsInvalid', 'ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
const invalidAttributeName = (name: string) => new SqsError('InvalidAttributeName', 'InvalidAttributeName', `Unknown Attribute ${name}.`);
const invalidAttributeValue = (name: string, reason?: string) =>
  new SqsError('InvalidAttributeValue', 'InvalidAttributeValue', `Invalid value for the parameter ${name}.${reason ? ` Reason: ${reason}` : ''}`);

/** How long a deduplication id is remembered. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;
export const MAX_VISIBILITY_TIMEOUT = 43_200;
const PURGE_INTERVAL_MS = 60_000;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;
/** `MessageGroupId` and `MessageDeduplicationId`: alphanumerics and punctuation, up to 128. */
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;
/** What a message body may hold (XML 1.0 characters). */
const INVALID_BODY_CHARACTER = /[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

interface AttributeRule {
  default?: string;
  /** Only on FIFO queues. */
  fifoOnly?: boolean;
  validate: (value: string) => string | undefined;
}

const integer = (min: number, max: number) => (value: string) =>
  /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max ? undefined : `must be an integer between ${min} and ${max}`;
const oneOf = (...values: string[]) => (value: string) => (values.includes(value) ? undefined : `must be one of ${values.join(', ')}`);
const any = () => undefined;

const ATTRIBUTES: Record<string, AttributeRule> = {
  DelaySeconds: { default: '0', validate: integer(0, 900) },
  MaximumMessageSize: { default: '262144', validate: integer(1024, 1_048_576) },
  MessageRetentionPeriod: { default: '345600', validate: integer(60, 1_209_600) },
  ReceiveMessageWaitTimeSeconds: { default: '0', validate: integer(0, 20) },
  VisibilityTimeout: { default: '30', validate: integer(0, MAX_VISIBILITY_TIMEOUT) },
  RedrivePolicy: { validate: (value) => (parseRedrivePolicy(value) ? undefined : 'must be JSON with deadLetterTargetArn and maxReceiveCount (1 to 1000)') },
  RedriveAllowPolicy: { validate: (value) => (isJsonObject(value) ? undefined : 'must be a JSON object') },
  Policy: { validate: (value) => (isJsonObject(value) ? undefined : 'must be a JSON object') },
  // Encryption settings are kept and shown; nothing is encrypted locally.
  KmsMasterKeyId: { validate: any },
  KmsDataKeyReusePeriodSeconds: { validate: integer(60, 86_400) },
  SqsManagedSseEnabled: { default: 'true', validate: oneOf('true', 'false') },
  FifoQueue: { validate: oneOf('true', 'false') },
  ContentBasedDeduplication: { fifoOnly: true, validate: oneOf('true', 'false') },
  DeduplicationScope: { fifoOnly: true, validate: oneOf('messageGroup', 'queue') },
  FifoThroughputLimit: { fifoOnly: true, validate: oneOf('perQueue', 'perMessageGroupId') },
};

/** Attributes SQS computes. */
const COMPUTED_ATTRIBUTES = [
  'QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp', 'LastModifiedTimestamp',
];

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export function parseRedrivePolicy(value: string): RedrivePolicy | undefined {
  try {
    const parsed = JSON.parse(value) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    const count = Number(parsed.maxReceiveCount);
    if (typeof parsed.deadLetterTargetArn !== 'string' || !Number.isInteger(count) || count < 1 || count > 1000) return undefined;
    return { deadLetterTargetArn: parsed.deadLetterTargetArn, maxReceiveCount: count };
  } catch {
    return undefined;
  }
}

function isJsonObject(value: string): boolean {
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/**
 * The MD5 of message attributes as SQS computes it (and SDKs check it): for each name in order, the
 * length-prefixed name, data type, a transport byte (1 string, 2 binary) and the length-prefixed value.
 */
export function md5OfMessageAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const parts: Buffer[] = [];
  const prefixed = (data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    parts.push(length, data);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name]!;
    prefixed(Buffer.from(name, 'utf8'));
    prefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      prefixed(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      prefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return md5(Buffer.concat(parts));
}

/** Receipt handles name the queue, the message and the receive, so a stale one is told apart. */
function receiptHandleOf(queue: StoredQueue, messageId: string): string {
  return Buffer.from(`${queue.name} ${messageId} ${randomUUID()}`).toString('base64');
}

function messageIdOf(queue: StoredQueue, handle: string): string | undefined {
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(handle) ? Buffer.from(handle, 'base64').toString('utf8').split(' ') : [];
  return decoded.length === 3 && decoded[0] === queue.name ? decoded[1] : undefined;
}

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
    const checked = this.checkAttributes(attributes, fifo, true);
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
    Object.assign(queue.attributes, this.checkAttributes(attributes, fifo, false));
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
    this.validateMessage(queue, input);
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

  private checkAttributes(attributes: Record<string, string>, fifo: boolean, creating: boolean): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, raw] of Object.entries(attributes)) {
      const rule = ATTRIBUTES[key];
      if (!rule || (key === 'FifoQueue' && !creating)) throw invalidAttributeName(key);
      const value = String(raw);
      if (rule.fifoOnly && !fifo) throw invalidAttributeName(key);
      const problem = rule.validate(value);
      if (problem) throw invalidAttributeValue(key, problem);
      if (key === 'RedrivePolicy') {
        const policy = parseRedrivePolicy(value)!;
        const target = this.findByArn(policy.deadLetterTargetArn);
        if (!target) throw invalidParameterValue(`Value ${value} for parameter RedrivePolicy is invalid. Reason: Dead-letter target does not exist.`);
        if (isFifo(target) !== fifo) throw invalidParameterValue(`Value ${value} for parameter RedrivePolicy is invalid. Reason: Dead-letter target must be of the same type as the source queue.`);
      }
      if (key === 'FifoQueue' && value === 'false') continue; // the default: not kept, as SQS shows none
      out[key] = value;
    }
    return out;
  }

  private validateMessage(queue: StoredQueue, input: SendInput): void {
    const fifo = isFifo(queue);
    if (input.body.length === 0) throw invalidParameterValue('The request must contain a non-empty message body.');
    if (INVALID_BODY_CHARACTER.test(input.body)) {
      throw new SqsError('InvalidMessageContents', 'InvalidMessageContents', 'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF');
    }
    const limit = Number(queue.attributes.MaximumMessageSize ?? ATTRIBUTES.MaximumMessageSize!.default);
    if (messageSize(input) > limit) throw invalidParameterValue(`One or more parameters are invalid. Reason: Message must be shorter than ${limit} bytes.`);
    if (input.delaySeconds !== undefined) {
      if (fifo) throw invalidParameterValue(`Value ${input.delaySeconds} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`);
      if (!Number.isInteger(input.delaySeconds) || input.delaySeconds < 0 || input.delaySeconds > 900) {
        throw invalidParameterValue(`Value ${input.delaySeconds} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`);
      }
    }
    if (input.groupId !== undefined && !FIFO_ID.test(input.groupId)) throw invalidParameterValue(`Value ${input.groupId} for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include alphanumeric and punctuation characters. 1 to 128 in length.`);
    if (fifo) {
      if (input.groupId === undefined) throw missingParameter('MessageGroupId');
      if (input.deduplicationId === undefined && queue.attributes.ContentBasedDeduplication !== 'true') {
        throw invalidParameterValue('The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      }
      if (input.deduplicationId !== undefined && !FIFO_ID.test(input.deduplicationId)) {
        throw invalidParameterValue(`Value ${input.deduplicationId} for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId can only include alphanumeric and punctuation characters. 1 to 128 in length.`);
      }
    } else if (input.deduplicationId !== undefined) {
      throw invalidParameterValue(`Value ${input.deduplicationId} for parameter MessageDeduplicationId is invalid. Reason: The request include parameter that is not valid for this queue type.`);
    }
    validateMessageAttributes(input.messageAttributes ?? {});
  }

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

export function isFifo(queue: StoredQueue): boolean {
  return queue.attributes.FifoQueue === 'true';
}

function sequenceNumber(queue: StoredQueue): string {
  // SQS sequence numbers are large, increasing numbers (here 20 digits).
  return (10_000_000_000_000_000_000n + BigInt(queue.nextSequence++)).toString();
}

function expiredReceiptHandle(handle: string): SqsError {
  return invalidParameterValue(`Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`);
}

function received(queue: StoredQueue, message: StoredMessage): ReceivedMessage {
  const attributes: Record<string, string> = {
    SenderId: queue.arn.split(':')[4]!,
    SentTimestamp: String(message.sentTimestamp),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
  };
  if (message.sequenceNumber) attributes.SequenceNumber = message.sequenceNumber;
  if (message.deduplicationId) attributes.MessageDeduplicationId = message.deduplicationId;
  if (message.groupId !== undefined) attributes.MessageGroupId = message.groupId;
  if (message.awsTraceHeader !== undefined) attributes.AWSTraceHeader = message.awsTraceHeader;
  if (message.deadLetterQueueSourceArn) attributes.DeadLetterQueueSourceArn = message.deadLetterQueueSourceArn;
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle!,
    body: message.body,
    md5OfBody: message.md5OfBody,
    ...(message.messageAttributes ? { messageAttributes: message.messageAttributes, md5OfMessageAttributes: message.md5OfMessageAttributes! } : {}),
    attributes,
  };
}

/** The size SQS counts: the body plus each attribute's name, type and value. */
function messageSize(input: SendInput): number {
  let size = Buffer.byteLength(input.body);
  for (const [name, value] of Object.entries(input.messageAttributes ?? {})) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    size += value.BinaryValue !== undefined ? Buffer.from(value.BinaryValue, 'base64').length : Buffer.byteLength(value.StringValue ?? '');
  }
  return size;
}

const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)[A-Za-z0-9_.-]{1,256}$/;

function validateMessageAttributes(attributes: Record<string, MessageAttributeValue>): void {
  const names = Object.keys(attributes);
  if (names.length > 10) throw invalidParameterValue(`Number of message attributes [${names.length}] exceeds the allowed maximum [10].`);
  for (const name of names) {
    const value = attributes[name]!;
    if (!ATTRIBUTE_NAME.test(name) || /^(aws|amazon)\./i.test(name)) throw invalidParameterValue(`Message (user) attribute '${name}' is invalid.`);
    const type = typeof value?.DataType === 'string' ? value.DataType : '';
    const base = type.split('.')[0];
    if (base !== 'String' && base !== 'Number' && base !== 'Binary') {
      throw invalidParameterValue(`The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`);
    }
    const present = base === 'Binary' ? value.BinaryValue : value.StringValue;
    if (present === undefined || present === '') {
      throw invalidParameterValue(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${base}'.`);
    }
    if (base === 'Number' && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.StringValue!)) {
      throw invalidParameterValue(`Can't cast the value of message (user) attribute '${name}' to a number.`);
    }
  }
}
