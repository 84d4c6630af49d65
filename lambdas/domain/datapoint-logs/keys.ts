import type { DatapointRef } from './records';
import { isWellFormedText } from './storable';

/**
 * Keys of the datapoint log table (single-table design). An OEM's registry is spread over
 * {@link REGISTRY_BUCKETS} partitions, a device (and all its datapoints) in the bucket a hash of its DSN
 * picks, so that no partition key takes more than a share of a large OEM's writes; every query is
 * still scoped to the caller's OEM and no request path ever scans:
 *
 * | item        | pk                  | sk                                  | gsi1sk (GSI `byName`, gsi1pk = pk)  |
 * |-------------|---------------------|-------------------------------------|-------------------------------------|
 * | device      | `OEM#<oem>#<bb>`    | `DEV#<dsn>`                         |                                     |
 * | datapoint   | `OEM#<oem>#<bb>`    | `DP#<dsn>#<block>#<index>#<name>`   | `NAME#<name>#<dsn>#<block>#<index>` |
 * | id counter  | `OEM#<oem>`         | `COUNTER#datapoint`                 |                                     |
 *
 * `<bb>` is the device's bucket, two decimal digits ({@link registryBucket}). A read of one device is one
 * partition; a read across devices queries the OEM's buckets and merges them in key order. The id
 * counter takes one write per batch that registers datapoints, not one per event.
 *
 * Logged values have a partition per datapoint: pk `VAL#<oem>#<dsn>#<block>#<index>#<name>`,
 * sk `<event time ms, 15 digits>#<sequence, 10 digits>`. The logger's state of a datapoint lives on its
 * latest value (no item of its own): logging a value is one write.
 *
 * Components are escaped (`%` → `%25`, `#` → `%23`), so a prefix ending in `#` matches exactly
 * one component value. Pure: the DynamoDB adapters, the rules on what can be stored (a datapoint
 * whose key would not fit is not logged) and the table's construct (its index) share it.
 */

export const BY_NAME_INDEX = 'byName';

export const escape = (component: string) => component.replace(/%/g, '%25').replace(/#/g, '%23');

/** The OEM's partition before the registry was spread over buckets; now only the id counter's. */
export const oemPartition = (oemId: string) => `OEM#${escape(oemId)}`;

/** Partitions an OEM's registry is spread over. Changing it moves every device: keep it. */
export const REGISTRY_BUCKETS = 16;

/** The bucket of a device: FNV-1a (32 bits) of its DSN's UTF-16 code units, modulo {@link REGISTRY_BUCKETS}. */
export function registryBucket(dsn: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < dsn.length; i++) {
    hash ^= dsn.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % REGISTRY_BUCKETS;
}

const bucketPartition = (oemId: string, bucket: number) => `${oemPartition(oemId)}#${String(bucket).padStart(2, '0')}`;

/** The registry partition of a device and its datapoints. */
export const registryPartition = (oemId: string, dsn: string) => bucketPartition(oemId, registryBucket(dsn));

/** Every registry partition of an OEM, in bucket order. */
export const registryPartitions = (oemId: string) => Array.from({ length: REGISTRY_BUCKETS }, (_, b) => bucketPartition(oemId, b));
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
