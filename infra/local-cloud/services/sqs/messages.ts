import { createHash, randomUUID } from 'node:crypto';
import { ATTRIBUTES, isFifo } from './attributes';
import { invalidParameterValue, missingParameter, SqsError } from './errors';
import type { MessageAttributeValue, ReceivedMessage, SendInput, StoredMessage, StoredQueue } from './types';

/** Messages: their checks, MD5s, receipt handles, sequence numbers, and how a receive shows them. */

/** How long a deduplication id is remembered. */
export const DEDUPLICATION_WINDOW_MS = 5 * 60 * 1000;
/** `MessageGroupId` and `MessageDeduplicationId`: alphanumerics and punctuation, up to 128. */
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;
/** What a message body may hold (XML 1.0 characters). */
const INVALID_BODY_CHARACTER = /[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;

export const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

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
export function receiptHandleOf(queue: StoredQueue, messageId: string): string {
  return Buffer.from(`${queue.name} ${messageId} ${randomUUID()}`).toString('base64');
}

export function messageIdOf(queue: StoredQueue, handle: string): string | undefined {
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(handle) ? Buffer.from(handle, 'base64').toString('utf8').split(' ') : [];
  return decoded.length === 3 && decoded[0] === queue.name ? decoded[1] : undefined;
}

/** Checks a message before it is sent to `queue`. */
export function validateMessage(queue: StoredQueue, input: SendInput): void {
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

export function sequenceNumber(queue: StoredQueue): string {
  // SQS sequence numbers are large, increasing numbers (here 20 digits).
  return (10_000_000_000_000_000_000n + BigInt(queue.nextSequence++)).toString();
}

export function expiredReceiptHandle(handle: string): SqsError {
  return invalidParameterValue(`Value ${handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.`);
}

export function received(queue: StoredQueue, message: StoredMessage): ReceivedMessage {
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
