import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import S3Error from 's3rver/lib/models/error';
import S3Object from 's3rver/lib/models/object';
import { AtomicFile, writeFileAtomic } from '../../aws-protocol/state-file';
import { copyBody, footer, isMissing, readFooter, storedHeaders, writeAll, writeBody } from './object-file';
import type { StoreLayout } from './store-layout';

/**
 * Local S3's multipart uploads, under `<root>/.uploads/<upload id>/`: `upload.json` (bucket, key, headers)
 * and one object file per part, each written atomically; completing joins the parts into the key's file.
 */

/** A multipart upload in progress. */
export interface Upload {
  bucket: string;
  key: string;
  headers: Record<string, string>;
}

export async function initiateUpload(layout: StoreLayout, bucket: string, key: string, uploadId: string, metadata: Record<string, string>): Promise<void> {
  layout.writablePath(bucket, key);
  const dir = layout.uploadDir(uploadId);
  if (!dir) throw new S3Error('InvalidArgument', 'Invalid upload id');
  await mkdir(dir, { recursive: true });
  const upload: Upload = { bucket, key, headers: storedHeaders(new S3Object(bucket, key, null, metadata).metadata) };
  await writeFileAtomic(path.join(dir, 'upload.json'), JSON.stringify(upload));
}

/** The bucket and key a multipart upload was started for; undefined when there is no such upload. */
export async function uploadOf(layout: StoreLayout, uploadId: string): Promise<Upload | undefined> {
  const dir = layout.uploadDir(uploadId);
  if (!dir) return undefined;
  return readFile(path.join(dir, 'upload.json'), 'utf8').then((text) => JSON.parse(text) as Upload, () => undefined);
}

export async function abortUpload(layout: StoreLayout, uploadId: string): Promise<void> {
  const dir = layout.uploadDir(uploadId);
  if (dir) await rm(dir, { recursive: true, force: true });
}

export async function putPart(layout: StoreLayout, bucket: string, uploadId: string, partNumber: string, content: Readable): Promise<{ size: number; md5: string }> {
  const upload = await requireUpload(layout, bucket, uploadId);
  const number = Number(partNumber);
  if (!Number.isInteger(number) || number < 1 || number > 10_000) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: String(partNumber) });
  }
  const file = path.join(layout.uploadDir(uploadId)!, String(number));
  const temp = await AtomicFile.create(file, { tempDir: layout.tempDir });
  try {
    const body = await writeBody(temp.handle, content);
    await writeAll(temp.handle, footer({ key: upload.key, headers: {}, etag: body.md5, size: body.size, lastModified: Date.now() }));
    await temp.commit(file);
    return { size: body.size, md5: body.md5 };
  } catch (error) {
    await temp.discard();
    if (isMissing(error)) throw noSuchUpload(uploadId); // aborted meanwhile
    throw error;
  }
}

/** Completes an upload: the parts, in ascending order and with their ETags, joined into the upload's key. */
export async function completeUpload(layout: StoreLayout, bucket: string, uploadId: string, parts: Array<{ number: number; etag: string }>): Promise<{ size: number; md5: string }> {
  const upload = await requireUpload(layout, bucket, uploadId);
  const dir = layout.uploadDir(uploadId)!;
  if (parts.some((part, i) => i > 0 && part.number <= parts[i - 1]!.number)) {
    throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
  }
  const file = layout.writablePath(bucket, upload.key);
  const temp = await AtomicFile.create(file, { tempDir: layout.tempDir });
  try {
    const digests: Buffer[] = [];
    let size = 0;
    for (const [index, part] of parts.entries()) {
      const handle = await open(path.join(dir, String(part.number)), 'r').catch(() => undefined);
      const stored = handle && (await readFooter(handle).catch(() => undefined));
      const invalid = () => new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part\'s entity tag.', { UploadId: uploadId, PartNumber: part.number, ETag: part.etag });
      try {
        if (!handle || !stored || stored.etag !== part.etag.replace(/"/g, '')) throw invalid();
        if (index < parts.length - 1 && stored.size < 5 * 1024 * 1024) {
          throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', { ProposedSize: stored.size, MinSizeAllowed: 5 * 1024 * 1024, PartNumber: part.number, ETag: part.etag });
        }
        await copyBody(handle, stored.size, temp.handle);
      } finally {
        await handle?.close();
      }
      digests.push(Buffer.from(stored.etag, 'hex'));
      size += stored.size;
    }
    // S3's ETag of a multipart object: the MD5 of the parts' MD5s, and their count.
    const etag = `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}`;
    await writeAll(temp.handle, footer({ key: upload.key, headers: upload.headers, etag, size, lastModified: Date.now() }));
    await layout.commit(bucket, file, temp);
    await rm(dir, { recursive: true, force: true });
    return { size, md5: etag };
  } catch (error) {
    await temp.discard();
    throw error;
  }
}

async function requireUpload(layout: StoreLayout, bucket: string, uploadId: string): Promise<Upload> {
  const upload = await uploadOf(layout, uploadId);
  if (!upload || upload.bucket !== bucket) throw noSuchUpload(uploadId);
  return upload;
}

function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}
