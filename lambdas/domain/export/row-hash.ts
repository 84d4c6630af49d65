import { createHash } from 'node:crypto';

/**
 * Row hashes: 64 bits of SHA-1 of an encoded row. A window's hash file per partition lists every row
 * that window exported (or dropped as already exported), so a later window can drop a row that comes
 * back (late, redelivered, bisected) without keeping the rows themselves. 64 bits: among a billion rows
 * the chance of any collision is below 3 %, and a collision only drops one row that has a twin hash.
 */

export function rowHash(row: string): bigint {
  return createHash('sha1').update(row, 'utf8').digest().readBigUInt64BE(0);
}

/** A set of row hashes, sorted and unique, looked up by binary search. */
export type RowHashes = BigUint64Array;

/** Sorted, without repeats. */
export function sortedHashes(hashes: Iterable<bigint>): RowHashes {
  const all = BigUint64Array.from(hashes).sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[n - 1]) all[n++] = all[i]!;
  return all.slice(0, n);
}

export function hasHash(hashes: RowHashes, hash: bigint): boolean {
  let lo = 0;
  let hi = hashes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const value = hashes[mid]!;
    if (value === hash) return true;
    if (value < hash) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** The hash file: 8 bytes big-endian per hash, ascending. */
export function encodeHashes(hashes: RowHashes): Uint8Array {
  const bytes = new Uint8Array(hashes.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < hashes.length; i++) view.setBigUint64(i * 8, hashes[i]!, false);
  return bytes;
}

export function decodeHashes(bytes: Uint8Array): RowHashes {
  if (bytes.length % 8 !== 0) throw new Error(`a row hash file has a multiple of 8 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hashes = new BigUint64Array(bytes.length / 8);
  for (let i = 0; i < hashes.length; i++) hashes[i] = view.getBigUint64(i * 8, false);
  for (let i = 1; i < hashes.length; i++) if (hashes[i - 1]! >= hashes[i]!) throw new Error('a row hash file is not sorted');
  return hashes;
}
