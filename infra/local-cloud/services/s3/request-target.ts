import type { BufferedRequest } from '../../aws-protocol/http';
import { splitUrl, virtualHostedBucket } from '../../aws-protocol/url';

/**
 * The bucket and key an S3 request names, read once, the way S3 reads them: the key is the rest of the
 * path, percent-decoded, and otherwise a literal string (`..`, `.`, `//`, a trailing `/` and `%2F` are all
 * part of it; nothing is resolved). The authorizer evaluates policies on this key and the gateway stores
 * and reads exactly this key, so the two cannot disagree.
 */
export interface S3Target {
  /** Empty for the service (ListBuckets). */
  bucket: string;
  /** Empty for a bucket request. */
  key: string;
}

/** S3's limit on a key's length, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** The request's bucket and key; undefined when the path is not valid percent-encoded UTF-8 (S3: 400 InvalidURI). */
export function s3Target(request: Pick<BufferedRequest, 'url' | 'headers'>): S3Target | undefined {
  const rawPath = splitUrl(request.url)[0];
  const virtualBucket = virtualHostedBucket(request.headers.host);
  const decoded = strictDecode(rawPath);
  if (decoded === undefined || !decoded.startsWith('/')) return undefined;
  if (virtualBucket) return { bucket: virtualBucket, key: decoded.slice(1) };
  // The bucket ends at the first slash of the path as sent: `%2F` inside a bucket name is not a separator.
  const slash = rawPath.indexOf('/', 1);
  const bucket = strictDecode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
  const key = slash < 0 ? '' : strictDecode(rawPath.slice(slash + 1));
  if (bucket === undefined || key === undefined) return undefined;
  return { bucket, key };
}

/** A bucket name S3 accepts for new buckets (3–63 of a-z 0-9 . -, starting and ending alphanumeric, no `..`). */
export function isValidBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}

/** The source of a copy (`x-amz-copy-source: /bucket/key?versionId=…`, the key percent-encoded). */
export interface CopySource extends S3Target {
  versionId?: string;
}

export function parseCopySource(header: string): CopySource | undefined {
  // The query (versionId) is split off before decoding: an encoded `?` (%3F) belongs to the key.
  const [rawPath = '', rawQuery = ''] = header.split(/\?(.*)/s);
  const decoded = strictDecode(rawPath.replace(/^\//, ''));
  if (decoded === undefined) return undefined;
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) return undefined;
  const versionId = new URLSearchParams(rawQuery).get('versionId') ?? undefined;
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), ...(versionId !== undefined ? { versionId } : {}) };
}

/**
 * The path s3rver is sent for a target: the key encoded as one path segment (its slashes as `%2F`), so
 * s3rver's router gives back exactly this key, whatever dots, slashes or percent signs it holds.
 */
export function emulatorPath(target: S3Target): string {
  if (!target.bucket) return '/';
  return `/${encodeURIComponent(target.bucket)}${target.key ? `/${encodeURIComponent(target.key)}` : ''}`;
}

/** `decodeURIComponent`, or undefined for malformed percent-encoding (S3 refuses such a URI). */
function strictDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
