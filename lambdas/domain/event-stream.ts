/**
 * The device event stream as its consumers see it, whatever delivers it (Kinesis through Lambda in
 * the cloud and in the local cloud, arrays in tests and benchmarks).
 */

/** One record of the stream: a device event's bytes and where it stands in its shard. */
export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  data: Buffer;
  /** Approximate arrival time, epoch ms. */
  arrivalMs: number;
}

/**
 * Orders sequence numbers of one shard: decimal strings of up to 128 digits, too long for a number,
 * so the shorter is the smaller and equal lengths compare as text.
 */
export function compareSequenceNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
