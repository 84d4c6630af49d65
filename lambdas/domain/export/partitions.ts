import { createHash } from 'node:crypto';

/** The compaction partition count: 1 to 1024 (each partition is one FIFO message group). */
export function checkPartitions(partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024) {
    throw new RangeError(`compaction partitions must be an integer from 1 to 1024, got ${partitions}`);
  }
  return partitions;
}

/**
 * The compaction partition of an OEM: the first 4 bytes of SHA-1 of its id, modulo P. Stable across
 * processes and releases, so one OEM is always in one partition and one task writes its files.
 */
export function partitionOf(oemId: string, partitions: number): number {
  return createHash('sha1').update(oemId, 'utf8').digest().readUInt32BE(0) % partitions;
}
