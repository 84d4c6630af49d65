/** The shapes SQS keeps and hands out: queues, their messages, and what sends and receives answer. */

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

export interface DeduplicationRecord {
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

export interface SqsState {
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
