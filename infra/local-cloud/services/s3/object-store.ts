import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import S3Bucket from 's3rver/lib/models/bucket';
import { getConfigModel, type S3Config } from 's3rver/lib/models/config';
import S3Error from 's3rver/lib/models/error';
import S3Object from 's3rver/lib/models/object';
import { AtomicFile, writeFileAtomic } from '../../aws-protocol/state-file';
import { migrateFormerLayout } from './former-layout';
import { walkKeys } from './key-names';
import { abortUpload, completeUpload, initiateUpload, putPart, uploadOf, type Upload } from './multipart';
import { copyBody, footer, isMissing, readFooter, s3rverMetadata, storedHeaders, StoredObject, writeAll, writeBody, type StoredMetadata } from './object-file';
import { isValidBucketName } from './request-target';
import { StoreLayout } from './store-layout';


/**
 * Local S3's storage, given to s3rver in place of its FilesystemStore (which mapped keys straight onto
 * paths, so `a/../b` read and wrote `b`, and wrote bodies in place, so a crash left half an object).
 * Chosen over writing S3 behind the gateway: s3rver keeps doing the protocol (buckets, listings, copies,
 * multipart uploads, tagging), only its storage changes, and the gateway reads objects from the same store.
 *
 * - Keys are literal strings. Each segment of a key (between slashes) is percent-encoded into one file
 *   name: folders are `<segment>%2F`, the object itself `<last segment>` (empty: `%`, a final dot as `%2E`),
 *   so no key can name another key's file, `..`, `.` or a path outside its bucket (key-names.ts).
 * - Every write goes to a temporary file renamed into place (the atomic writer of `aws-protocol/`): after
 *   a crash, a failed write or a client that hangs up mid-body, GET and HEAD find the old object or none.
 * - An object is one file: its body, then its metadata (JSON: key, headers such as `Content-Type` and
 *   `x-amz-meta-*`, ETag, size, time, tags), then the metadata's length and a marker, so body and metadata
 *   are replaced together by the one rename (object-file.ts).
 *
 * Layout: `<root>/<bucket>/…` objects, `<root>/.tmp/` temporary files (emptied at start),
 * `<root>/.uploads/<upload id>/` multipart uploads, `<configDir>/<bucket>/<type>.xml` bucket configurations.
 * A key segment longer than 255 bytes once encoded cannot be a file name: such keys are refused
 * (400 KeyTooLongError), a local limit (store-layout.ts). Objects in s3rver's former layout are moved over at
 * start (former-layout.ts). Multipart uploads: multipart.ts.
 */
export class ObjectStore {
  private readonly layout: StoreLayout;

  private constructor(
    readonly root: string,
    configDir: string,
  ) {
    this.layout = new StoreLayout(root, configDir);
  }

  /** Opens the store: empties the temporary files a crash left and moves objects of the former layout over. */
  static async open(root: string, configDir: string, log: (line: string) => void = () => undefined): Promise<ObjectStore> {
    const store = new ObjectStore(root, configDir);
    await rm(store.layout.tempDir, { recursive: true, force: true });
    await Promise.all([mkdir(store.layout.tempDir, { recursive: true }), mkdir(store.layout.uploadsDir, { recursive: true }), mkdir(configDir, { recursive: true })]);
    const moved = await migrateFormerLayout(store.layout);
    if (moved > 0) log(`s3: moved ${moved} object(s) of the former storage layout`);
    return store;
  }

  // ---- buckets

  async listBuckets(): Promise<S3Bucket[]> {
    const names = (await readdir(this.root)).filter(isValidBucketName).sort();
    const buckets = await Promise.all(names.map((name) => this.getBucket(name)));
    return buckets.filter((b): b is S3Bucket => b !== null);
  }

  async getBucket(bucket: string): Promise<S3Bucket | null> {
    if (!isValidBucketName(bucket)) return null;
    const info = await stat(path.join(this.root, bucket)).catch(() => undefined);
    return info?.isDirectory() ? new S3Bucket(bucket, info.birthtime) : null;
  }

  async putBucket(bucket: string): Promise<S3Bucket | null> {
    if (!isValidBucketName(bucket)) throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
    await mkdir(path.join(this.root, bucket), { recursive: true });
    return this.getBucket(bucket);
  }

  /** Removes the bucket with its configurations and pending uploads (s3rver checks it is empty first). */
  async deleteBucket(bucket: string): Promise<void> {
    if (!isValidBucketName(bucket)) return;
    await rm(path.join(this.root, bucket), { recursive: true, force: true });
    await rm(path.join(this.layout.configDir, bucket), { recursive: true, force: true });
    for (const id of await readdir(this.layout.uploadsDir)) {
      if ((await uploadOf(this.layout, id))?.bucket === bucket) await rm(path.join(this.layout.uploadsDir, id), { recursive: true, force: true });
    }
  }

  /** Empties everything (s3rver's `resetOnClose`). */
  reset(): void {
    for (const name of readdirSync(this.root)) rmSync(path.join(this.root, name), { recursive: true, force: true });
    mkdirSync(this.layout.tempDir, { recursive: true });
    mkdirSync(this.layout.uploadsDir, { recursive: true });
  }

  // ---- objects

  /** Keys in S3's order (UTF-8 bytes) under `prefix` and after `startAfter`, grouped by `delimiter`, at most `maxKeys` entries. */
  async listObjects(
    bucket: string,
    options: { prefix?: string; startAfter?: string; maxKeys?: number; delimiter?: string },
  ): Promise<{ objects: S3Object[]; commonPrefixes: string[]; isTruncated: boolean }> {
    const prefix = options.prefix ?? '';
    const maxKeys = options.maxKeys ?? 1000;
    const keys: string[] = [];
    const commonPrefixes: string[] = [];
    let isTruncated = false;
    for await (const key of this.keys(bucket, prefix, options.startAfter ?? '')) {
      const at = options.delimiter ? key.indexOf(options.delimiter, prefix.length) : -1;
      const common = at >= 0 ? key.slice(0, at + options.delimiter!.length) : undefined;
      if (common !== undefined && commonPrefixes[commonPrefixes.length - 1] === common) continue;
      if (keys.length + commonPrefixes.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      if (common !== undefined) commonPrefixes.push(common);
      else keys.push(key);
    }
    const objects = await Promise.all(keys.map(async (key) => {
      const object = await this.openObject(bucket, key);
      if (!object) return undefined; // deleted meanwhile
      await object.close();
      return new S3Object(bucket, key, null, s3rverMetadata(object.meta));
    }));
    return { objects: objects.filter((o): o is S3Object => o !== undefined), commonPrefixes, isTruncated };
  }

  async existsObject(bucket: string, key: string): Promise<boolean> {
    const file = this.layout.objectPath(bucket, key);
    return file !== undefined && (await stat(file).then((s) => s.isFile(), () => false));
  }

  /** The object with its metadata, open for reading; it stays as it was even if replaced meanwhile. Close it. */
  async openObject(bucket: string, key: string): Promise<StoredObject | undefined> {
    const file = this.layout.objectPath(bucket, key);
    if (file === undefined) return undefined;
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    try {
      return new StoredObject(handle, await readFooter(handle));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** s3rver's read (website hosting only: the gateway answers GET and HEAD itself). */
  async getObject(bucket: string, key: string, options: { start?: number; end?: number } = {}): Promise<S3Object | null> {
    const object = await this.openObject(bucket, key);
    if (!object) return null;
    try {
      const metadata = s3rverMetadata(object.meta);
      const ranged = options.start !== undefined || options.end !== undefined;
      const last = object.meta.size - 1;
      const range = { start: options.start ?? 0, end: Math.min(options.end ?? last, last) };
      if (ranged && (range.start < 0 || range.start > range.end)) return Object.assign(new S3Object(bucket, key, null, metadata), { range });
      const body = await object.read(range.start, range.end + 1);
      const result = new S3Object(bucket, key, Readable.from([body]), metadata);
      if (ranged) result.range = range;
      return result;
    } finally {
      await object.close();
    }
  }

  async putObject(object: S3Object): Promise<{ size: number; md5: string }> {
    const file = this.layout.writablePath(object.bucket, object.key);
    const temp = await AtomicFile.create(file, { tempDir: this.layout.tempDir });
    try {
      const body = await writeBody(temp.handle, object.content ?? Buffer.alloc(0));
      const declared = object.metadata['content-length'];
      if (declared !== undefined && Number(declared) !== body.size) {
        throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
      }
      await writeAll(temp.handle, footer({ key: object.key, headers: storedHeaders(object.metadata), etag: body.md5, size: body.size, lastModified: Date.now() }));
      await this.layout.commit(object.bucket, file, temp);
      return { size: body.size, md5: body.md5 };
    } catch (error) {
      await temp.discard();
      throw error;
    }
  }

  async copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata: Record<string, string> | null,
  ): Promise<Record<string, string>> {
    const source = await this.openObject(srcBucket, srcKey);
    if (!source) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: srcKey });
    try {
      const headers = replacementMetadata ? storedHeaders(new S3Object(destBucket, destKey, null, replacementMetadata).metadata) : source.meta.headers;
      const meta = await this.rewrite(destBucket, destKey, source, { headers, tagging: source.meta.tagging });
      return s3rverMetadata(meta);
    } finally {
      await source.close();
    }
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const file = this.layout.objectPath(bucket, key);
    if (file === undefined) return;
    const bucketDir = path.join(this.root, bucket);
    await this.layout.treeLock.run(bucket, async () => {
      await unlink(file).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
      // Folders exist only for the keys under them: remove the ones this delete emptied.
      for (let dir = path.dirname(file); dir !== bucketDir && dir.startsWith(bucketDir); dir = path.dirname(dir)) {
        if (!(await rmdir(dir).then(() => true, () => false))) break;
      }
    });
  }

  // ---- multipart uploads (multipart.ts)

  initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, string>): Promise<void> {
    return initiateUpload(this.layout, bucket, key, uploadId, metadata);
  }

  /** The bucket and key a multipart upload was started for; undefined when there is no such upload. */
  uploadOf(uploadId: string): Promise<Upload | undefined> {
    return uploadOf(this.layout, uploadId);
  }

  abortUpload(uploadId: string): Promise<void> {
    return abortUpload(this.layout, uploadId);
  }

  putPart(bucket: string, uploadId: string, partNumber: string, content: Readable): Promise<{ size: number; md5: string }> {
    return putPart(this.layout, bucket, uploadId, partNumber, content);
  }

  /** Completes an upload: the parts, in ascending order and with their ETags, joined into the upload's key. */
  putObjectMultipart(bucket: string, uploadId: string, parts: Array<{ number: number; etag: string }>): Promise<{ size: number; md5: string }> {
    return completeUpload(this.layout, bucket, uploadId, parts);
  }


  // ---- configurations (bucket: cors, website; object: tagging)

  async getSubresource(bucket: string, key: string | undefined, type: string): Promise<S3Config | null> {
    const Model = getConfigModel(type);
    if (!Model) return null;
    if (key === undefined) {
      const xml = await readFile(this.layout.configFile(bucket, type), 'utf8').catch(() => undefined);
      return xml === undefined ? null : new Model(xml);
    }
    const object = await this.openObject(bucket, key);
    if (!object) return null;
    await object.close();
    return type === 'tagging' && object.meta.tagging ? new Model(object.meta.tagging) : null;
  }

  async putSubresource(bucket: string, key: string | undefined, resource: S3Config): Promise<void> {
    if (key === undefined) {
      await writeFileAtomic(this.layout.configFile(bucket, resource.type), resource.toXML(2), { createDir: true });
      return;
    }
    await this.retag(bucket, key, resource.toXML());
  }

  async deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<void> {
    if (key === undefined) await rm(this.layout.configFile(bucket, type), { force: true });
    else if (type === 'tagging') await this.retag(bucket, key, undefined);
  }

  // ---- helpers

  /** Replaces an object's tags: its body is rewritten with new metadata, under the bucket's lock so a concurrent put is not undone. */
  private async retag(bucket: string, key: string, tagging: string | undefined): Promise<void> {
    await this.layout.treeLock.run(bucket, async () => {
      const object = await this.openObject(bucket, key);
      if (!object) throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
      try {
        await this.rewrite(bucket, key, object, { headers: object.meta.headers, tagging, keepTime: true }, true);
      } finally {
        await object.close();
      }
    });
  }

  /** Writes `source`'s body under `key` with new metadata. */
  private async rewrite(
    bucket: string,
    key: string,
    source: StoredObject,
    changes: { headers: Record<string, string>; tagging: string | undefined; keepTime?: boolean },
    locked = false,
  ): Promise<StoredMetadata> {
    const file = this.layout.writablePath(bucket, key);
    const temp = await AtomicFile.create(file, { tempDir: this.layout.tempDir });
    try {
      await copyBody(source.handle, source.meta.size, temp.handle);
      const meta: StoredMetadata = {
        key,
        headers: changes.headers,
        etag: source.meta.etag,
        size: source.meta.size,
        lastModified: changes.keepTime ? source.meta.lastModified : Date.now(),
        ...(changes.tagging !== undefined ? { tagging: changes.tagging } : {}),
      };
      await writeAll(temp.handle, footer(meta));
      await this.layout.commit(bucket, file, temp, locked);
      return meta;
    } catch (error) {
      await temp.discard();
      throw error;
    }
  }

  /** Keys of `bucket` under `prefix` after `startAfter`, in S3's order, read folder by folder. */
  private async *keys(bucket: string, prefix: string, startAfter: string): AsyncGenerator<string> {
    if (!isValidBucketName(bucket)) return;
    yield* walkKeys(path.join(this.root, bucket), prefix, startAfter);
  }
}
