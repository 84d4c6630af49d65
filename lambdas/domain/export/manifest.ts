import { parseWindowKey } from './windows';

/**
 * A window's compaction manifest, `_compaction/<window>/manifest.json`: the staged objects the window's
 * tasks read, fixed once (created with `If-None-Match: *`), so every attempt of a task sees the same
 * input and writes the same files.
 */

export interface ManifestObject {
  key: string;
  size: number;
  /** Partition → byte range of its rows in the object (both ends inclusive), from the object's header. */
  partitions: Record<string, [number, number]>;
}

export interface Manifest {
  v: 1;
  /** The window key, `YYYYMMDDTHHMMZ` of its start. */
  window: string;
  windowMs: number;
  /** ISO time: the base of the window's export folder timestamps (window end + grace). */
  writtenAt: string;
  objects: ManifestObject[];
}

/** The partitions with rows in the window, ascending: one task each. */
export function manifestPartitions(manifest: Manifest): number[] {
  const partitions = new Set<number>();
  for (const object of manifest.objects) for (const p of Object.keys(object.partitions)) partitions.add(Number(p));
  return [...partitions].sort((a, b) => a - b);
}

const isRange = (value: unknown): boolean =>
  Array.isArray(value) && value.length === 2 && value.every((n) => Number.isSafeInteger(n) && n >= 0) && value[0] <= value[1];

/** A stored manifest, checked: a malformed one throws (a task retries rather than compacting wrong input). */
export function parseManifest(text: string): Manifest {
  const value = JSON.parse(text) as Partial<Manifest> | null;
  const ok =
    value !== null &&
    value.v === 1 &&
    typeof value.window === 'string' &&
    parseWindowKey(value.window) !== undefined &&
    Number.isSafeInteger(value.windowMs) &&
    typeof value.writtenAt === 'string' &&
    !Number.isNaN(Date.parse(value.writtenAt)) &&
    Array.isArray(value.objects) &&
    value.objects.every(
      (o) =>
        typeof o?.key === 'string' &&
        Number.isSafeInteger(o.size) &&
        o.partitions !== null &&
        typeof o.partitions === 'object' &&
        Object.entries(o.partitions).every(([p, range]) => /^\d+$/.test(p) && isRange(range)),
    );
  if (!ok) throw new Error('malformed compaction manifest');
  return value as Manifest;
}
