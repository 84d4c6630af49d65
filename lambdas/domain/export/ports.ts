/**
 * The ports of the export: the bucket and the compaction queue. The S3 and SQS adapters implement
 * them; tests use an in-memory bucket with S3's semantics.
 */

export type ObjectBody = string | Uint8Array;

export interface StoredObject {
  key: string;
  /** Bytes. */
  size: number;
}

export interface Listing {
  objects: StoredObject[];
  /** Common prefixes, when listed with a delimiter. */
  prefixes: string[];
}

/** Byte range, both ends inclusive (as an HTTP `Range: bytes=start-end`). */
export interface ByteRange {
  start: number;
  end: number;
}

/** The export bucket. */
export interface ExportStore {
  /** Creates `key` only when no object has it (S3 `If-None-Match: *`). */
  createIfAbsent(key: string, body: ObjectBody, contentType: string): Promise<'created' | 'exists'>;
  put(key: string, body: ObjectBody, contentType: string): Promise<void>;
  /** An object's text (UTF-8), or undefined when there is none. */
  getText(key: string): Promise<string | undefined>;
  /** An object's bytes, or those of `range`; undefined when there is no object. */
  getBytes(key: string, range?: ByteRange): Promise<Uint8Array | undefined>;
  exists(key: string): Promise<boolean>;
  /** Every object under `prefix` (all pages), and the common prefixes when `delimiter` is given. */
  list(prefix: string, delimiter?: string): Promise<Listing>;
  /** Deletes the keys (missing ones are no error). */
  deleteMany(keys: readonly string[]): Promise<void>;
}

/** One compaction task: a window's rows of one partition. */
export interface CompactionMessage {
  /** The window key, `YYYYMMDDTHHMMZ`. */
  window: string;
  partition: number;
}

/**
 * The compaction queue: a FIFO queue, one message group per partition (the tasks of one partition
 * run one at a time, in window order), deduplicated per (window, partition).
 */
export interface CompactionQueue {
  send(messages: readonly CompactionMessage[]): Promise<void>;
}
