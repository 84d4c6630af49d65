import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import S3Bucket from 's3rver/lib/models/bucket';
import { getConfigModel, type S3Config } from 's3rver/lib/models/config';
import S3Error from 's3rver/lib/models/error';
import S3Object from 's3rver/lib/models/object';
import { AtomicFile, writeFileAtomic } from '../../aws-protocol/state-file';
import { isValidBucketName, MAX_KEY_BYTES } from './request-target';

/**
 * Local S3's storage, given to s3rver in place of its FilesystemStore (which mapped keys straight onto
 * paths, so `a/../b` read and wrote `b`, and wrote bodies in place, so a crash left half an object).
 * Chosen over writing S3 behind the gateway: s3rver keeps doing the protocol (buckets, listings, copies,
 * multipart uploads, tagging), only its storage changes, and the gateway reads objects from the same store.
 *
 * - Keys are literal strings. Each segment of a key (between slashes) is percent-encoded into one file
 *   name: folders are `<segment>%2F`, the object itself `<last segment>` (empty: `%`, a final dot as `%2E`),
 *   so no key can name another key's file, `..`, `.` or a path outside its bucket.
 * - Every write goes to a temporary file renamed into place (the atomic writer of `aws-protocol/`): after
 *   a crash, a failed write or a client that hangs up mid-body, GET and HEAD find the old object or none.
 * - An object is one file: its body, then its metadata (JSON: key, headers such as `Content-Type` and
 *   `x-amz-meta-*`, ETag, size, time, tags), then the metadata's length and a marker, so body and metadata
 *   are replaced together by the one rename.
 *
 * Layout: `<root>/<bucket>/…` objects, `<root>/.tmp/` temporary files (emptied at start),
 * `<root>/.uploads/<upload id>/` multipart uploads, `<configDir>/<bucket>/<type>.xml` bucket configurations.
 * A key segment longer than 255 bytes once encoded cannot be a file name: such keys are refused
 * (400 KeyTooLongError), a local limit. Objects in s3rver's former layout are moved over at start.
 */
export class ObjectStore {
  private readonly tempDir: string;
  private readonly uploadsDir: string;
  /** Serializes, per bucket, the renames and folder removals that could race (a put into a folder being removed). */
  private readonly treeLock = new KeyedLock();

  private constructor(
    readonly root: string,
    private readonly configDir: string,
  ) {
    this.tempDir = path.join(root, '.tmp');
    this.uploadsDir = path.join(root, '.uploads');
  }

  /** Opens the store: empties the temporary files a crash left and moves objects of the former layout over. */
  static async open(root: string, configDir: string, log: (line: string) => void = () => undefined): Promise<ObjectStore> {
    const store = new ObjectStore(root, configDir);
    await rm(store.tempDir, { recursive: true, force: true });
    await Promise.all([mkdir(store.tempDir, { recursive: true }), mkdir(store.uploadsDir, { recursive: true }), mkdir(configDir, { recursive: true })]);
    const moved = await store.migrateFormerLayout();
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
    await rm(path.join(this.configDir, bucket), { recursive: true, force: true });
    for (const id of await readdir(this.uploadsDir)) {
      if ((await this.uploadOf(id))?.bucket === bucket) await rm(path.join(this.uploadsDir, id), { recursive: true, force: true });
    }
  }

  /** Empties everything (s3rver's `resetOnClose`). */
  reset(): void {
    for (const name of readdirSync(this.root)) rmSync(path.join(this.root, name), { recursive: true, force: true });
    mkdirSync(this.tempDir, { recursive: true });
    mkdirSync(this.uploadsDir, { recursive: true });
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
    const file = this.objectPath(bucket, key);
    return file !== undefined && (await stat(file).then((s) => s.isFile(), () => false));
  }

  /** The object with its metadata, open for reading; it stays as it was even if replaced meanwhile. Close it. */
  async openObject(bucket: string, key: string): Promise<StoredObject | undefined> {
    const file = this.objectPath(bucket, key);
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
    const file = this.writablePath(object.bucket, object.key);
    const temp = await AtomicFile.create(file, { tempDir: this.tempDir });
    try {
      const body = await writeBody(temp.handle, object.content ?? Buffer.alloc(0));
      const declared = object.metadata['content-length'];
      if (declared !== undefined && Number(declared) !== body.size) {
        throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
      }
      await writeAll(temp.handle, footer({ key: object.key, headers: storedHeaders(object.metadata), etag: body.md5, size: body.size, lastModified: Date.now() }));
      await this.commit(object.bucket, file, temp);
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
    const file = this.objectPath(bucket, key);
    if (file === undefined) return;
    const bucketDir = path.join(this.root, bucket);
    await this.treeLock.run(bucket, async () => {
      await unlink(file).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
      // Folders exist only for the keys under them: remove the ones this delete emptied.
      for (let dir = path.dirname(file); dir !== bucketDir && dir.startsWith(bucketDir); dir = path.dirname(dir)) {
        if (!(await rmdir(dir).then(() => true, () => false))) break;
      }
    });
  }

  // ---- multipart uploads

  async initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, string>): Promise<void> {
    this.writablePath(bucket, key);
    const dir = this.uploadDir(uploadId);
    if (!dir) throw new S3Error('InvalidArgument', 'Invalid upload id');
    await mkdir(dir, { recursive: true });
    const upload: Upload = { bucket, key, headers: storedHeaders(new S3Object(bucket, key, null, metadata).metadata) };
    await writeFileAtomic(path.join(dir, 'upload.json'), JSON.stringify(upload));
  }

  /** The bucket and key a multipart upload was started for; undefined when there is no such upload. */
  async uploadOf(uploadId: string): Promise<Upload | undefined> {
    const dir = this.uploadDir(uploadId);
    if (!dir) return undefined;
    return readFile(path.join(dir, 'upload.json'), 'utf8').then((text) => JSON.parse(text) as Upload, () => undefined);
  }

  async abortUpload(uploadId: string): Promise<void> {
    const dir = this.uploadDir(uploadId);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  async putPart(bucket: string, uploadId: string, partNumber: string, content: Readable): Promise<{ size: number; md5: string }> {
    const upload = await this.requireUpload(bucket, uploadId);
    const number = Number(partNumber);
    if (!Number.isInteger(number) || number < 1 || number > 10_000) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: String(partNumber) });
    }
    const file = path.join(this.uploadDir(uploadId)!, String(number));
    const temp = await AtomicFile.create(file, { tempDir: this.tempDir });
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
  async putObjectMultipart(bucket: string, uploadId: string, parts: Array<{ number: number; etag: string }>): Promise<{ size: number; md5: string }> {
    const upload = await this.requireUpload(bucket, uploadId);
    const dir = this.uploadDir(uploadId)!;
    if (parts.some((part, i) => i > 0 && part.number <= parts[i - 1]!.number)) {
      throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
    }
    const file = this.writablePath(bucket, upload.key);
    const temp = await AtomicFile.create(file, { tempDir: this.tempDir });
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
      await this.commit(bucket, file, temp);
      await rm(dir, { recursive: true, force: true });
      return { size, md5: etag };
    } catch (error) {
      await temp.discard();
      throw error;
    }
  }

  // ---- configurations (bucket: cors, website; object: tagging)

  async getSubresource(bucket: string, key: string | undefined, type: string): Promise<S3Config | null> {
    const Model = getConfigModel(type);
    if (!Model) return null;
    if (key === undefined) {
      const xml = await readFile(this.configFile(bucket, type), 'utf8').catch(() => undefined);
      return xml === undefined ? null : new Model(xml);
    }
    const object = await this.openObject(bucket, key);
    if (!object) return null;
    await object.close();
    return type === 'tagging' && object.meta.tagging ? new Model(object.meta.tagging) : null;
  }

  async putSubresource(bucket: string, key: string | undefined, resource: S3Config): Promise<void> {
    if (key === undefined) {
      await writeFileAtomic(this.configFile(bucket, resource.type), resource.toXML(2), { createDir: true });
      return;
    }
    await this.retag(bucket, key, resource.toXML());
  }

  async deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<void> {
    if (key === undefined) await rm(this.configFile(bucket, type), { force: true });
    else if (type === 'tagging') await this.retag(bucket, key, undefined);
  }

  // ---- helpers

  /** Replaces an object's tags: its body is rewritten with new metadata, under the bucket's lock so a concurrent put is not undone. */
  private async retag(bucket: string, key: string, tagging: string | undefined): Promise<void> {
    await this.treeLock.run(bucket, async () => {
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
    const file = this.writablePath(bucket, key);
    const temp = await AtomicFile.create(file, { tempDir: this.tempDir });
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
      await this.commit(bucket, file, temp, locked);
      return meta;
    } catch (error) {
      await temp.discard();
      throw error;
    }
  }

  /** Renames a complete temporary file into place, creating the key's folders. */
  private async commit(bucket: string, file: string, temp: AtomicFile, locked = false): Promise<void> {
    const place = async () => {
      await mkdir(path.dirname(file), { recursive: true });
      await temp.commit(file);
    };
    await (locked ? place() : this.treeLock.run(bucket, place));
  }

  /** The file of `key`, or undefined when no object can have that key locally. */
  private objectPath(bucket: string, key: string): string | undefined {
    if (!isValidBucketName(bucket) || key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES) return undefined;
    const names = keyFileNames(key);
    if (names.some((name) => name.length > MAX_NAME_BYTES)) return undefined;
    return path.join(this.root, bucket, ...names);
  }

  /** The file of `key`, or S3's error for a key that cannot be stored. */
  private writablePath(bucket: string, key: string): string {
    if (Buffer.byteLength(key) > MAX_KEY_BYTES) {
      throw new S3Error('KeyTooLongError', 'Your key is too long', { MaxSizeAllowed: MAX_KEY_BYTES, Size: Buffer.byteLength(key) });
    }
    const file = this.objectPath(bucket, key);
    if (file === undefined) {
      if (!isValidBucketName(bucket)) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
      if (key === '') throw new S3Error('InvalidArgument', 'An object key must not be empty');
      throw new S3Error('KeyTooLongError', `Local S3 keeps each part of a key between slashes as a file name, at most ${MAX_NAME_BYTES} bytes once percent-encoded`);
    }
    return file;
  }

  private uploadDir(uploadId: string): string | undefined {
    // s3rver makes ids of 16 random bytes in hex; anything else is no upload (and never a path).
    return typeof uploadId === 'string' && /^[0-9a-f]{32}$/.test(uploadId) ? path.join(this.uploadsDir, uploadId) : undefined;
  }

  private async requireUpload(bucket: string, uploadId: string): Promise<Upload> {
    const upload = await this.uploadOf(uploadId);
    if (!upload || upload.bucket !== bucket) throw noSuchUpload(uploadId);
    return upload;
  }

  private configFile(bucket: string, type: string): string {
    if (!isValidBucketName(bucket) || !/^[a-z]+$/i.test(type)) throw new S3Error('InvalidArgument', 'Invalid configuration');
    return path.join(this.configDir, bucket, `${type}.xml`);
  }

  /** Keys of `bucket` under `prefix` after `startAfter`, in S3's order, read folder by folder. */
  private async *keys(bucket: string, prefix: string, startAfter: string): AsyncGenerator<string> {
    if (!isValidBucketName(bucket)) return;
    const after = Buffer.from(startAfter);
    const walk = async function* (dir: string, keyPrefix: string): AsyncGenerator<string> {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      const items: Array<{ key: string; order: Buffer; folder: boolean; name: string }> = [];
      for (const entry of entries) {
        const folder = entry.isDirectory();
        const segment = folder ? decodeFolderName(entry.name) : entry.isFile() ? decodeObjectName(entry.name) : undefined;
        if (segment === undefined) continue; // not a name this store writes
        const key = keyPrefix + segment + (folder ? '/' : '');
        items.push({ key, order: Buffer.from(key), folder, name: entry.name });
      }
      // A folder `s/` sorts where its keys do: every key under it starts with `s/`.
      items.sort((a, b) => Buffer.compare(a.order, b.order));
      for (const item of items) {
        if (item.folder) {
          const below = item.key.startsWith(prefix) || prefix.startsWith(item.key);
          const beforeStart = Buffer.compare(item.order, after) < 0 && !startAfter.startsWith(item.key);
          if (below && !beforeStart) yield* walk(path.join(dir, item.name), item.key);
        } else if (item.key.startsWith(prefix) && Buffer.compare(item.order, after) > 0) {
          yield item.key;
        }
      }
    };
    yield* walk(path.join(this.root, bucket), '');
  }

  /**
   * Moves objects of s3rver's own layout (`<key path>._S3rver_object` with `._S3rver_metadata.json`) into this
   * one, and its bucket configurations (`._S3rver_cors.xml`, `._S3rver_website.xml`) to the configuration folder.
   */
  private async migrateFormerLayout(): Promise<number> {
    let moved = 0;
    const migrate = async (bucket: string, dir: string, keyPrefix: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (decodeFolderName(entry.name) !== undefined) continue; // this layout
          if (entry.name === '._S3rver_uploads') await rm(file, { recursive: true, force: true });
          else {
            await migrate(bucket, file, `${keyPrefix}${entry.name}/`);
            await rmdir(file).catch(() => undefined);
          }
          continue;
        }
        const config = /^\._S3rver_(cors|website)\.xml$/.exec(entry.name);
        if (config && keyPrefix === '') {
          await writeFileAtomic(this.configFile(bucket, config[1]!), await readFile(file), { createDir: true });
          await rm(file);
          continue;
        }
        if (!entry.name.endsWith(FORMER_SUFFIX)) continue;
        const base = file.slice(0, -'object'.length);
        const key = keyPrefix + entry.name.slice(0, -FORMER_SUFFIX.length);
        const metadata = await readFile(`${base}metadata.json`, 'utf8').then((t) => JSON.parse(t) as Record<string, string>, () => ({}));
        const tagging = await readFile(`${base}tagging.xml`, 'utf8').catch(() => undefined);
        const target = this.objectPath(bucket, key);
        if (target) {
          const body = await readFile(file);
          const { mtimeMs } = await stat(file);
          const temp = await AtomicFile.create(target, { tempDir: this.tempDir });
          try {
            await writeAll(temp.handle, body);
            const etag = createHash('md5').update(body).digest('hex');
            await writeAll(temp.handle, footer({ key, headers: storedHeaders(new S3Object(bucket, key, null, metadata).metadata), etag, size: body.length, lastModified: Math.round(mtimeMs), ...(tagging ? { tagging } : {}) }));
            await this.commit(bucket, target, temp);
          } catch (error) {
            await temp.discard();
            throw error;
          }
          moved++;
        }
        await Promise.all([file, `${file}.md5`, `${base}metadata.json`, `${base}tagging.xml`].map((f) => rm(f, { force: true })));
      }
    };
    for (const bucket of (await readdir(this.root)).filter(isValidBucketName)) {
      if ((await stat(path.join(this.root, bucket))).isDirectory()) await migrate(bucket, path.join(this.root, bucket), '');
    }
    return moved;
  }
}

const FORMER_SUFFIX = '._S3rver_object';

/** A multipart upload in progress. */
export interface Upload {
  bucket: string;
  key: string;
  headers: Record<string, string>;
}

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

// ---- key ↔ file names

const MAX_NAME_BYTES = 255;

/** A key segment percent-encoded: only a-z 0-9 - . _ ~ stay (upper case too is encoded, for case-insensitive disks). */
function encodeSegment(segment: string): string {
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[a-z0-9._~-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The file name of a key's last segment: never empty, `.` or `..`, never ending in a dot. */
export function objectFileName(segment: string): string {
  if (segment === '') return '%';
  const encoded = encodeSegment(segment);
  return encoded.endsWith('.') ? `${encoded.slice(0, -1)}%2E` : encoded;
}

/** The folder name of a segment before a `/`: the encoding of `<segment>/`. */
export function folderName(segment: string): string {
  return `${encodeSegment(segment)}%2F`;
}

/** The file names of a key, from the bucket's folder down. */
export function keyFileNames(key: string): string[] {
  const segments = key.split('/');
  const last = segments.pop()!;
  return [...segments.map(folderName), objectFileName(last)];
}

function decodeObjectName(name: string): string | undefined {
  const segment = name === '%' ? '' : decodePercent(name);
  return segment !== undefined && objectFileName(segment) === name ? segment : undefined;
}

function decodeFolderName(name: string): string | undefined {
  if (!name.endsWith('%2F')) return undefined;
  const segment = decodePercent(name.slice(0, -3));
  return segment !== undefined && folderName(segment) === name ? segment : undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodePercent(name: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '%') {
      const hex = name.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(name.charCodeAt(i));
    }
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

// ---- the object file: body, metadata JSON, 4-byte length, marker

const MARKER = 'S3L1';

function footer(meta: StoredMetadata): Buffer {
  const json = Buffer.from(JSON.stringify(meta));
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(json.length, 0);
  tail.write(MARKER, 4, 'latin1');
  return Buffer.concat([json, tail]);
}

async function readFooter(handle: FileHandle): Promise<StoredMetadata> {
  const { size } = await handle.stat();
  const tail = size >= 8 ? await readExactly(handle, 8, size - 8) : Buffer.alloc(0);
  if (tail.length !== 8 || tail.toString('latin1', 4) !== MARKER) throw new Error('local S3: an object file without metadata');
  const length = tail.readUInt32BE(0);
  const meta = JSON.parse((await readExactly(handle, length, size - 8 - length)).toString('utf8')) as StoredMetadata;
  if (meta.size !== size - 8 - length) throw new Error('local S3: an object file whose size does not match its metadata');
  return meta;
}

/** S3's stored headers of an object: what s3rver's `S3Object` kept, less what the store computes. */
function storedHeaders(metadata: Record<string, string>): Record<string, string> {
  const { 'content-length': _length, etag: _etag, 'last-modified': _modified, ...headers } = metadata;
  return headers;
}

/** Metadata in the shape s3rver's controllers read. */
function s3rverMetadata(meta: StoredMetadata): Record<string, string> {
  return { ...meta.headers, etag: `"${meta.etag}"`, 'last-modified': new Date(meta.lastModified).toUTCString(), 'content-length': String(meta.size) };
}

async function writeBody(handle: FileHandle, content: Readable | Buffer): Promise<{ size: number; md5: string }> {
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

async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.length - at, null);
    at += bytesWritten;
  }
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  for (let at = 0; at < length;) {
    const { bytesRead } = await handle.read(buffer, at, length - at, position + at);
    if (bytesRead === 0) throw new Error('local S3: an object file ended early');
    at += bytesRead;
  }
  return buffer;
}

async function copyBody(from: FileHandle, size: number, to: FileHandle): Promise<void> {
  const chunk = 1024 * 1024;
  for (let at = 0; at < size; at += chunk) await writeAll(to, await readExactly(from, Math.min(chunk, size - at), at));
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG';
}

function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}

/** Runs work one at a time per key. */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const settled = current.catch(() => undefined);
    this.tails.set(key, settled);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    }
  }
}
