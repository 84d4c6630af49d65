import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';
import { writeFileAtomic } from '../../aws-protocol/state-file';
import { reportedFailures } from './batch-item-failures';
import type { InvocationResult } from './runtime';

/** An `AWS::Lambda::EventSourceMapping` on a Kinesis stream, with Lambda's defaults filled in. */
export interface KinesisMappingSettings {
  uuid: string;
  functionArn: string;
  streamName: string;
  streamArn: string;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  bisectBatchOnFunctionError: boolean;
  /** -1 = retry until the records expire. */
  maxRetryAttempts: number;
  /** -1 = no limit. */
  maxRecordAgeSeconds: number;
  reportBatchItemFailures: boolean;
  startingPosition: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
  startingPositionTimestamp?: Date;
  /** Bucket of an S3 on-failure destination. */
  onFailureBucket?: string;
  region: string;
}

export interface MappingDependencies {
  kinesis: KinesisClient;
  s3: S3Client;
  invoke: (event: KinesisStreamEvent) => Promise<InvocationResult>;
  stateDir: string;
  log: (message: string) => void;
  /** Poll interval on an empty shard, and base of the retry backoff (ms). */
  pollIntervalMs?: number;
  retryBaseDelayMs?: number;
}

/** Lambda's synchronous invocation payload limit. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Rough JSON size of one record's envelope in the event. */
const RECORD_OVERHEAD_BYTES = 400;

type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

export type BatchOutcome =
  | { kind: 'success' }
  | { kind: 'partial'; retryFrom: number }
  | { kind: 'error'; errorType: string; errorMessage: string };

/**
 * How Lambda reads an invocation's result for a stream batch. With `ReportBatchItemFailures`, the
 * lowest reported sequence number is the checkpoint and the batch is retried from it; a failure
 * entry that names no record of the batch makes the whole batch a failure.
 */
export function interpretResult(result: InvocationResult, records: readonly KinesisRecord[], reportBatchItemFailures: boolean): BatchOutcome {
  const reported = reportedFailures(result, reportBatchItemFailures);
  if (reported.kind !== 'reported') return reported;
  let lowest = Number.POSITIVE_INFINITY;
  for (const id of reported.ids) {
    const index = typeof id === 'string' && id !== '' ? records.findIndex((r) => r.SequenceNumber === id) : -1;
    if (index < 0) return { kind: 'error', errorType: 'InvalidResponse', errorMessage: `batchItemFailures names an unknown record: ${JSON.stringify(id)}` };
    lowest = Math.min(lowest, index);
  }
  return { kind: 'partial', retryFrom: lowest };
}

/** Cuts the next batch: at most `batchSize` records and no more than the 6 MB payload limit. */
export function takeBatch(pending: KinesisRecord[], batchSize: number): KinesisRecord[] {
  let bytes = 0;
  let count = 0;
  while (count < pending.length && count < batchSize) {
    const size = Math.ceil(((pending[count]!.Data?.length ?? 0) * 4) / 3) + RECORD_OVERHEAD_BYTES;
    if (count > 0 && bytes + size > MAX_PAYLOAD_BYTES) break;
    bytes += size;
    count++;
  }
  return pending.splice(0, count);
}

/** Polls every shard of a stream and invokes the function as the event source mapping says. */
export class KinesisEventSourceMapping {
  private readonly pollers: ShardPoller[] = [];

  constructor(
    readonly settings: KinesisMappingSettings,
    private readonly deps: MappingDependencies,
  ) {}

  async start(): Promise<void> {
    const shardIds: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.deps.kinesis.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: this.settings.streamName }));
      shardIds.push(...(page.Shards ?? []).map((s) => s.ShardId!));
      nextToken = page.NextToken;
    } while (nextToken);
    for (const shardId of shardIds) {
      const poller = new ShardPoller(this.settings, this.deps, shardId);
      this.pollers.push(poller);
      poller.start();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.stop()));
  }
}

interface WorkItem {
  records: KinesisRecord[];
  attempts: number;
}

class ShardPoller {
  private stopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private iterator: string | undefined;
  /** Last sequence number handed to a batch (read position), and last one finished (checkpoint). */
  private lastRead: string | undefined;
  private checkpointSeq: string | undefined;
  private readonly checkpointFile: string;

  constructor(
    private readonly settings: KinesisMappingSettings,
    private readonly deps: MappingDependencies,
    private readonly shardId: string,
  ) {
    this.checkpointFile = path.join(deps.stateDir, settings.uuid, `${shardId}.checkpoint`);
  }

  start(): void {
    this.running = this.run().catch((error: Error) => this.deps.log(`mapping ${this.settings.uuid} ${this.shardId} stopped: ${error.message}`));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    this.checkpointSeq = await readFile(this.checkpointFile, 'utf8').then((s) => s.trim() || undefined, () => undefined);
    this.lastRead = this.checkpointSeq;
    const pending: KinesisRecord[] = [];
    const windowMs = this.settings.maxBatchingWindowSeconds * 1000;
    while (!this.stopped) {
      let firstAt: number | undefined;
      while (!this.stopped && pending.length < this.settings.batchSize) {
        const records = await this.read(this.settings.batchSize - pending.length);
        if (records === undefined) return; // shard closed and drained
        if (records.length > 0) {
          pending.push(...records);
          firstAt ??= Date.now();
        }
        if (firstAt !== undefined && Date.now() - firstAt >= windowMs) break;
        if (records.length === 0) {
          const wait = firstAt === undefined ? this.pollInterval : Math.min(this.pollInterval, windowMs - (Date.now() - firstAt));
          await this.sleep(Math.max(wait, 1));
        }
      }
      // The batch is full or its window has passed: invoke (in more than one batch if the payload limit cuts it).
      while (!this.stopped && pending.length > 0) {
        await this.process(takeBatch(pending, this.settings.batchSize));
      }
    }
  }

  private get pollInterval(): number {
    return this.deps.pollIntervalMs ?? 200;
  }

  /** Reads up to `limit` records; undefined once the shard is closed. Re-opens expired iterators. */
  private async read(limit: number): Promise<KinesisRecord[] | undefined> {
    try {
      this.iterator ??= await this.openIterator();
      const page = await this.deps.kinesis.send(new GetRecordsCommand({ ShardIterator: this.iterator, Limit: Math.min(limit, 10_000) }));
      const records = page.Records ?? [];
      if (records.length > 0) this.lastRead = records[records.length - 1]!.SequenceNumber;
      if (!page.NextShardIterator) return records.length > 0 ? records : undefined;
      this.iterator = page.NextShardIterator;
      return records;
    } catch (error) {
      if (this.stopped) return [];
      this.deps.log(`mapping ${this.settings.uuid} ${this.shardId}: GetRecords failed (${(error as Error).name}), re-opening the iterator`);
      this.iterator = undefined;
      await this.sleep(this.pollInterval);
      return [];
    }
  }

  private async openIterator(): Promise<string> {
    const { settings } = this;
    const input = this.lastRead
      ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: this.lastRead }
      : { ShardIteratorType: settings.startingPosition, Timestamp: settings.startingPositionTimestamp };
    const out = await this.deps.kinesis.send(new GetShardIteratorCommand({ StreamName: settings.streamName, ShardId: this.shardId, ...input }));
    return out.ShardIterator!;
  }

  /**
   * Runs one batch to completion: success, or retries (bisecting on function errors when asked),
   * then the on-failure destination. The checkpoint moves only past records that are done.
   */
  private async process(batch: KinesisRecord[]): Promise<void> {
    const work: WorkItem[] = [{ records: batch, attempts: 0 }];
    while (work.length > 0 && !this.stopped) {
      const item = work[0]!;
      if (this.settings.maxRecordAgeSeconds >= 0) {
        const oldest = Date.now() - this.settings.maxRecordAgeSeconds * 1000;
        const expired = item.records.filter((r) => (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) < oldest);
        if (expired.length > 0) {
          await this.sendToDestination(expired, 'RecordAgeExceeded', item.attempts, undefined);
          item.records = item.records.filter((r) => !expired.includes(r));
          if (item.records.length === 0) {
            await this.checkpoint(expired[expired.length - 1]!);
            work.shift();
            continue;
          }
        }
      }
      const result = await this.deps.invoke(this.eventFor(item.records));
      const outcome = interpretResult(result, item.records, this.settings.reportBatchItemFailures);
      if (outcome.kind === 'success') {
        await this.checkpoint(item.records[item.records.length - 1]!);
        work.shift();
        continue;
      }
      if (outcome.kind === 'partial') {
        if (outcome.retryFrom > 0) await this.checkpoint(item.records[outcome.retryFrom - 1]!);
        item.records = item.records.slice(outcome.retryFrom);
      } else {
        this.deps.log(`mapping ${this.settings.uuid} ${this.shardId}: function error ${outcome.errorType}: ${outcome.errorMessage}`);
        if (this.settings.bisectBatchOnFunctionError && item.records.length > 1) {
          // Bisected halves start with a fresh retry count: bisecting isolates a poison record
          // into a batch of one, which then gets the configured retries before the destination.
          const half = Math.ceil(item.records.length / 2);
          work.splice(0, 1, { records: item.records.slice(0, half), attempts: 0 }, { records: item.records.slice(half), attempts: 0 });
          continue;
        }
      }
      item.attempts++;
      if (this.settings.maxRetryAttempts >= 0 && item.attempts > this.settings.maxRetryAttempts) {
        await this.sendToDestination(item.records, 'RetryAttemptsExhausted', item.attempts, outcome.kind === 'error' ? 'Unhandled' : undefined);
        await this.checkpoint(item.records[item.records.length - 1]!);
        work.shift();
        continue;
      }
      const base = this.deps.retryBaseDelayMs ?? 100;
      await this.sleep(Math.min(base * 2 ** (item.attempts - 1), 5_000));
    }
  }

  private eventFor(records: KinesisRecord[]): KinesisStreamEvent {
    return {
      Records: records.map((r) => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: r.PartitionKey!,
          sequenceNumber: r.SequenceNumber!,
          data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
          approximateArrivalTimestamp: (r.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${this.shardId}:${r.SequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: `arn:aws:iam::000000000000:role/local-lambda`,
        awsRegion: this.settings.region,
        eventSourceARN: this.settings.streamArn,
      })),
    };
  }

  /**
   * Writes the invocation record Lambda writes to an S3 on-failure destination, under
   * `aws/lambda/<mapping uuid>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`, with the payload.
   */
  private async sendToDestination(records: KinesisRecord[], condition: FailureCondition, attempts: number, functionError: string | undefined): Promise<void> {
    const { settings } = this;
    const first = records[0]!;
    const last = records[records.length - 1]!;
    this.deps.log(`mapping ${settings.uuid} ${this.shardId}: ${records.length} record(s) discarded (${condition})`);
    if (!settings.onFailureBucket) return;
    const now = new Date();
    const iso = now.toISOString();
    const key = `aws/lambda/${settings.uuid}/${this.shardId}/${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 19).replace(/:/g, '.')}-${randomUUID()}`;
    const body = JSON.stringify({
      requestContext: { requestId: randomUUID(), functionArn: settings.functionArn, condition, approximateInvokeCount: attempts },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', ...(functionError ? { functionError } : {}) },
      version: '1.0',
      timestamp: iso,
      KinesisBatchInfo: {
        shardId: this.shardId,
        startSequenceNumber: first.SequenceNumber,
        endSequenceNumber: last.SequenceNumber,
        approximateArrivalOfFirstRecord: first.ApproximateArrivalTimestamp?.toISOString(),
        approximateArrivalOfLastRecord: last.ApproximateArrivalTimestamp?.toISOString(),
        batchSize: records.length,
        streamArn: settings.streamArn,
      },
      payload: JSON.stringify(this.eventFor(records)),
    });
    // The destination write must not lose the records: keep trying until it lands or we stop.
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.deps.s3.send(new PutObjectCommand({ Bucket: settings.onFailureBucket, Key: key, Body: body, ContentType: 'application/json' }));
        return;
      } catch (error) {
        this.deps.log(`mapping ${settings.uuid}: on-failure destination write failed (${(error as Error).message}), retrying`);
        await this.sleep(Math.min(200 * 2 ** attempt, 5_000));
      }
    }
  }

  private async checkpoint(record: KinesisRecord): Promise<void> {
    this.checkpointSeq = record.SequenceNumber;
    await mkdir(path.dirname(this.checkpointFile), { recursive: true });
    // Atomically: a crash mid-write must not leave an empty checkpoint (the mapping would restart from its StartingPosition).
    await writeFileAtomic(this.checkpointFile, record.SequenceNumber ?? '');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
