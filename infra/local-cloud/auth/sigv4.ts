import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { BufferedRequest } from '../aws-protocol/http';
import { queryParams, safeDecode, splitUrl, virtualHostedBucket } from '../aws-protocol/url';
import { unique } from '../aws-protocol/util';

/**
 * Verification of AWS request signatures, as the services themselves do it: Signature Version 4 in the
 * `Authorization` header or in a presigned URL's `X-Amz-*` query parameters (payload hash as
 * `x-amz-content-sha256` says, including `UNSIGNED-PAYLOAD` and signed `STREAMING-*` chunks), and S3's
 * legacy Signature Version 2 (`AWS key:signature`, or `AWSAccessKeyId`/`Signature`/`Expires` in the query).
 */

export type AuthKind = 'header-v4' | 'query-v4' | 'header-v2' | 'query-v2';

export interface ParsedAuth {
  kind: AuthKind;
  accessKeyId: string;
  signature: string;
  /** SigV4 only. */
  scope?: { date: string; region: string; service: string };
  signedHeaders?: string[];
  /** SigV4: `X-Amz-Date` (or a `Date` header); SigV2 query: the `Expires` epoch seconds. */
  amzDate?: string;
  expiresSeconds?: number;
  /** The algorithm when it is not one this module verifies (SigV4a). */
  unsupportedAlgorithm?: string;
}

export interface VerifyFailure {
  status: number;
  code: string;
  message: string;
  /** What S3 adds to help debugging (string to sign, canonical request). */
  details?: Record<string, string>;
}

export type VerifyResult = { ok: true; parsed: ParsedAuth } | ({ ok: false } & VerifyFailure);

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/** Reads who signed a request, without checking anything; undefined for an unsigned request. */
export function parseAuth(request: BufferedRequest): ParsedAuth | undefined {
  const header = request.headers.authorization?.trim();
  if (header) {
    if (header.startsWith(`${ALGORITHM} `)) {
      const fields = Object.fromEntries(
        header.slice(ALGORITHM.length).split(',').map((part) => {
          const at = part.indexOf('=');
          return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
        }),
      ) as Record<string, string | undefined>;
      const [accessKeyId = '', date = '', region = '', service = ''] = (fields.Credential ?? '').split('/');
      return {
        kind: 'header-v4',
        accessKeyId,
        signature: fields.Signature ?? '',
        scope: { date, region, service },
        signedHeaders: (fields.SignedHeaders ?? '').split(';').filter(Boolean),
        amzDate: request.headers['x-amz-date'] ?? amzDateOf(request.headers.date),
      };
    }
    const v2 = /^AWS ([^:\s]+):(\S+)$/.exec(header);
    if (v2) return { kind: 'header-v2', accessKeyId: v2[1]!, signature: v2[2]! };
    const other = /^(\S+)\s+Credential=([^/,\s]+)/.exec(header);
    if (other) return { kind: 'header-v4', accessKeyId: other[2]!, signature: '', unsupportedAlgorithm: other[1]! };
    return undefined;
  }
  const query = queryParams(request.url);
  const get = (name: string) => query.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const algorithm = get('X-Amz-Algorithm');
  const credential = get('X-Amz-Credential');
  if (algorithm && credential) {
    const [accessKeyId = '', date = '', region = '', service = ''] = credential.split('/');
    return {
      kind: 'query-v4',
      accessKeyId,
      signature: get('X-Amz-Signature') ?? '',
      scope: { date, region, service },
      signedHeaders: (get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean),
      amzDate: get('X-Amz-Date'),
      expiresSeconds: Number(get('X-Amz-Expires') ?? 'NaN'),
      ...(algorithm === ALGORITHM ? {} : { unsupportedAlgorithm: algorithm }),
    };
  }
  const v2Key = get('AWSAccessKeyId');
  if (v2Key && get('Signature') !== undefined) {
    return { kind: 'query-v2', accessKeyId: v2Key, signature: get('Signature')!, expiresSeconds: Number(get('Expires') ?? 'NaN') };
  }
  return undefined;
}

export interface VerifyOptions {
  /** S3 rules: the path is not normalized, presigned payloads are `UNSIGNED-PAYLOAD`, SigV2 is accepted. */
  s3?: boolean;
  nowMs?: number;
}

/** Checks a request's signature with the signer's secret key. */
export function verifySignature(request: BufferedRequest, parsed: ParsedAuth, secretAccessKey: string, options: VerifyOptions = {}): VerifyResult {
  const now = options.nowMs ?? Date.now();
  if (parsed.unsupportedAlgorithm) {
    return fail(400, 'InvalidArgument', `The authorization mechanism you have provided (${parsed.unsupportedAlgorithm}) is not supported by the local cloud. Please use ${ALGORITHM}.`);
  }
  if (parsed.kind === 'header-v2' || parsed.kind === 'query-v2') {
    if (!options.s3) return fail(400, 'InvalidArgument', 'Signature Version 2 is supported for S3 only.');
    return verifyV2(request, parsed, secretAccessKey, now);
  }
  return verifyV4(request, parsed, secretAccessKey, now, options.s3 ?? false);
}

function verifyV4(request: BufferedRequest, parsed: ParsedAuth, secret: string, now: number, s3: boolean): VerifyResult {
  const scope = parsed.scope!;
  const amzDate = parsed.amzDate ?? '';
  const signedAt = parseAmzDate(amzDate);
  if (!scope.date || !scope.region || !scope.service || !parsed.signature || !parsed.signedHeaders?.length) {
    return parsed.kind === 'header-v4'
      ? fail(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; it needs Credential, SignedHeaders and Signature.')
      : fail(400, 'AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  if (signedAt === undefined) return fail(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (!amzDate.startsWith(scope.date)) {
    return fail(parsed.kind === 'header-v4' ? 400 : 400, parsed.kind === 'header-v4' ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError',
      `The authorization credential date ${scope.date} does not match the request date ${amzDate.slice(0, 8)}.`);
  }
  if (!parsed.signedHeaders.includes('host') && !parsed.signedHeaders.includes(':authority')) {
    return fail(400, 'AuthorizationHeaderMalformed', 'The host header must be signed.');
  }
  if (parsed.kind === 'query-v4') {
    const expires = parsed.expiresSeconds ?? Number.NaN;
    if (!Number.isInteger(expires) || expires < 0 || expires > 604_800) {
      return fail(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be a number of seconds from 0 to 604800 (seven days).');
    }
    if (now > signedAt + expires * 1000) return fail(403, 'AccessDenied', 'Request has expired');
    if (signedAt - now > MAX_SKEW_MS) return fail(403, 'AccessDenied', 'Request is not valid yet');
  } else if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
    return fail(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
  }

  const contentSha = request.headers['x-amz-content-sha256'];
  let payloadHashes: string[];
  if (parsed.kind === 'query-v4') {
    payloadHashes = unique([...(contentSha ? [contentSha] : []), ...(s3 ? ['UNSIGNED-PAYLOAD'] : []), sha256Hex(request.body)]);
  } else if (contentSha && /^[0-9a-f]{64}$/i.test(contentSha)) {
    if (sha256Hex(request.body) !== contentSha.toLowerCase()) {
      return fail(400, 'XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    payloadHashes = [contentSha];
  } else if (contentSha) {
    payloadHashes = [contentSha]; // UNSIGNED-PAYLOAD, STREAMING-*
  } else {
    payloadHashes = [sha256Hex(request.body)];
  }

  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const signingKey = v4SigningKey(secret, scope.date, scope.region, scope.service);
  const [rawPath = '/', rawQuery = ''] = splitUrl(request.url);
  const canonicalQuery = canonicalQueryString(rawQuery, parsed.kind === 'query-v4' ? 'x-amz-signature' : undefined);
  // Over HTTP/2 the SDK signs the `:authority` pseudo-header, which the edge hands on as `host`.
  const headerValue = (name: string) => request.headers[name] ?? (name === ':authority' ? request.headers.host : undefined) ?? '';
  const canonicalHeaders = parsed.signedHeaders.map((name) => `${name}:${canonicalHeaderValue(headerValue(name))}\n`).join('');
  const signedHeaders = parsed.signedHeaders.join(';');
  let first: { canonicalRequest: string; stringToSign: string } | undefined;
  for (const uri of canonicalUris(rawPath, s3)) {
    for (const payloadHash of payloadHashes) {
      const canonicalRequest = [request.method.toUpperCase(), uri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
      const stringToSign = [ALGORITHM, amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
      first ??= { canonicalRequest, stringToSign };
      if (!sameSignature(hmac(signingKey, stringToSign).toString('hex'), parsed.signature)) continue;
      if (payloadHash.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) {
        const chunks = verifyChunkSignatures(request.body, parsed.signature, signingKey, amzDate, credentialScope);
        if (!chunks.ok) return chunks;
      }
      return { ok: true, parsed };
    }
  }
  return signatureMismatch(parsed, first?.stringToSign ?? '', first?.canonicalRequest);
}

/**
 * A signed streaming upload (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`): every chunk carries a
 * signature chained from the seed signature. The trailer's own signature is not checked.
 */
export function verifyChunkSignatures(body: Buffer, seedSignature: string, signingKey: Buffer, amzDate: string, credentialScope: string): VerifyResult | { ok: true } {
  let previous = seedSignature;
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) return fail(400, 'IncompleteBody', 'The request body terminated unexpectedly');
    const header = body.subarray(at, lineEnd).toString('latin1');
    const [sizeText = '', ...extensions] = header.split(';');
    const size = Number.parseInt(sizeText, 16);
    const provided = extensions.map((e) => e.trim()).find((e) => e.startsWith('chunk-signature='))?.slice('chunk-signature='.length);
    if (!Number.isFinite(size) || !provided) return fail(403, 'SignatureDoesNotMatch', 'A chunk of the streaming upload has no chunk-signature.');
    at = lineEnd + 2;
    const data = body.subarray(at, at + size);
    const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, credentialScope, previous, EMPTY_SHA256, sha256Hex(data)].join('\n');
    if (!sameSignature(hmac(signingKey, stringToSign).toString('hex'), provided)) {
      return fail(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', { StringToSign: stringToSign, SignatureProvided: provided });
    }
    if (size === 0) return { ok: true };
    previous = provided;
    at += size + 2;
  }
}

/** S3 Signature Version 2 (HMAC-SHA1), as s3cmd and old SDKs send it. */
function verifyV2(request: BufferedRequest, parsed: ParsedAuth, secret: string, now: number): VerifyResult {
  const h = request.headers;
  let dateLine: string;
  if (parsed.kind === 'query-v2') {
    const expires = parsed.expiresSeconds ?? Number.NaN;
    if (!Number.isFinite(expires)) return fail(403, 'AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
    if (now > expires * 1000) return fail(403, 'AccessDenied', 'Request has expired');
    dateLine = String(expires);
  } else {
    const when = Date.parse(h['x-amz-date'] ?? h.date ?? '');
    if (!Number.isFinite(when)) return fail(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    if (Math.abs(now - when) > MAX_SKEW_MS) return fail(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    dateLine = h['x-amz-date'] ? '' : h.date ?? '';
  }
  const amzHeaders = Object.keys(h)
    .filter((name) => name.startsWith('x-amz-'))
    .sort()
    .map((name) => `${name}:${h[name]!.replace(/\s+/g, ' ').trim()}\n`)
    .join('');
  const [rawPath = '/', rawQuery = ''] = splitUrl(request.url);
  const virtualBucket = virtualHostedBucket(h.host);
  const resourcePath = virtualBucket ? `/${virtualBucket}${rawPath}` : rawPath;
  const subresources = queryParams(`?${rawQuery}`)
    .filter(([k]) => V2_SUBRESOURCES.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v === '' && !rawQuery.includes(`${k}=`) ? k : `${k}=${v}`));
  const prefix = [request.method.toUpperCase(), h['content-md5'] ?? '', h['content-type'] ?? '', dateLine].join('\n');
  const candidates = unique([resourcePath, reencodePath(resourcePath)]);
  let firstStringToSign = '';
  for (const path of candidates) {
    const stringToSign = `${prefix}\n${amzHeaders}${path}${subresources.length ? `?${subresources.join('&')}` : ''}`;
    firstStringToSign ||= stringToSign;
    const expected = createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
    if (sameSignature(expected, parsed.signature)) return { ok: true, parsed };
  }
  return signatureMismatch(parsed, firstStringToSign);
}

const V2_SUBRESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'cors', 'delete', 'encryption', 'intelligent-tiering', 'inventory', 'legal-hold', 'lifecycle',
  'location', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'partNumber', 'policy', 'policyStatus',
  'publicAccessBlock', 'replication', 'requestPayment', 'response-cache-control', 'response-content-disposition',
  'response-content-encoding', 'response-content-language', 'response-content-type', 'response-expires', 'restore', 'retention',
  'select', 'select-type', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning', 'versions', 'website',
]);

function signatureMismatch(parsed: ParsedAuth, stringToSign: string, canonicalRequest?: string): VerifyResult {
  return fail(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    { AWSAccessKeyId: parsed.accessKeyId, StringToSign: stringToSign, SignatureProvided: parsed.signature, ...(canonicalRequest !== undefined ? { CanonicalRequest: canonicalRequest } : {}) },
  );
}

function fail(status: number, code: string, message: string, details?: Record<string, string>): { ok: false } & VerifyFailure {
  return { ok: false, status, code, message, ...(details ? { details } : {}) };
}

export function v4SigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = hmac(`AWS4${secret}`, date);
  return hmac(hmac(hmac(kDate, region), service), 'aws4_request');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(provided);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-_.~`. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function reencodePath(path: string): string {
  return path.split('/').map((segment) => uriEncode(safeDecode(segment))).join('/');
}

/**
 * The canonical URI candidates: S3 signs the path as sent (clients encode keys per RFC 3986), other
 * services sign it encoded once more. Clients differ in how they encode odd characters, so the path is
 * tried as received and re-encoded.
 */
function canonicalUris(rawPath: string, s3: boolean): string[] {
  const path = rawPath || '/';
  const once = reencodePath(path);
  return unique(s3 ? [path, once] : [path.split('/').map(uriEncode).join('/'), once.split('/').map(uriEncode).join('/'), path, once]);
}

export function canonicalQueryString(rawQuery: string, exclude?: string): string {
  return queryParams(`?${rawQuery}`)
    .filter(([k]) => k.toLowerCase() !== exclude)
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/** `20260102T030405Z` → epoch ms. */
export function parseAmzDate(value: string | undefined): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value ?? '');
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

function amzDateOf(httpDate: string | undefined): string | undefined {
  const ms = Date.parse(httpDate ?? '');
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '') : undefined;
}
