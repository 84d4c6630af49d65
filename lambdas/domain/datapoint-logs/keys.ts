import type { DatapointRef } from './records';
import { isWellFormedText } from './storable';

/**
 * Keys of the datapoint log table (single-table design), all inside the OEM's partition so that
 * every query is scoped to the caller's OEM and no request path ever scans:
 *
 * | item        | pk            | sk                                      | gsi1sk (GSI `byName`, gsi1pk = pk)   |
 * |-------------|---------------|-----------------------------------------|--------------------------------------|
 * | device      | `OEM#<oem>`   | `DEV#<dsn>`                             |                                      |
 * | datapoint   | `OEM#<oem>`   | `DP#<dsn>#<block>#<index>#<name>`       | `NAME#<name>#<dsn>#<block>#<index>`  |
 * | id counter  | `OEM#<oem>`   | `COUNTER#datapoint`                     |                                      |
 *
 * Logged values have a partition per datapoint: pk `VAL#<oem>#<dsn>#<block>#<index>#<name>`,
 * sk `<event time ms, 15 digits>#<sequence, 10 digits>`.
 *
 * Components are escaped (`%` → `%25`, `#` → `%23`), so a prefix ending in `#` matches exactly
 * one component value. Pure: the DynamoDB adapters, the rules on what can be stored (a datapoint
 * whose key would not fit is not logged) and the table's construct (its index) share it.
 */

export const BY_NAME_INDEX = 'byName';

export const escape = (component: string) => component.replace(/%/g, '%25').replace(/#/g, '%23');

export const oemPartition = (oemId: string) => `OEM#${escape(oemId)}`;
export const deviceKey = (dsn: string) => `DEV#${escape(dsn)}`;
export const COUNTER_KEY = 'COUNTER#datapoint';

export function datapointKey(ref: DatapointRef): string {
  return `DP#${escape(ref.dsn)}#${escape(ref.block)}#${ref.blockIndex}#${escape(ref.name)}`;
}

export function datapointNameKey(ref: DatapointRef): string {
  return `NAME#${escape(ref.name)}#${escape(ref.dsn)}#${escape(ref.block)}#${ref.blockIndex}`;
}

/** The narrowest key prefix for what is fixed (each part needs the ones before it). */
export function datapointPrefix(fixed: { dsn?: string; block?: string; blockIndex?: number }): string {
  let prefix = 'DP#';
  if (fixed.dsn === undefined) return prefix;
  prefix += `${escape(fixed.dsn)}#`;
  if (fixed.block === undefined) return prefix;
  prefix += `${escape(fixed.block)}#`;
  if (fixed.blockIndex === undefined) return prefix;
  return `${prefix}${fixed.blockIndex}#`;
}

export function namePrefix(name: string, dsn?: string): string {
  return `NAME#${escape(name)}#${dsn === undefined ? '' : `${escape(dsn)}#`}`;
}

/** DynamoDB's limit for a sort key (bytes of UTF-8). */
export const MAX_SORT_KEY_BYTES = 1024;

/**
 * Whether a datapoint's keys fit DynamoDB: at most 1,024 bytes (names of up to 256 characters may not,
 * escaped or multi-byte), and well-formed text (an unpaired surrogate has no UTF-8 form).
 */
export function datapointKeyFits(ref: DatapointRef): boolean {
  const key = datapointKey(ref);
  return Buffer.byteLength(key) <= MAX_SORT_KEY_BYTES && Buffer.byteLength(datapointNameKey(ref)) <= MAX_SORT_KEY_BYTES && isWellFormedText(key);
}

/** A stable text identity of a datapoint within an OEM (map keys). */
export const refId = (ref: DatapointRef) => datapointKey(ref);

/**
 * Logged values, one partition per datapoint: a time range is a key range, and the order of the
 * key is the order of the reply. The key depends only on the value, so writing a value again (a
 * batch retried before the logger's state was saved) overwrites it.
 */
export const valuePartition = (oemId: string, ref: DatapointRef) => `VAL#${escape(oemId)}#${datapointKey(ref).slice(3)}`;

const pad = (n: number, width: number) => String(Math.max(0, Math.floor(n))).padStart(width, '0');
export const valueSortKey = (at: number, sequence: number) => `${pad(at, 15)}#${pad(sequence, 10)}`;
/** The highest sort key a value at `at` can have: the inclusive end of a time range. */
export const lastValueSortKeyAt = (at: number) => valueSortKey(at, 9_999_999_999);
