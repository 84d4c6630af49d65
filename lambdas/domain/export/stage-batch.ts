import { decodeEvent } from '../device-events';
import { compareSequenceNumbers, type StreamRecord } from '../event-stream';
import { csvRow, eventTime } from './csv';
import { errorKey, oemErrorKey, stagingKey } from './layout';
import { partitionOf } from './partitions';
import type { ExportStore } from './ports';
import { encodeStaged, stagedLine, type StagedHeader } from './staging';
import { windowOf } from './windows';

/**
 * Stage 1 of the export: a Kinesis batch becomes ONE staged object under the window of its write time
 * (plus error files for rejected records). It reads nothing and decides nothing about other batches:
 * de-duplication and ordering are stage 2's, so concurrent batches of a shard, redeliveries and
 * bisected halves need no coordination.
 */

export interface StageOptions {
  /** Window length, ms (whole minutes). */
  windowMs: number;
  /** Compaction partitions (P). */
  partitions: number;
}

export interface InvalidRecord {
  record: StreamRecord;
  reason: string;
  /** The OEM the record names, when it names a valid one. */
  oemId?: string;
}

export interface StagedObject {
  key: string;
  body: string;
  header: StagedHeader;
  rows: number;
}

export interface StagedFile {
  key: string;
  body: string;
}

export interface StagedBatch {
  /** One per shard in the batch (Lambda delivers one shard per batch). */
  staged: StagedObject[];
  /** `_errors/…` and `<oem_id>/_errors/…` files. */
  errorFiles: StagedFile[];
  invalid: InvalidRecord[];
}

export const STAGED_CONTENT_TYPE = 'text/plain; charset=utf-8';
export const ERRORS_CONTENT_TYPE = 'application/x-ndjson';

interface ShardRows {
  first: string;
  last: string;
  lines: Map<number, string[]>;
  rows: number;
}

/** What a record becomes: a staged line (with its partition), or a reason. Never throws. */
function encodeRecord(
  record: StreamRecord,
  nowMs: number,
  options: StageOptions,
  partitionOfOem: (oemId: string) => number,
): { line: string; partition: number } | InvalidRecord {
  const decoded = decodeEvent(record.data);
  if (!decoded.ok) return { record, reason: decoded.reason, ...(decoded.oemId === undefined ? {} : { oemId: decoded.oemId }) };
  const { event, type } = decoded;
  const oemId = event.metadata.oem_id;
  let row: string;
  try {
    row = csvRow(event, type);
  } catch (error) {
    // Validation bounds depth and numbers; this guard keeps any other encoding failure inside the record.
    return { record, reason: `could not be encoded as a CSV row: ${String((error as Error)?.message ?? error).slice(0, 200)}`, oemId };
  }
  const timeMs = Date.parse(eventTime(event, type)) || record.arrivalMs;
  // A record is never staged in a window before its arrival window (clocks may differ by a little).
  const arrivalWindow = Math.floor(Math.min(record.arrivalMs, nowMs) / options.windowMs) * options.windowMs;
  return { line: stagedLine({ oemId, type, timeMs, arrivalWindow, row }), partition: partitionOfOem(oemId) };
}

/** The batch's staged objects and error files, with `nowMs` the write time. Pure. */
export function stageBatch(records: readonly StreamRecord[], nowMs: number, options: StageOptions): StagedBatch {
  const windowStart = windowOf(nowMs, options.windowMs).start;
  const partitions = new Map<string, number>();
  const partitionOfOem = (oemId: string) => {
    let p = partitions.get(oemId);
    if (p === undefined) partitions.set(oemId, (p = partitionOf(oemId, options.partitions)));
    return p;
  };
  const shards = new Map<string, ShardRows>();
  const invalid: InvalidRecord[] = [];
  for (const record of records) {
    let shard = shards.get(record.shardId);
    if (!shard) shards.set(record.shardId, (shard = { first: record.sequenceNumber, last: record.sequenceNumber, lines: new Map(), rows: 0 }));
    if (compareSequenceNumbers(record.sequenceNumber, shard.first) < 0) shard.first = record.sequenceNumber;
    if (compareSequenceNumbers(record.sequenceNumber, shard.last) > 0) shard.last = record.sequenceNumber;
    const encoded = encodeRecord(record, nowMs, options, partitionOfOem);
    if ('reason' in encoded) {
      invalid.push(encoded);
      continue;
    }
    let lines = shard.lines.get(encoded.partition);
    if (!lines) shard.lines.set(encoded.partition, (lines = []));
    lines.push(encoded.line);
    shard.rows++;
  }
  const staged: StagedObject[] = [];
  for (const [shardId, shard] of shards) {
    if (shard.rows === 0) continue;
    const { body, header } = encodeStaged(shard.lines);
    staged.push({ key: stagingKey(windowStart, shardId, shard.first, shard.last), body, header, rows: shard.rows });
  }
  return { staged, errorFiles: errorFiles(invalid), invalid };
}

const errorLine = ({ record, reason }: InvalidRecord) =>
  JSON.stringify({
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    partitionKey: record.partitionKey,
    approximateArrivalTimestamp: new Date(record.arrivalMs).toISOString(),
    reason,
    data: record.data.toString('base64'),
  });

/**
 * Rejected records, one JSON line each with the reason and the raw data (base64): per shard under
 * `_errors/YYYY/MM/DD/<shard>-<first>-<last>.jsonl`, and those naming a valid OEM again under that
 * OEM's `<oem_id>/_errors/…` (never another's). Keys come from the records (day of the first one's
 * arrival, first and last sequence number), so a redelivery rewrites a file rather than adding one.
 */
function errorFiles(invalid: readonly InvalidRecord[]): StagedFile[] {
  const groups = new Map<string, { oemId?: string; items: InvalidRecord[] }>();
  for (const item of invalid) {
    const keys = [`\0${item.record.shardId}`, ...(item.oemId === undefined ? [] : [`${item.oemId}\0${item.record.shardId}`])];
    for (const key of keys) {
      let group = groups.get(key);
      if (!group) groups.set(key, (group = key.startsWith('\0') ? { items: [] } : { oemId: item.oemId!, items: [] }));
      group.items.push(item);
    }
  }
  return [...groups.values()].map(({ oemId, items }) => {
    const first = items[0]!.record;
    const last = items[items.length - 1]!.record;
    const key = oemId === undefined
      ? errorKey(first.arrivalMs, first.shardId, first.sequenceNumber, last.sequenceNumber)
      : oemErrorKey(oemId, first.arrivalMs, first.shardId, first.sequenceNumber, last.sequenceNumber);
    return { key, body: `${items.map(errorLine).join('\n')}\n` };
  });
}

export interface StageOutcome {
  records: number;
  /** Rows staged. */
  staged: number;
  invalid: number;
  objects: string[];
  errorFiles: number;
  /** A write failed: nothing of the batch counts as done, Lambda retries it from its lowest sequence number. */
  failure?: { from: string; error: Error };
}

/**
 * Stages a batch: one PUT per shard (plus the error files), all at once, no reads. Any failed write
 * fails the whole batch from its lowest sequence number: a retry rewrites the same objects, and stage 2
 * drops the rows it already has.
 */
export async function writeStagedBatch(records: readonly StreamRecord[], store: ExportStore, nowMs: number, options: StageOptions): Promise<StageOutcome> {
  const batch = stageBatch(records, nowMs, options);
  const outcome: StageOutcome = {
    records: records.length,
    staged: batch.staged.reduce((n, s) => n + s.rows, 0),
    invalid: batch.invalid.length,
    objects: batch.staged.map((s) => s.key),
    errorFiles: batch.errorFiles.length,
  };
  const writes = [
    ...batch.staged.map((s) => store.put(s.key, s.body, STAGED_CONTENT_TYPE)),
    ...batch.errorFiles.map((f) => store.put(f.key, f.body, ERRORS_CONTENT_TYPE)),
  ];
  const failed = (await Promise.allSettled(writes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    let from = records[0]!.sequenceNumber;
    for (const r of records) if (compareSequenceNumbers(r.sequenceNumber, from) < 0) from = r.sequenceNumber;
    outcome.failure = { from, error: failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason)) };
  }
  return outcome;
}
