import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import S3Error from 's3rver/lib/models/error';
import type { AtomicFile } from '../../aws-protocol/state-file';
import { keyFileNames, MAX_NAME_BYTES } from './key-names';
import { KeyedLock } from './keyed-lock';
import { isValidBucketName, MAX_KEY_BYTES } from './request-target';

/**
 * Where local S3 keeps its files: `<root>/<bucket>/…` objects, `<root>/.tmp/` temporary files,
 * `<root>/.uploads/<upload id>/` multipart uploads, `<configDir>/<bucket>/<type>.xml` bucket configurations.
 * A key segment longer than 255 bytes once encoded cannot be a file name: such keys are refused
 * (400 KeyTooLongError), a local limit.
 */
export class StoreLayout {
  readonly tempDir: string;
  readonly uploadsDir: string;
  /** Serializes, per bucket, the renames and folder removals that could race (a put into a folder being removed). */
  readonly treeLock = new KeyedLock();

  constructor(
    readonly root: string,
    readonly configDir: string,
  ) {
    this.tempDir = path.join(root, '.tmp');
    this.uploadsDir = path.join(root, '.uploads');
  }

  /** Renames a complete temporary file into place, creating the key's folders. */
  async commit(bucket: string, file: string, temp: AtomicFile, locked = false): Promise<void> {
    const place = async () => {
      await mkdir(path.dirname(file), { recursive: true });
      await temp.commit(file);
    };
    await (locked ? place() : this.treeLock.run(bucket, place));
  }

  /** The file of `key`, or undefined when no object can have that key locally. */
  objectPath(bucket: string, key: string): string | undefined {
    if (!isValidBucketName(bucket) || key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES) return undefined;
    const names = keyFileNames(key);
    if (names.some((name) => name.length > MAX_NAME_BYTES)) return undefined;
    return path.join(this.root, bucket, ...names);
  }

  /** The file of `key`, or S3's error for a key that cannot be stored. */
  writablePath(bucket: string, key: string): string {
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

  uploadDir(uploadId: string): string | undefined {
    // s3rver makes ids of 16 random bytes in hex; anything else is no upload (and never a path).
    return typeof uploadId === 'string' && /^[0-9a-f]{32}$/.test(uploadId) ? path.join(this.uploadsDir, uploadId) : undefined;
  }

  configFile(bucket: string, type: string): string {
    if (!isValidBucketName(bucket) || !/^[a-z]+$/i.test(type)) throw new S3Error('InvalidArgument', 'Invalid configuration');
    return path.join(this.configDir, bucket, `${type}.xml`);
  }
}
