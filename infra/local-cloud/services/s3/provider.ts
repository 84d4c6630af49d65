import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { s3Error } from '../../aws-protocol/errors';
import { forward, type BufferedRequest, type LocalResponse } from '../../aws-protocol/http';
import { virtualHostedBucket } from '../../aws-protocol/url';
import { listWithDelimiter } from './listing';

/** Decodes an `aws-chunked` body (SigV4 streaming or unsigned-with-trailer) into its payload. */
export function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) throw new Error('malformed aws-chunked body: missing chunk header');
    const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) throw new Error('malformed aws-chunked body: bad chunk size');
    at = lineEnd + 2;
    if (size === 0) return Buffer.concat(parts); // trailers (checksums) follow; S3 keeps only the payload
    parts.push(body.subarray(at, at + size));
    at += size + 2;
  }
}

const PRESIGN_PARAMS = new Set([
  'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders',
  'x-amz-signature', 'x-amz-security-token', 'awsaccesskeyid', 'signature', 'expires',
]);

/** Bucket sub-resources s3rver lacks, kept by the local cloud, with the error S3 gives when unset. */
const STORED_SUBRESOURCES: Record<string, { missingCode: string; emptyBody?: string }> = {
  lifecycle: { missingCode: 'NoSuchLifecycleConfiguration' },
  policy: { missingCode: 'NoSuchBucketPolicy' },
  encryption: { missingCode: 'ServerSideEncryptionConfigurationNotFoundError' },
  publicAccessBlock: { missingCode: 'NoSuchPublicAccessBlockConfiguration' },
  ownershipControls: { missingCode: 'OwnershipControlsNotFoundError' },
  logging: { missingCode: '', emptyBody: '<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>' },
  versioning: { missingCode: '', emptyBody: '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>' },
};

/**
 * S3 in front of s3rver: checks the access keys the local IAM issued (`authorize`, see auth.ts) and
 * accepts any other signature (as LocalStack does), decodes `aws-chunked` uploads, answers `If-None-Match: *` with 412 when the key exists,
 * and keeps the bucket configurations s3rver does not know (lifecycle, policy, encryption, …).
 */
export class S3Gateway {
  /** Serializes conditional writes per key, so check-then-put is atomic as on S3. */
  private readonly keyLocks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly s3rverPort: number,
    private readonly configDir: string,
    /** Checks the caller on the request as signed (see auth.ts); an answer refuses the request. */
    private readonly authorize?: (request: BufferedRequest) => Promise<LocalResponse | undefined>,
  ) {}

  readonly handle = async (incoming: BufferedRequest): Promise<LocalResponse> => {
    const refused = await this.authorize?.(incoming);
    if (refused) return refused;
    const request = this.normalize(incoming);
    const url = new URL(request.url, 'http://local');
    const [bucket = '', ...keyParts] = url.pathname.slice(1).split('/');
    const key = keyParts.join('/');
    const subresource = [...url.searchParams.keys()].find((k) => k in STORED_SUBRESOURCES);
    if (bucket && !key && subresource) return this.bucketConfiguration(request, decodeURIComponent(bucket), subresource);
    const listing = request.method === 'GET' && bucket && !key && url.searchParams.has('delimiter') &&
      ![...url.searchParams.keys()].some((k) => ['uploads', 'versions', 'location', 'acl', 'policy', 'cors', 'tagging', 'website'].includes(k));
    if (listing) return listWithDelimiter(this.s3rverPort, decodeURIComponent(bucket), url.searchParams);

    const conditional = request.headers['if-none-match'] === '*' && key !== '' &&
      (request.method === 'PUT' || (request.method === 'POST' && url.searchParams.has('uploadId')));
    if (!conditional) return forward(this.s3rverPort, request);
    const lockKey = `${bucket}/${key}`;
    return this.withLock(lockKey, async () => {
      const head = await forward(this.s3rverPort, { method: 'HEAD', url: url.pathname, headers: {}, body: Buffer.alloc(0) });
      if (head.status === 200) {
        return s3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
      }
      const rest = { ...request.headers };
      delete rest['if-none-match'];
      return forward(this.s3rverPort, { ...request, headers: rest });
    });
  };

  /**
   * Strips client signatures (s3rver knows only its own key), unwraps chunked uploads, and turns
   * virtual-hosted requests (`bucket.localhost:4566`) into path-style ones.
   */
  private normalize(request: BufferedRequest): BufferedRequest {
    const headers = { ...request.headers };
    delete headers.authorization;
    delete headers['x-amz-security-token'];
    let body = request.body;
    const sha = headers['x-amz-content-sha256'] ?? '';
    const encoding = headers['content-encoding'] ?? '';
    if (sha.startsWith('STREAMING-') || encoding.split(',').some((e) => e.trim() === 'aws-chunked')) {
      body = decodeAwsChunked(body);
      const remaining = encoding.split(',').map((e) => e.trim()).filter((e) => e && e !== 'aws-chunked');
      if (remaining.length > 0) headers['content-encoding'] = remaining.join(', ');
      else delete headers['content-encoding'];
      for (const h of ['x-amz-decoded-content-length', 'x-amz-trailer']) delete headers[h];
      headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    }
    const virtualBucket = virtualHostedBucket(headers.host);
    const pathStyle = virtualBucket ? `/${virtualBucket}${request.url.startsWith('/') ? '' : '/'}${request.url}` : request.url;
    const queryAt = pathStyle.indexOf('?');
    let url = pathStyle;
    if (queryAt >= 0) {
      const kept = pathStyle
        .slice(queryAt + 1)
        .split('&')
        .filter((pair) => pair && !PRESIGN_PARAMS.has(decodeURIComponent(pair.split('=')[0]!).toLowerCase()));
      url = pathStyle.slice(0, queryAt) + (kept.length ? `?${kept.join('&')}` : '');
    }
    return { ...request, url, headers, body };
  }

  private async bucketConfiguration(request: BufferedRequest, bucket: string, subresource: string): Promise<LocalResponse> {
    const exists = await forward(this.s3rverPort, { method: 'HEAD', url: `/${encodeURIComponent(bucket)}`, headers: {}, body: Buffer.alloc(0) });
    if (exists.status !== 200) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const file = path.join(this.configDir, encodeURIComponent(bucket), `${subresource}.xml`);
    const spec = STORED_SUBRESOURCES[subresource]!;
    switch (request.method) {
      case 'PUT':
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, request.body);
        return { status: 200 };
      case 'DELETE':
        await rm(file, { force: true });
        return { status: 204 };
      case 'GET': {
        const stored = await readFile(file).catch(() => undefined);
        if (stored) {
          const type = subresource === 'policy' ? 'application/json' : 'application/xml';
          return { status: 200, headers: { 'content-type': type }, body: stored };
        }
        if (spec.emptyBody) return { status: 200, headers: { 'content-type': 'application/xml' }, body: spec.emptyBody };
        return s3Error(404, spec.missingCode, `The ${subresource} configuration does not exist`);
      }
      default:
        return s3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
  }

  private async withLock<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.keyLocks.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const settled = current.catch(() => undefined);
    this.keyLocks.set(key, settled);
    try {
      return await current;
    } finally {
      if (this.keyLocks.get(key) === settled) this.keyLocks.delete(key);
    }
  }
}
