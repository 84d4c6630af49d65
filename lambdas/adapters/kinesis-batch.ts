import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { compareSequenceNumbers, type StreamRecord } from '../domain/event-stream';

/**
 * Lambda's Kinesis event source, for both stream consumers: records in, `batchItemFailures` out.
 * The mappings report batch item failures on a checkpointed stream, so Lambda retries a shard from
 * the one sequence number answered and everything after it.
 */

/** A stream consumer's handler, callable with an event and a context (tests need no callback). */
export type StreamBatchHandler = (event: KinesisStreamEvent, context: Context) => Promise<KinesisStreamBatchResponse>;

/** The records of a Kinesis event, decoded: data from base64, arrival in epoch ms, shard from the event id. */
export function streamRecords(event: KinesisStreamEvent): StreamRecord[] {
  return event.Records.map((r) => ({
    // eventID is `<shardId>:<sequenceNumber>`.
    shardId: r.eventID.slice(0, r.eventID.indexOf(':')),
    sequenceNumber: r.kinesis.sequenceNumber,
    partitionKey: r.kinesis.partitionKey,
    data: Buffer.from(r.kinesis.data, 'base64'),
    arrivalMs: Math.round(r.kinesis.approximateArrivalTimestamp * 1000),
  }));
}

/** The lowest of some sequence numbers, or undefined for none. */
export function lowestSequenceNumber(sequenceNumbers: Iterable<string>): string | undefined {
  let lowest: string | undefined;
  for (const s of sequenceNumbers) if (lowest === undefined || compareSequenceNumbers(s, lowest) < 0) lowest = s;
  return lowest;
}

/**
 * The answer for a batch whose records from `failedFrom` on could not be processed: the lowest of
 * them, as Lambda requires for a checkpointed stream (it retries from there; reporting a higher one
 * would checkpoint past a failure). No failure: an empty list, and the batch is done.
 */
export function batchResponse(failedFrom: Iterable<string>): KinesisStreamBatchResponse {
  const lowest = lowestSequenceNumber(failedFrom);
  return { batchItemFailures: lowest === undefined ? [] : [{ itemIdentifier: lowest }] };
}
