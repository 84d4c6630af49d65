import type { EventType } from '../device-events';
import { compactTimestamp, dayPath, folderTimestamp, windowKey } from './windows';

/**
 * The export bucket's keys, in one place. The pipeline's own prefixes start with `_`, which no OEM id
 * does, so they never mix with an OEM's folders; an OEM's rejects sit under `<oem_id>/_errors/`,
 * which no event type folder can be.
 */

export const ERROR_PREFIX = '_errors/';
export const STAGING_PREFIX = '_staging/';
export const COMPACTION_PREFIX = '_compaction/';
/** Windows whose compaction messages were sent: one empty object each, listed in one request. */
export const DISPATCHED_PREFIX = `${COMPACTION_PREFIX}dispatched/`;

/**
 * `<oem_id>/<event_type>/<YYYY-MM-DD-HH:MM:SS>/<oem_id>_<event_type>_<YYYYMMDDTHHMMSSZ>.csv`. The file
 * name is fixed by the folder, so a conditional create of it claims the whole folder.
 */
export function exportKey(oemId: string, type: EventType, date: Date): string {
  return `${oemId}/${type}/${folderTimestamp(date)}/${oemId}_${type}_${compactTimestamp(date)}.csv`;
}

/** `_staging/<window>/`: every staged object written during the window. */
export const stagingWindowPrefix = (windowStart: number) => `${STAGING_PREFIX}${windowKey(windowStart)}/`;

/**
 * One batch's staged rows: the same batch written in the same window has the same key (a redelivery
 * overwrites it with the same bytes); concurrent batches of a shard have other sequence ranges.
 */
export const stagingKey = (windowStart: number, shardId: string, firstSeq: string, lastSeq: string) =>
  `${stagingWindowPrefix(windowStart)}${shardId}/${firstSeq}-${lastSeq}.rows`;

/** The window key of a staging object or window prefix, or undefined for another key. */
export function stagingWindowOf(key: string): string | undefined {
  if (!key.startsWith(STAGING_PREFIX)) return undefined;
  const end = key.indexOf('/', STAGING_PREFIX.length);
  return end < 0 ? undefined : key.slice(STAGING_PREFIX.length, end);
}

const errorName = (dayMs: number, shardId: string, firstSeq: string, lastSeq: string) => `${dayPath(dayMs)}/${shardId}-${firstSeq}-${lastSeq}.jsonl`;

/** `_errors/YYYY/MM/DD/<shard>-<first seq>-<last seq>.jsonl`: every rejected record of a batch. */
export const errorKey = (dayMs: number, shardId: string, firstSeq: string, lastSeq: string) => `${ERROR_PREFIX}${errorName(dayMs, shardId, firstSeq, lastSeq)}`;

/** `<oem_id>/_errors/…`: the rejects that name this OEM, readable with the OEM's own export key. */
export const oemErrorKey = (oemId: string, dayMs: number, shardId: string, firstSeq: string, lastSeq: string) =>
  `${oemId}/${ERROR_PREFIX}${errorName(dayMs, shardId, firstSeq, lastSeq)}`;

export const compactionWindowPrefix = (window: string) => `${COMPACTION_PREFIX}${window}/`;
export const manifestKey = (window: string) => `${compactionWindowPrefix(window)}manifest.json`;
export const hashesKey = (window: string, partition: number) => `${compactionWindowPrefix(window)}hashes/${partition}`;
export const donePrefix = (window: string) => `${compactionWindowPrefix(window)}done/`;
export const doneKey = (window: string, partition: number) => `${donePrefix(window)}${partition}`;
export const dispatchedKey = (window: string) => `${DISPATCHED_PREFIX}${window}`;
