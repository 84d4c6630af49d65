import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { s3Error } from '../../aws-protocol/errors';
import { forward, type BufferedRequest, type LocalResponse } from '../../aws-protocol/http';
import { writeFileAtomic } from '../../aws-protocol/state-file';
import { queryParams, safeDecode, splitUrl } from '../../aws-protocol/url';
import { invalidUri } from './auth';
import { listWithDelimiter } from './listing';
import { KeyedLock } from './keyed-lock';
import type { StoredObject } from './object-file';
import type { ObjectStore } from './object-store';
import { deleteResult, evaluateConditions, ownerAcl, parseDeleteRequest, parseRange } from './objects';
import { emulatorPath, parseCopySource, s3Target, type S3Target } from './request-target';

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

/** Query parameters that make a GET or HEAD on a key something other than reading the object. */
const OBJECT_SUBRESOURCES = ['acl', 'tagging', 'legal-hold', 'retention', 'torrent', 'attributes', 'uploadId', 'uploads', 'restore', 'select'];

/** `response-*` query parameters of a GET: the header each overrides. */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/**
 * S3 in front of s3rver, over the local cloud's own object store (object-store.ts): checks the access keys
 * the local IAM issued (`authorize`, see auth.ts) and accepts any other signature (as LocalStack does),
 * reads each request's bucket and key once (`s3Target`) and hands s3rver exactly that key, answers object
 * reads (GET, HEAD: ranges, conditions), ACLs and multi-object deletes from the store, decodes `aws-chunked`
 * uploads, checks `Content-MD5`, answers `If-None-Match: *` with 412 when the key exists, binds multipart
 * uploads to their key, and keeps the bucket configurations s3rver does not know (lifecycle, policy, …).
 */
export class S3Gateway {
  /** Serializes conditional writes per key, so check-then-put is atomic as on S3. */
  private readonly keyLocks = new KeyedLock();

  constructor(
    private readonly s3rverPort: number,
    readonly store: ObjectStore,
    private readonly configDir: string,
    /** Checks the caller on the request as signed (see auth.ts); an answer refuses the request. */
    private readonly authorize?: (request: BufferedRequest) => Promise<LocalResponse | undefined>,
    /** Whether the caller may list the bucket: a missing key is a 404 only then, else a 403 (see auth.ts). */
    private readonly mayListBucket?: (request: BufferedRequest, bucket: string) => boolean,
  ) {}

  readonly handle = async (incoming: BufferedRequest): Promise<LocalResponse> => {
    const target = s3Target(incoming);
    if (!target) return invalidUri();
    const refused = await this.authorize?.(incoming);
    if (refused) return refused;
    const request = this.normalize(incoming, target);
    const query = new URLSearchParams(queryParams(request.url));
    const method = request.method.toUpperCase();
    const { bucket, key } = target;

    const digestError = contentMd5Error(request);
    if (digestError) return digestError;

    if (bucket && !key) {
      const subresource = [...query.keys()].find((k) => k in STORED_SUBRESOURCES);
      if (subresource) return this.bucketConfiguration(request, bucket, subresource);
      if (method === 'GET' && query.has('acl')) return this.acl(bucket);
      if (method === 'POST' && query.has('delete')) return this.deleteObjects(bucket, request.body);
      const listing = method === 'GET' && query.has('delimiter') &&
        ![...query.keys()].some((k) => ['uploads', 'versions', 'location', 'acl', 'policy', 'cors', 'tagging', 'website'].includes(k));
      if (listing) return listWithDelimiter(this.s3rverPort, bucket, query);
      return forward(this.s3rverPort, request);
    }
    if (!key) return forward(this.s3rverPort, request);

    if (method === 'GET' && query.has('acl')) return this.acl(bucket, key);
    if ((method === 'GET' || method === 'HEAD') && !OBJECT_SUBRESOURCES.some((s) => query.has(s))) {
      const { missingKey, ...answer } = await this.getObject(request, target, query);
      if (missingKey && this.mayListBucket && !this.mayListBucket(incoming, bucket)) return s3Error(403, 'AccessDenied', 'Access Denied');
      return answer;
    }
    const uploadId = query.get('uploadId');
    if (uploadId !== null) {
      // An upload id belongs to the key it was started for (s3rver would complete it under that key whatever the URL).
      const upload = await this.store.uploadOf(uploadId);
      if (!upload || upload.bucket !== bucket || upload.key !== key) {
        return s3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
      }
      if (method === 'DELETE') {
        await this.store.abortUpload(uploadId);
        return { status: 204 };
      }
    }
    const copySource = request.headers['x-amz-copy-source'];
    if (method === 'PUT' && copySource !== undefined) {
      const source = parseCopySource(copySource);
      if (!source) {
        return s3Error(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source', ArgumentValue: copySource });
      }
      // s3rver reads the header with decodeURI: this spelling gives it back exactly the source key.
      request.headers['x-amz-copy-source'] = encodeURI(`/${source.bucket}/${source.key}`);
    }

    const conditional = request.headers['if-none-match'] === '*' && (method === 'PUT' || (method === 'POST' && uploadId !== null));
    if (!conditional) return forward(this.s3rverPort, request);
    return this.keyLocks.run(`${bucket}/${key}`, async () => {
      if (await this.store.existsObject(bucket, key)) {
        return s3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
      }
      const rest = { ...request.headers };
      delete rest['if-none-match'];
      return forward(this.s3rverPort, { ...request, headers: rest });
    });
  };

  /**
   * Strips client signatures (s3rver knows only its own key), unwraps chunked uploads, and addresses s3rver
   * path-style with the key as one encoded segment (virtual-hosted `bucket.localhost:4566` requests too).
   */
  private normalize(request: BufferedRequest, target: S3Target): BufferedRequest {
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
    const kept = splitUrl(request.url)[1]
      .split('&')
      .filter((pair) => pair && !PRESIGN_PARAMS.has(safeDecode(pair.split('=')[0]!).toLowerCase()));
    const url = emulatorPath(target) + (kept.length ? `?${kept.join('&')}` : '');
    return { ...request, url, headers, body };
  }

  /** GetObject and HeadObject, from the store: metadata, one byte range, conditional requests. */
  private async getObject(request: BufferedRequest, { bucket, key }: S3Target, query: URLSearchParams): Promise<LocalResponse & { missingKey?: boolean }> {
    if (!(await this.store.getBucket(bucket))) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    const versionId = query.get('versionId');
    if (versionId !== null && versionId !== 'null') {
      return s3Error(400, 'InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: versionId });
    }
    const object = await this.store.openObject(bucket, key);
    if (!object) return { ...s3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key }), missingKey: true };
    try {
      const { meta } = object;
      const outcome = evaluateConditions(request.headers, meta.etag, meta.lastModified);
      const validators = { etag: `"${meta.etag}"`, 'last-modified': new Date(meta.lastModified).toUTCString() };
      if (outcome === 'not-modified') return { status: 304, headers: validators };
      if (outcome !== 'proceed') {
        return s3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: outcome.failed });
      }
      const range = parseRange(request.headers.range, meta.size);
      if (range.kind === 'unsatisfiable') {
        return s3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: request.headers.range ?? '', ActualObjectSize: String(meta.size) });
      }
      const [start, end] = range.kind === 'range' ? [range.start, range.end] : [0, meta.size - 1];
      const headers: Record<string, string> = { ...objectHeaders(object), ...validators, 'accept-ranges': 'bytes', 'content-length': String(end - start + 1) };
      for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
        const value = query.get(param);
        if (value !== null) headers[header] = value;
      }
      if (range.kind === 'range') headers['content-range'] = `bytes ${start}-${end}/${meta.size}`;
      const status = range.kind === 'range' ? 206 : 200;
      if (request.method.toUpperCase() === 'HEAD') return { status, headers };
      return { status, headers, body: await object.read(start, end + 1) };
    } finally {
      await object.close();
    }
  }

  /** GetBucketAcl / GetObjectAcl (s3rver's own object ACL puts the permission outside its grant). */
  private async acl(bucket: string, key?: string): Promise<LocalResponse> {
    if (!(await this.store.getBucket(bucket))) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    if (key !== undefined && !(await this.store.existsObject(bucket, key))) return s3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: ownerAcl() };
  }

  /** DeleteObjects: the keys read as the authorizer read them, each deleted (a missing key counts as deleted). */
  private async deleteObjects(bucket: string, body: Buffer): Promise<LocalResponse> {
    if (!(await this.store.getBucket(bucket))) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    const parsed = parseDeleteRequest(body.toString('utf8'));
    if (!parsed) return s3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const deleted: Array<{ key: string; versionId?: string }> = [];
    const errors: Array<{ key: string; code: string; message: string }> = [];
    for (const object of parsed.objects) {
      if (object.key === '') errors.push({ key: '', code: 'UserKeyMustBeSpecified', message: 'The delete request must specify a key.' });
      else {
        await this.store.deleteObject(bucket, object.key);
        deleted.push(object);
      }
    }
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: deleteResult(deleted, errors, parsed.quiet) };
  }

  private async bucketConfiguration(request: BufferedRequest, bucket: string, subresource: string): Promise<LocalResponse> {
    if (!(await this.store.getBucket(bucket))) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    const file = path.join(this.configDir, bucket, `${subresource}.xml`);
    const spec = STORED_SUBRESOURCES[subresource]!;
    switch (request.method) {
      case 'PUT':
        await writeFileAtomic(file, request.body, { createDir: true });
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
}

/** The headers GET and HEAD give back: what was stored with the object, its encryption and its tag count. */
function objectHeaders(object: StoredObject): Record<string, string> {
  const tags = object.meta.tagging?.match(/<Tag>/g)?.length ?? 0;
  return {
    ...object.meta.headers,
    // Every S3 object is encrypted at rest (SSE-S3 by default since 2023), and S3 says so.
    'x-amz-server-side-encryption': 'AES256',
    ...(tags > 0 ? { 'x-amz-tagging-count': String(tags) } : {}),
  };
}

/** 400 BadDigest when a `Content-MD5` does not match the body S3 received (InvalidDigest when it is no MD5). */
function contentMd5Error(request: BufferedRequest): LocalResponse | undefined {
  const claimed = request.headers['content-md5'];
  if (claimed === undefined) return undefined;
  if (Buffer.from(claimed, 'base64').length !== 16) return s3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.', { 'Content-MD5': claimed });
  const actual = createHash('md5').update(request.body).digest('base64');
  if (actual !== claimed.trim()) return s3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.', { ExpectedDigest: claimed, CalculatedDigest: actual });
  return undefined;
}
