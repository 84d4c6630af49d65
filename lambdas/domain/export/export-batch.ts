import { decodeEvent, type EventType } from '../device-events';
import { compareSequenceNumbers, type StreamRecord } from '../event-stream';
import { csvFile, csvRow, eventTime } from './csv';

/** The storage the exporter writes to (S3 in production, a fake in unit tests). */
export interface ExportStore {
  /** Creates `key` only when no object has it (S3 `If-None-Match: *`). */
  createIfAbsent(key: string, body: string, contentType: string): Promise<'created' | 'exists'>;
  put(key: string, body: string, contentType: string): Promise<void>;
  getText(key: string): Promise<string | undefined>;
  exists(key: string): Promise<boolean>;
}

export interface ExportOutcome {
  records: number;
  invalid: number;
  /** Rows written to export files. */
  exported: number;
  /** Identical events dropped from a file. */
  duplicates: number;
  /** Records already in an export file from an earlier delivery. */
  alreadyExported: number;
  files: string[];
  errorFile?: string;
  /** What could not be written, each from its first record's sequence number: the batch is retried from the lowest. */
  failures: Array<{ group: string; from: string; error: Error }>;
}

export interface ExportOptions {
  /** Seconds to move forward when a folder is taken before giving up (default 60). */
  maxFolderAttempts?: number;
  /** Groups written at once (default 8). */
  concurrency?: number;
  now?: () => Date;
}

const CSV = 'text/csv; charset=utf-8';
const JSON_TYPE = 'application/json';

/** Bucket prefixes of the exporter's own objects; OEM ids cannot start with `_`. */
export const ERROR_PREFIX = '_errors/';
export const LEDGER_PREFIX = '_exporter/ledger/';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYY-MM-DD-HH:MM:SS` in UTC, the folder name format of the export. */
export function folderTimestamp(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}-${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/**
 * `<oem_id>/<event_type>/<YYYY-MM-DD-HH:MM:SS>/<oem_id>_<event_type>_<YYYYMMDDTHHMMSSZ>.csv`. The file
 * name is fixed by the folder, so a conditional create of it claims the whole folder.
 */
export function exportKey(oemId: string, type: EventType, date: Date): string {
  const compact = date.toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
  return `${oemId}/${type}/${folderTimestamp(date)}/${oemId}_${type}_${compact}.csv`;
}

export function ledgerKey(shardId: string, oemId: string, type: EventType): string {
  return `${LEDGER_PREFIX}${shardId}/${oemId}/${type}.json`;
}

/**
 * Where a group stands: every record of this shard, OEM and type up to `through` is in an export
 * file. `pending` names the file being written, so a crash between writing it and recording it is
 * repaired on the next delivery instead of producing a second file.
 */
interface Ledger {
  through?: string;
  pending?: { key: string; through: string };
}

const seqGreater = (a: string, b: string) => compareSequenceNumbers(a, b) > 0;
const maxSeq = (a: string | undefined, b: string) => (a === undefined || seqGreater(b, a) ? b : a);

/**
 * A group's valid records reduced to what the file needs, as parallel lists: events are encoded as
 * soon as they are decoded, so a batch keeps flat strings rather than 10,000 parsed object graphs.
 */
interface Group {
  shardId: string;
  oemId: string;
  type: EventType;
  sequenceNumbers: string[];
  rows: string[];
  /** Event times as the events give them (for ordering), and arrival times for events without one. */
  times: string[];
  arrivals: number[];
}

/**
 * Exports one batch: valid events become one CSV per (OEM, type), rows sorted by event time and
 * duplicates dropped; invalid records go, with their reason, to an error file. Idempotent per
 * record: a redelivered, split or retried batch adds no second file for records already exported.
 */
export async function exportBatch(records: readonly StreamRecord[], store: ExportStore, options: ExportOptions = {}): Promise<ExportOutcome> {
  const now = options.now ?? (() => new Date());
  const outcome: ExportOutcome = { records: records.length, invalid: 0, exported: 0, duplicates: 0, alreadyExported: 0, files: [], failures: [] };
  const invalid: Array<{ record: StreamRecord; reason: string }> = [];
  // shard → OEM → type → group, without building a key string per record.
  const groups = new Map<string, Map<string, Map<EventType, Group>>>();
  const all: Group[] = [];
  for (const record of records) {
    const decoded = decodeEvent(record.data);
    if (!decoded.ok) {
      invalid.push({ record, reason: decoded.reason });
      continue;
    }
    const { event, type } = decoded;
    const oemId = event.metadata.oem_id;
    let byOem = groups.get(record.shardId);
    if (!byOem) groups.set(record.shardId, (byOem = new Map()));
    let byType = byOem.get(oemId);
    if (!byType) byOem.set(oemId, (byType = new Map()));
    let group = byType.get(type);
    if (!group) {
      byType.set(type, (group = { shardId: record.shardId, oemId, type, sequenceNumbers: [], rows: [], times: [], arrivals: [] }));
      all.push(group);
    }
    group.sequenceNumbers.push(record.sequenceNumber);
    group.rows.push(csvRow(event, type));
    group.times.push(eventTime(event, type));
    group.arrivals.push(record.arrivalMs);
  }
  outcome.invalid = invalid.length;

  if (invalid.length > 0) {
    try {
      outcome.errorFile = await writeErrorFile(invalid, store);
    } catch (error) {
      outcome.failures.push({ group: ERROR_PREFIX, from: invalid[0]!.record.sequenceNumber, error: error as Error });
    }
  }

  const pending = all;
  const worker = async (): Promise<void> => {
    for (let group = pending.shift(); group; group = pending.shift()) {
      try {
        const result = await exportGroup(group, store, now, options.maxFolderAttempts ?? 60);
        outcome.exported += result.exported;
        outcome.duplicates += result.duplicates;
        outcome.alreadyExported += result.alreadyExported;
        if (result.file) outcome.files.push(result.file);
      } catch (error) {
        outcome.failures.push({ group: `${group.oemId}/${group.type}`, from: group.sequenceNumbers[0]!, error: error as Error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, pending.length) }, worker));
  return outcome;
}

async function exportGroup(group: Group, store: ExportStore, now: () => Date, maxAttempts: number): Promise<{ file?: string; exported: number; duplicates: number; alreadyExported: number }> {
  const key = ledgerKey(group.shardId, group.oemId, group.type);
  const stored = await store.getText(key);
  let ledger: Ledger = stored ? (JSON.parse(stored) as Ledger) : {};
  let ledgerChanged = false;
  if (ledger.pending) {
    const written = await store.exists(ledger.pending.key);
    ledger = { through: written ? maxSeq(ledger.through, ledger.pending.through) : ledger.through };
    ledgerChanged = true;
  }
  const through = ledger.through;
  // Records up to `through` are in a file already; the rest (a suffix, in stream order) are fresh.
  let first = 0;
  if (through !== undefined) while (first < group.sequenceNumbers.length && !seqGreater(group.sequenceNumbers[first]!, through)) first++;
  const fresh = group.sequenceNumbers.length - first;
  const alreadyExported = first;
  if (fresh === 0) {
    if (ledgerChanged) await store.put(key, JSON.stringify(ledger), JSON_TYPE);
    return { exported: 0, duplicates: 0, alreadyExported };
  }

  const rows: string[] = [];
  const seen = new Set<string>();
  const add = (row: string) => {
    if (seen.has(row)) return;
    seen.add(row);
    rows.push(row);
  };
  const order = outOfOrder(group, first) ? byEventTime(group, first) : undefined;
  if (order) for (const i of order) add(group.rows[i]!);
  else for (let i = first; i < group.rows.length; i++) add(group.rows[i]!);
  const newThrough = group.sequenceNumbers[group.sequenceNumbers.length - 1]!;
  const body = csvFile(group.type, rows);

  let at = Math.floor(now().getTime() / 1000) * 1000;
  for (let attempt = 0; attempt < maxAttempts; attempt++, at += 1000) {
    const file = exportKey(group.oemId, group.type, new Date(at));
    await store.put(key, JSON.stringify({ through: ledger.through, pending: { key: file, through: newThrough } } satisfies Ledger), JSON_TYPE);
    if ((await store.createIfAbsent(file, body, CSV)) === 'created') {
      await store.put(key, JSON.stringify({ through: newThrough } satisfies Ledger), JSON_TYPE);
      return { file, exported: rows.length, duplicates: fresh - rows.length, alreadyExported };
    }
  }
  throw new Error(`no free export folder for ${group.oemId}/${group.type} within ${maxAttempts} s`);
}

/** `YYYY-MM-DDTHH:MM:SSZ`: such timestamps order correctly as strings. */
const isCanonicalUtc = (t: string) => t.length === 20 && t.charCodeAt(19) === 90 /* Z */;

const timeOf = (group: Group, i: number) => Date.parse(group.times[i]!) || group.arrivals[i]!;

/**
 * Whether the group's rows from `first` on are out of event time order. Most groups arrive in
 * order; timestamps in the canonical form are compared as strings, others parsed.
 */
function outOfOrder(group: Group, first: number): boolean {
  const { times } = group;
  for (let i = first + 1; i < times.length; i++) {
    const a = times[i - 1]!;
    const b = times[i]!;
    if (isCanonicalUtc(a) && isCanonicalUtc(b) ? a > b : timeOf(group, i - 1) > timeOf(group, i)) return true;
  }
  return false;
}

/** Indexes of the group's rows from `first` on, sorted by event time (stable: ties keep stream order). */
function byEventTime(group: Group, first: number): number[] {
  const keyed: Array<{ i: number; t: number }> = [];
  for (let i = first; i < group.times.length; i++) keyed.push({ i, t: timeOf(group, i) });
  return keyed.sort((x, y) => x.t - y.t).map((x) => x.i);
}

/**
 * Invalid records, one JSON line each with the reason and the raw data (base64), under
 * `_errors/YYYY/MM/DD/<shard>-<first seq>-<last seq>.jsonl`: the same records make the same key,
 * so a redelivery rewrites the file rather than adding one.
 */
async function writeErrorFile(invalid: Array<{ record: StreamRecord; reason: string }>, store: ExportStore): Promise<string> {
  const first = invalid[0]!.record;
  const last = invalid[invalid.length - 1]!.record;
  const day = new Date(first.arrivalMs).toISOString().slice(0, 10).replace(/-/g, '/');
  const key = `${ERROR_PREFIX}${day}/${first.shardId}-${first.sequenceNumber}-${last.sequenceNumber}.jsonl`;
  const lines = invalid.map(({ record, reason }) =>
    JSON.stringify({
      shardId: record.shardId,
      sequenceNumber: record.sequenceNumber,
      partitionKey: record.partitionKey,
      approximateArrivalTimestamp: new Date(record.arrivalMs).toISOString(),
      reason,
      data: record.data.toString('base64'),
    }),
  );
  await store.put(key, `${lines.join('\n')}\n`, 'application/x-ndjson');
  return key;
}
