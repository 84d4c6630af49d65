import { GetObjectCommand, ListObjectsV2Command, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ExportFilesStore, LevelListing } from '../../domain/export-files/browse';

/** The start of an object: its first bytes as text, its whole size. */
export interface ObjectStart {
  text: string;
  size: number;
  complete: boolean;
}

/** The export bucket as the files API reads it: listings by level, presigned downloads, first bytes by range. */
export class S3ExportFiles implements ExportFilesStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async listLevel(prefix: string, max: number): Promise<LevelListing> {
    const out: LevelListing = { prefixes: [], objects: [], complete: true };
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.prefixes.push(p.Prefix);
      for (const o of page.Contents ?? []) {
        if (o.Key) out.objects.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
      }
      token = page.NextContinuationToken;
      if (token && out.prefixes.length + out.objects.length >= max) {
        out.complete = false;
        break;
      }
    } while (token);
    return out;
  }

  /** A presigned GET of `key`, valid `expiresInSeconds`; signed with the function's own (role) credentials. */
  presignDownload(key: string, expiresInSeconds: number): Promise<string> {
    const name = key.slice(key.lastIndexOf('/') + 1);
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: `attachment; filename="${name.replace(/["\\]/g, '_')}"` }), { expiresIn: expiresInSeconds });
  }

  /** The first `bytes` of `key`, or undefined when there is no such object. */
  async readStart(key: string, bytes: number): Promise<ObjectStart | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
      const body = Buffer.from(await out.Body!.transformToByteArray());
      const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
      const size = total !== undefined ? Number(total) : body.length;
      return { text: body.toString('utf8'), size, complete: body.length >= size };
    } catch (error) {
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      // An empty object answers a range with 416.
      if (status === 416) return { text: '', size: 0, complete: true };
      if (status === 404 || (error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}
