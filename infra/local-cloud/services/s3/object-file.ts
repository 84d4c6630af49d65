import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * Local S3's object file: its body, then its metadata (JSON: key, headers such as `Content-Type` and
 * `x-amz-meta-*`, ETag, size, time, tags), then the metadata's length and a marker, so body and metadata
 * are replaced together by the one rename of the atomic writer.
 */

/** What is kept with an object's body. */
export interface StoredMetadata {
  key: string;
  /** The headers S3 stores and gives back: `content-type`, `cache-control`, …, `x-amz-meta-*` (lower case). */
  headers: Record<string, string>;
  /** Hex MD5 of the body (`<md5>-<parts>` for a multipart upload), without quotes. */
  etag: string;
  size: number;
  /** Milliseconds since the epoch. */
  lastModified: number;
  /** The object's `<Tagging>` XML, if tagged. */
  tagging?: string;
}

/** An object open for reading: its metadata and the body of the file as it was when opened. */
export class StoredObject {
  constructor(
    readonly handle: FileHandle,
    readonly meta: StoredMetadata,
  ) {}

  /** Body bytes `[start, end)`. */
  read(start: number, end: number): Promise<Buffer> {
    return readExactly(this.handle, Math.max(0, end - start), start);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

const MARKER = 'S3L1';

export function footer(meta: StoredMetadata): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(json.length, 0);
  tail.write(MARKER, 4, 'latin1');
  return Buffer.concat([json, tail]);
}

export async function readFooter(handle: FileHandle): Promise<StoredMetadata> {
  const { size } = await handle.stat();
  const tail = size >= 8 ? await readExactly(handle, 8, size - 8) : Buffer.alloc(0);
  if (tail.length !== 8 || tail.toString('latin1', 4) !== MARKER) throw new Error('local S3: an object file without metadata');
  const length = tail.readUInt32BE(0);
  const meta = JSON.parse((await readExactly(handle, length, size - 8 - length)).toString('utf8')) as StoredMetadata;
  if (meta.size !== size - 8 - length) throw new Error('local S3: an object file whose size does not match its metadata');
  return meta;
}

/** S3's stored headers of an object: what s3rver's `S3Object` kept, less what the store computes. */
export function storedHeaders(metadata: Record<string, string>): Record<string, string> {
  const { 'content-length': _length, etag: _etag, 'last-modified': _modified, ...headers } = metadata;
  return headers;
}

/** Metadata in the shape s3rver's controllers read. */
export function s3rverMetadata(meta: StoredMetadata): Record<string, string> {
  return { ...meta.headers, etag: `"${meta.etag}"`, 'last-modified': new Date(meta.lastModified).toUTCString(), 'content-length': String(meta.size) };
}

export async function writeBody(handle: FileHandle, content: Readable | Buffer): Promise<{ size: number; md5: string }> {
  const hash = createHash('md5');
  let size = 0;
  // A request whose client hangs up mid-body ends this loop with an error: the temporary file is dropped.
  for await (const chunk of Buffer.isBuffer(content) ? [content] : (content as AsyncIterable<Buffer | string>)) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    hash.update(bytes);
    size += bytes.length;
    await writeAll(handle, bytes);
  }
  return { size, md5: hash.digest('hex') };
}

export async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.length - at, null);
    at += bytesWritten;
  }
}

export async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  for (let at = 0; at < length;) {
    const { bytesRead } = await handle.read(buffer, at, length - at, position + at);
    if (bytesRead === 0) throw new Error('local S3: an object file ended early');
    at += bytesRead;
  }
  return buffer;
}

export async function copyBody(from: FileHandle, size: number, to: FileHandle): Promise<void> {
  const chunk = 1024 * 1024;
  for (let at = 0; at < size; at += chunk) await writeAll(to, await readExactly(from, Math.min(chunk, size - at), at));
}

export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG';
}
