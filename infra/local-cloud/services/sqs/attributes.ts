import { invalidAttributeName, invalidAttributeValue, invalidParameterValue } from './errors';
import type { StoredQueue } from './types';

/** Queue attributes: which may be set, their defaults and checks, and the redrive policy. */

export const MAX_VISIBILITY_TIMEOUT = 43_200;
export const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
export const FIFO_QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;

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

export const ATTRIBUTES: Record<string, AttributeRule> = {
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
export const COMPUTED_ATTRIBUTES = [
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

export function isFifo(queue: StoredQueue): boolean {
  return queue.attributes.FifoQueue === 'true';
}

/**
 * Checks attributes set on a queue (`creating` allows `FifoQueue`), a dead-letter target by `findByArn`;
 * answers the ones to keep.
 */
export function checkAttributes(
  attributes: Record<string, string>,
  fifo: boolean,
  creating: boolean,
  findByArn: (arn: string) => StoredQueue | undefined,
): Record<string, string> {
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
      const target = findByArn(policy.deadLetterTargetArn);
      if (!target) throw invalidParameterValue(`Value ${value} for parameter RedrivePolicy is invalid. Reason: Dead-letter target does not exist.`);
      if (isFifo(target) !== fifo) throw invalidParameterValue(`Value ${value} for parameter RedrivePolicy is invalid. Reason: Dead-letter target must be of the same type as the source queue.`);
    }
    if (key === 'FifoQueue' && value === 'false') continue; // the default: not kept, as SQS shows none
    out[key] = value;
  }
  return out;
}
