import type { EventType } from '../device-events';
import { mapLimit, READS_IN_FLIGHT } from './concurrency';
import { csvFile, CRLF, headerRow } from './csv';
import { doneKey, donePrefix, exportKey, hashesKey, manifestKey } from './layout';
import { manifestPartitions, parseManifest, type Manifest } from './manifest';
import type { CompactionMessage, ExportStore } from './ports';
import { decodeHashes, encodeHashes, hasHash, rowHash, sortedHashes, type RowHashes } from './row-hash';
import { decodeSlice, type StagedRow } from './staging';
import { parseWindowKey, windowKey } from './windows';

/**
 * Stage 2 of the export: one task per (window, partition) turns the partition's staged rows of the
 * window into one CSV per OEM and type (split at the size cap), sorted by event time, without
 * duplicates: neither within the window nor against rows an earlier window already exported.
 */

export const CSV_CONTENT_TYPE = 'text/csv; charset=utf-8';
/** Default cap of one export file (context `exportFileSizeCapMb`, default 64). */
export const DEFAULT_FILE_SIZE_CAP_BYTES = 64 * 1024 * 1024;
/**
 * How far back a late row is checked against earlier windows' row hashes: `_compaction/` expires
 * after 3 days, so older hash files are gone anyway.
 */
export const HASH_LOOKBACK_MS = 3 * 24 * 3600_000;

export interface ExportFile {
  key: string;
  body: string;
  oemId: string;
  type: EventType;
  rows: number;
}

export interface CompactionInput {
  /** Start of the window, epoch ms. */
  windowStart: number;
  windowMs: number;
  /** Base of the folder timestamps (manifest.writtenAt), epoch ms. */
  writtenAtMs: number;
  /** The partition's rows from every staged object of the manifest, in manifest order. */
  rows: readonly StagedRow[];
  /** Whether an earlier window, from the row's arrival window on, already has this row hash. */
  exportedBefore: (hash: bigint, arrivalWindow: number) => boolean;
  fileSizeCapBytes: number;
}

export interface CompactionResult {
  files: ExportFile[];
  /** Every distinct row of the window in this partition, exported now or before. */
  hashes: RowHashes;
  rows: number;
  exported: number;
  /** Rows seen twice in this window. */
  duplicates: number;
  /** Late rows an earlier window already exported. */
  alreadyExported: number;
}

interface Group {
  oemId: string;
  type: EventType;
  rows: StagedRow[];
}

/** The files and row hashes of one (window, partition). Pure: the same input gives the same files. */
export function compactPartition(input: CompactionInput): CompactionResult {
  const groups = new Map<string, Group>();
  const seen = new Set<string>();
  const hashes: bigint[] = [];
  let duplicates = 0;
  let alreadyExported = 0;
  for (const staged of input.rows) {
    if (seen.has(staged.row)) {
      duplicates++;
      continue;
    }
    seen.add(staged.row);
    const hash = rowHash(staged.row);
    hashes.push(hash);
    if (staged.arrivalWindow < input.windowStart && input.exportedBefore(hash, staged.arrivalWindow)) {
      alreadyExported++;
      continue;
    }
    const id = `${staged.oemId}\t${staged.type}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { oemId: staged.oemId, type: staged.type, rows: [] }));
    group.rows.push(staged);
  }

  const files: ExportFile[] = [];
  const ordered = [...groups.values()].sort((a, b) => (a.oemId < b.oemId ? -1 : a.oemId > b.oemId ? 1 : a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  for (const group of ordered) {
    // Array sort is stable: rows of equal event time keep their staged order.
    const rows = group.rows.sort((a, b) => a.timeMs - b.timeMs).map((r) => r.row);
    splitAtCap(group.type, rows, input.fileSizeCapBytes).forEach((part, i) => {
      if (i * 1000 >= input.windowMs) {
        throw new Error(`${group.oemId}/${group.type} needs more than ${input.windowMs / 1000} files in one window: raise the file size cap`);
      }
      // Part i's folder is i seconds after the base: within the window's length, so never another window's.
      const key = exportKey(group.oemId, group.type, new Date(input.writtenAtMs + i * 1000));
      files.push({ key, body: csvFile(group.type, part), oemId: group.oemId, type: group.type, rows: part.length });
    });
  }
  const exported = files.reduce((n, f) => n + f.rows, 0);
  return { files, hashes: sortedHashes(hashes), rows: input.rows.length, exported, duplicates, alreadyExported };
}

/** Rows in parts whose files stay within `cap` bytes; a row larger than the cap alone gets its own file. */
export function splitAtCap(type: EventType, rows: readonly string[], cap: number): string[][] {
  const headerBytes = Buffer.byteLength(headerRow(type) + CRLF);
  const parts: string[][] = [];
  let part: string[] = [];
  let bytes = headerBytes;
  for (const row of rows) {
    const rowBytes = Buffer.byteLength(row) + 2;
    if (part.length > 0 && bytes + rowBytes > cap) {
      parts.push(part);
      part = [];
      bytes = headerBytes;
    }
    part.push(row);
    bytes += rowBytes;
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

export interface TaskOptions {
  fileSizeCapBytes: number;
  /** Reads and writes in flight (default {@link READS_IN_FLIGHT}). */
  concurrency?: number;
}

export interface TaskOutcome {
  window: string;
  partition: number;
  /** Already done by an earlier delivery. */
  skipped: boolean;
  objects: number;
  rows: number;
  exported: number;
  duplicates: number;
  alreadyExported: number;
  files: number;
  /** Files an earlier attempt had created already. */
  filesExisting: number;
  /** Whether this task found the window complete and removed its staged objects. */
  cleanedUp: boolean;
}

/**
 * One compaction task, each step safe to repeat: a crash anywhere is followed by a redelivery that
 * finds the earlier steps done (conditional creates answer "exists", the done marker ends a repeat),
 * so nothing is lost and no second file is written.
 */
export async function runCompactionTask(message: CompactionMessage, store: ExportStore, options: TaskOptions): Promise<TaskOutcome> {
  const { window, partition } = message;
  const windowStart = parseWindowKey(window);
  if (windowStart === undefined) throw new Error(`not a window key: ${window}`);
  const concurrency = options.concurrency ?? READS_IN_FLIGHT;
  const outcome: TaskOutcome = {
    window, partition, skipped: false, objects: 0, rows: 0, exported: 0, duplicates: 0, alreadyExported: 0, files: 0, filesExisting: 0, cleanedUp: false,
  };
  const readManifest = async () => {
    const text = await store.getText(manifestKey(window));
    if (text === undefined) throw new Error(`no manifest for window ${window}`);
    return parseManifest(text);
  };
  // a. A redelivery of a finished task: only the cleanup may be left (the earlier attempt may have
  // stopped in it).
  if (await store.exists(doneKey(window, partition))) {
    return { ...outcome, skipped: true, cleanedUp: await cleanUpIfComplete(store, await readManifest()) };
  }

  // b. The manifest, and this partition's slice of each object in it.
  const manifest = await readManifest();
  const slices = manifest.objects.filter((o) => o.partitions[String(partition)] !== undefined);
  outcome.objects = slices.length;
  const rowsByObject = await mapLimit(slices, concurrency, async (object) => {
    const [start, end] = object.partitions[String(partition)]!;
    const bytes = await store.getBytes(object.key, { start, end });
    if (bytes === undefined) throw new Error(`staged object ${object.key} of window ${window} is missing`);
    if (bytes.length !== end - start + 1) throw new Error(`staged object ${object.key} gave ${bytes.length} bytes for range ${start}-${end}`);
    return decodeSlice(bytes);
  });
  const rows = rowsByObject.flat();

  // c. Row hashes of earlier windows, for rows that arrived before this window.
  const earlier = await earlierHashes(store, rows, windowStart, manifest.windowMs, partition, concurrency);
  // Windows that end after the row's arrival window starts: those that may have exported it.
  const exportedBefore = (hash: bigint, arrivalWindow: number) =>
    earlier.some((w) => w.start + manifest.windowMs > arrivalWindow && hasHash(w.hashes, hash));
  const result = compactPartition({
    windowStart,
    windowMs: manifest.windowMs,
    writtenAtMs: Date.parse(manifest.writtenAt),
    rows,
    exportedBefore,
    fileSizeCapBytes: options.fileSizeCapBytes,
  });
  Object.assign(outcome, { rows: result.rows, exported: result.exported, duplicates: result.duplicates, alreadyExported: result.alreadyExported, files: result.files.length });

  // d, e. The files: an existing one was written by an earlier attempt with the same bytes.
  const created = await mapLimit(result.files, concurrency, (file) => store.createIfAbsent(file.key, file.body, CSV_CONTENT_TYPE));
  outcome.filesExisting = created.filter((c) => c === 'exists').length;

  // f, g. The row hashes, then the done marker.
  await store.createIfAbsent(hashesKey(window, partition), encodeHashes(result.hashes), 'application/octet-stream');
  await store.createIfAbsent(doneKey(window, partition), '', 'text/plain');

  // h. Whichever task sees the window complete removes its staged objects (repeating it is harmless).
  outcome.cleanedUp = await cleanUpIfComplete(store, manifest);
  return outcome;
}

/**
 * Row hash files of `partition` for the windows before this one, back to the oldest late row's arrival
 * window (at most {@link HASH_LOOKBACK_MS}): usually none, or the previous window's.
 */
async function earlierHashes(
  store: ExportStore,
  rows: readonly StagedRow[],
  windowStart: number,
  windowMs: number,
  partition: number,
  concurrency: number,
): Promise<Array<{ start: number; hashes: RowHashes }>> {
  let oldest = windowStart;
  for (const r of rows) if (r.arrivalWindow < oldest) oldest = r.arrivalWindow;
  oldest = Math.max(oldest, windowStart - HASH_LOOKBACK_MS);
  const starts: number[] = [];
  for (let w = windowStart - windowMs; w + windowMs > oldest; w -= windowMs) starts.push(w);
  const files = await mapLimit(starts, concurrency, (w) => store.getBytes(hashesKey(windowKey(w), partition)));
  return starts.flatMap((start, i) => (files[i] === undefined ? [] : [{ start, hashes: decodeHashes(files[i]) }]));
}

/** Whether every partition of the manifest is done (one LIST of the window's done markers). */
export async function isWindowComplete(store: ExportStore, manifest: Manifest): Promise<boolean> {
  const partitions = manifestPartitions(manifest);
  if (partitions.length === 0) return true;
  const { objects } = await store.list(donePrefix(manifest.window));
  const done = new Set(objects.map((o) => o.key));
  return partitions.every((p) => done.has(doneKey(manifest.window, p)));
}

/** Deletes the window's staged objects once every partition of its manifest is done. */
export async function cleanUpIfComplete(store: ExportStore, manifest: Manifest): Promise<boolean> {
  if (!(await isWindowComplete(store, manifest))) return false;
  if (manifest.objects.length > 0) await store.deleteMany(manifest.objects.map((o) => o.key));
  return true;
}
