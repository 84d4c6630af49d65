import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ByteRange, ExportStore, Listing, ObjectBody } from '../../domain/export/ports';

const statusOf = (error: unknown) => (error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined);

/** Keys per DeleteObjects request: S3's limit. */
export const DELETE_BATCH = 1000;

export interface S3ExportStoreOptions {
  /** Tries of a conditional create that meets a concurrent one (409), default 4. */
  conflictAttempts?: number;
  /** Wait before the first retry after a 409, ms (doubled each time), default 100. */
  conflictDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The export bucket as an {@link ExportStore}. Throttling and 5xx answers are retried by the SDK
 * (its standard retry strategy); what still fails is thrown, so the caller reports the batch or task
 * as failed and it is retried whole.
 */
export class S3ExportStore implements ExportStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly options: S3ExportStoreOptions = {},
  ) {}

  async createIfAbsent(key: string, body: ObjectBody, contentType: string): Promise<'created' | 'exists'> {
    const attempts = this.options.conflictAttempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*' }));
        return 'created';
      } catch (error) {
        const status = statusOf(error);
        if (status === 412) return 'exists';
        // 409 ConditionalRequestConflict: a concurrent conditional write of the key is in flight and may
        // still fail, so the key is not known to exist yet: ask again.
        if (status !== 409 || attempt >= attempts) throw error;
        await sleep((this.options.conflictDelayMs ?? 100) * 2 ** (attempt - 1));
      }
    }
  }

  async put(key: string, body: ObjectBody, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async getText(key: string): Promise<string | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await object.Body!.transformToString('utf-8');
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async getBytes(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      return await object.Body!.transformToByteArray();
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  async list(prefix: string, delimiter?: string): Promise<Listing> {
    const listing: Listing = { objects: [], prefixes: [] };
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(delimiter ? { Delimiter: delimiter } : {}), ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) if (o.Key !== undefined) listing.objects.push({ key: o.Key, size: o.Size ?? 0 });
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) listing.prefixes.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return listing;
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const chunk = keys.slice(i, i + DELETE_BATCH);
      const reply = await this.s3.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = reply.Errors ?? [];
      if (failed.length > 0) {
        throw new Error(`could not delete ${failed.length} of ${chunk.length} objects, e.g. ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message ?? ''}`.trim());
      }
    }
  }
}
