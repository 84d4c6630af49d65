import { EVENT_TYPES, type EventType } from '../device-events';
import type { ByteRange } from './ports';

/**
 * The staged object: one per batch, holding the batch's encoded rows grouped by compaction partition.
 *
 *   {"v":1,"partitions":{"3":[start,end],…}}\n        header: each partition's byte range (inclusive)
 *   <oem_id>\t<event_type>\t<event ms>\t<arrival window ms>\t<row length>\t<CSV row>\n   …
 *
 * A CSV row may hold TAB, CR and LF inside quoted fields, so it is length-prefixed (its length in
 * UTF-16 code units, as JavaScript counts it) and checked to be followed by the line end; the fields
 * before it are numbers, an OEM id and an event type, none of which holds a TAB. Escaping the row as a
 * JSON string would do too, at twice the encoding cost. A stage-2 task reads only its partition's slice
 * with one ranged GET.
 */

export const STAGING_VERSION = 1;

export interface StagedRow {
  oemId: string;
  type: EventType;
  /** Event time, epoch ms (the arrival time when the event has none): files are sorted by it. */
  timeMs: number;
  /** Start (epoch ms) of the window the record arrived in: older than the staging window means late. */
  arrivalWindow: number;
  /** The CSV row, without line end. */
  row: string;
}

export interface StagedHeader {
  v: typeof STAGING_VERSION;
  /** Partition → its byte range in the object, both ends inclusive. */
  partitions: Record<string, [number, number]>;
}

export const stagedLine = (r: StagedRow) => `${r.oemId}\t${r.type}\t${r.timeMs}\t${r.arrivalWindow}\t${r.row.length}\t${r.row}\n`;

/**
 * The object's text from each partition's lines (partition → lines, any order). The header's offsets
 * count its own length, so its length is found by iterating: larger offsets only ever lengthen it, so
 * it settles after a few rounds.
 */
export function encodeStaged(linesByPartition: ReadonlyMap<number, readonly string[]>): { body: string; header: StagedHeader } {
  const parts = [...linesByPartition].filter(([, lines]) => lines.length > 0).sort(([a], [b]) => a - b);
  const texts = parts.map(([, lines]) => lines.join(''));
  const sizes = texts.map((t) => Buffer.byteLength(t, 'utf8'));
  let headerLength = 0;
  for (;;) {
    const header: StagedHeader = { v: STAGING_VERSION, partitions: {} };
    let offset = headerLength;
    parts.forEach(([partition], i) => {
      header.partitions[String(partition)] = [offset, offset + sizes[i]! - 1];
      offset += sizes[i]!;
    });
    const line = JSON.stringify(header);
    if (line.length + 1 === headerLength) return { body: `${line}\n${texts.join('')}`, header };
    headerLength = line.length + 1;
  }
}

const isRange = (value: unknown): value is [number, number] =>
  Array.isArray(value) && value.length === 2 && value.every((n) => Number.isSafeInteger(n) && n >= 0) && value[0] <= value[1];

/** The header from the first bytes of a staged object, or undefined when they do not reach its end yet. */
export function decodeHeader(bytes: Uint8Array): { header: StagedHeader; length: number } | undefined {
  const end = bytes.indexOf(0x0a);
  if (end < 0) return undefined;
  const value: unknown = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8'));
  const partitions = (value as StagedHeader | null)?.partitions;
  if ((value as StagedHeader | null)?.v !== STAGING_VERSION || partitions === null || typeof partitions !== 'object') {
    throw new Error('not a staged object header');
  }
  for (const [partition, range] of Object.entries(partitions)) {
    if (!/^\d+$/.test(partition) || !isRange(range)) throw new Error(`bad range of partition ${partition} in a staged object header`);
  }
  return { header: value as StagedHeader, length: end + 1 };
}

/** A partition's byte range in a staged object. */
export function partitionRange(header: StagedHeader, partition: number): ByteRange | undefined {
  const range = header.partitions[String(partition)];
  return range ? { start: range[0], end: range[1] } : undefined;
}

const isEventType = (text: string): text is EventType => (EVENT_TYPES as readonly string[]).includes(text);

/** The rows of a partition's slice. A malformed line throws: a task fails rather than export garbage. */
export function decodeSlice(bytes: Uint8Array | string): StagedRow[] {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const rows: StagedRow[] = [];
  let at = 0;
  while (at < text.length) {
    const t1 = text.indexOf('\t', at);
    const t2 = t1 < 0 ? -1 : text.indexOf('\t', t1 + 1);
    const t3 = t2 < 0 ? -1 : text.indexOf('\t', t2 + 1);
    const t4 = t3 < 0 ? -1 : text.indexOf('\t', t3 + 1);
    const t5 = t4 < 0 ? -1 : text.indexOf('\t', t4 + 1);
    const lineEnd = text.indexOf('\n', at);
    if (t5 < 0 || (lineEnd >= 0 && lineEnd < t5)) throw new Error(`a staged line has fewer than 6 fields (at ${at})`);
    const type = text.slice(t1 + 1, t2);
    const timeMs = Number(text.slice(t2 + 1, t3));
    const arrivalWindow = Number(text.slice(t3 + 1, t4));
    const lengthText = text.slice(t4 + 1, t5);
    const length = Number(lengthText);
    const end = t5 + 1 + length;
    if (!isEventType(type) || !/^\d+$/.test(lengthText) || !Number.isFinite(timeMs) || !Number.isSafeInteger(arrivalWindow) || text.charCodeAt(end) !== 10) {
      throw new Error(`a staged line is malformed (at ${at})`);
    }
    rows.push({ oemId: text.slice(at, t1), type, timeMs, arrivalWindow, row: text.slice(t5 + 1, end) });
    at = end + 1;
  }
  return rows;
}
