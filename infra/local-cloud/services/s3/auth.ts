import { Authenticator, deniedMessage, type CredentialStore } from '../../auth/credentials';
import type { AuthorizationRequest } from '../../auth/iam-policy';
import { parseAmzDate, parseAuth } from '../../auth/sigv4';
import { s3Error } from '../../aws-protocol/errors';
import type { BufferedRequest, LocalResponse } from '../../aws-protocol/http';
import { queryParams } from '../../aws-protocol/url';
import { parseDeleteRequest } from './objects';
import { parseCopySource, s3Target, type S3Target } from './request-target';

/**
 * Local S3's access checks (DESIGN §2): a request signed with an IAM user key id (`AKIA…`) must use a key
 * the credential store (the local IAM) issued and that is Active (else 403 InvalidAccessKeyId), its signature must verify with
 * that key's secret (SigV4 header or presigned query, signed streaming chunks, or S3's SigV2; else 403
 * SignatureDoesNotMatch), and the user's inline policies must allow the S3 action on the bucket or object
 * (else 403 AccessDenied). Any other key id (`test`, `local`, the stack's own functions) and unsigned
 * requests pass unchecked, as on LocalStack. Bucket policies are not evaluated.
 */
export class S3Authorizer {
  private readonly auth: Authenticator;

  constructor(store: CredentialStore) {
    this.auth = new Authenticator(store);
  }

  /** Undefined when the request may go on; otherwise S3's error answer. */
  readonly check = async (request: BufferedRequest): Promise<LocalResponse | undefined> => {
    const target = s3Target(request);
    if (!target) return invalidUri();
    const caller = this.auth.authenticate(request, { s3: true });
    if (caller.kind === 'anonymous') return undefined;
    // A presigned URL expires whoever signed it (the stack's functions presign downloads with unchecked keys).
    if (caller.kind === 'unchecked') return presignedUrlExpired(request) ? s3Error(403, 'AccessDenied', 'Request has expired') : undefined;
    if (caller.kind === 'rejected') {
      const extra = caller.code === 'InvalidAccessKeyId'
        ? { AWSAccessKeyId: caller.accessKeyId }
        : caller.details ?? {};
      return s3Error(caller.status, caller.code, caller.message, extra);
    }
    for (const question of s3Authorizations(request, target)) {
      const evaluation = this.auth.authorize(caller.user, question);
      if (evaluation.decision !== 'Allow') {
        return s3Error(403, 'AccessDenied', deniedMessage(caller.user, question.action, question.resource, evaluation));
      }
    }
    this.auth.recordUse(caller, 's3');
    return undefined;
  };

  /**
   * Whether the caller may list `bucket` (no prefix given). S3 answers a read of a missing key with 404 only
   * to such a caller and with 403 AccessDenied to others, so that a key's existence does not leak; the
   * gateway asks this before answering 404. Unchecked and unsigned callers may.
   */
  readonly mayListBucket = (request: BufferedRequest, bucket: string): boolean => {
    const caller = this.auth.authenticate(request, { s3: true });
    if (caller.kind !== 'user') return true;
    return this.auth.authorize(caller.user, { action: 's3:ListBucket', resource: `arn:aws:s3:::${bucket}`, context: {} }).decision === 'Allow';
  };
}

/** A SigV4 presigned URL past `X-Amz-Date` + `X-Amz-Expires` (the signature is not checked here). */
export function presignedUrlExpired(request: BufferedRequest, nowMs = Date.now()): boolean {
  const parsed = parseAuth(request);
  if (parsed?.kind !== 'query-v4') return false;
  const signedAt = parseAmzDate(parsed.amzDate);
  const expires = parsed.expiresSeconds;
  return signedAt !== undefined && expires !== undefined && Number.isFinite(expires) && nowMs > signedAt + expires * 1000;
}

/** Object sub-resources → [read action, write action, delete action]. */
const OBJECT_SUBRESOURCES: Record<string, [string, string, string]> = {
  acl: ['s3:GetObjectAcl', 's3:PutObjectAcl', 's3:PutObjectAcl'],
  tagging: ['s3:GetObjectTagging', 's3:PutObjectTagging', 's3:DeleteObjectTagging'],
  retention: ['s3:GetObjectRetention', 's3:PutObjectRetention', 's3:PutObjectRetention'],
  'legal-hold': ['s3:GetObjectLegalHold', 's3:PutObjectLegalHold', 's3:PutObjectLegalHold'],
  attributes: ['s3:GetObjectAttributes', 's3:GetObjectAttributes', 's3:GetObjectAttributes'],
  torrent: ['s3:GetObjectTorrent', 's3:GetObjectTorrent', 's3:GetObjectTorrent'],
};

/** Bucket sub-resources → [read action, write action, delete action]. */
const BUCKET_SUBRESOURCES: Record<string, [string, string, string]> = {
  location: ['s3:GetBucketLocation', 's3:GetBucketLocation', 's3:GetBucketLocation'],
  versions: ['s3:ListBucketVersions', 's3:ListBucketVersions', 's3:ListBucketVersions'],
  uploads: ['s3:ListBucketMultipartUploads', 's3:ListBucketMultipartUploads', 's3:ListBucketMultipartUploads'],
  acl: ['s3:GetBucketAcl', 's3:PutBucketAcl', 's3:PutBucketAcl'],
  policy: ['s3:GetBucketPolicy', 's3:PutBucketPolicy', 's3:DeleteBucketPolicy'],
  policyStatus: ['s3:GetBucketPolicyStatus', 's3:GetBucketPolicyStatus', 's3:GetBucketPolicyStatus'],
  lifecycle: ['s3:GetLifecycleConfiguration', 's3:PutLifecycleConfiguration', 's3:PutLifecycleConfiguration'],
  encryption: ['s3:GetEncryptionConfiguration', 's3:PutEncryptionConfiguration', 's3:PutEncryptionConfiguration'],
  publicAccessBlock: ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
  ownershipControls: ['s3:GetBucketOwnershipControls', 's3:PutBucketOwnershipControls', 's3:PutBucketOwnershipControls'],
  logging: ['s3:GetBucketLogging', 's3:PutBucketLogging', 's3:PutBucketLogging'],
  versioning: ['s3:GetBucketVersioning', 's3:PutBucketVersioning', 's3:PutBucketVersioning'],
  cors: ['s3:GetBucketCORS', 's3:PutBucketCORS', 's3:PutBucketCORS'],
  website: ['s3:GetBucketWebsite', 's3:PutBucketWebsite', 's3:DeleteBucketWebsite'],
  tagging: ['s3:GetBucketTagging', 's3:PutBucketTagging', 's3:PutBucketTagging'],
  notification: ['s3:GetBucketNotification', 's3:PutBucketNotification', 's3:PutBucketNotification'],
  'object-lock': ['s3:GetBucketObjectLockConfiguration', 's3:PutBucketObjectLockConfiguration', 's3:PutBucketObjectLockConfiguration'],
  requestPayment: ['s3:GetBucketRequestPayment', 's3:PutBucketRequestPayment', 's3:PutBucketRequestPayment'],
  accelerate: ['s3:GetAccelerateConfiguration', 's3:PutAccelerateConfiguration', 's3:PutAccelerateConfiguration'],
  replication: ['s3:GetReplicationConfiguration', 's3:PutReplicationConfiguration', 's3:PutReplicationConfiguration'],
  analytics: ['s3:GetAnalyticsConfiguration', 's3:PutAnalyticsConfiguration', 's3:PutAnalyticsConfiguration'],
  metrics: ['s3:GetMetricsConfiguration', 's3:PutMetricsConfiguration', 's3:PutMetricsConfiguration'],
  inventory: ['s3:GetInventoryConfiguration', 's3:PutInventoryConfiguration', 's3:PutInventoryConfiguration'],
  'intelligent-tiering': ['s3:GetIntelligentTieringConfiguration', 's3:PutIntelligentTieringConfiguration', 's3:PutIntelligentTieringConfiguration'],
};

const SIGNING_PARAMS = new Set(['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders', 'x-amz-signature', 'x-amz-security-token', 'awsaccesskeyid', 'signature', 'expires', 'x-id']);

/** S3's answer to a path that is not valid percent-encoded UTF-8. */
export function invalidUri(): LocalResponse {
  return s3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
}

/**
 * What IAM must allow for an S3 request: its action(s) and resource(s), with the condition keys S3
 * provides (`s3:prefix`, `s3:delimiter`, `s3:max-keys` on listings; absent `prefix` = ""). A copy also
 * needs `s3:GetObject` on its source; a multi-object delete needs `s3:DeleteObject` on every key.
 * The bucket and key are the gateway's own reading of the request (`s3Target`), so a policy is evaluated
 * on exactly the key that is then stored or read.
 */
export function s3Authorizations(request: BufferedRequest, target: S3Target | undefined = s3Target(request)): AuthorizationRequest[] {
  if (!target) throw new Error('s3Authorizations: the request path is not valid percent-encoding');
  const { bucket, key } = target;
  const query = queryParams(request.url).filter(([k]) => !SIGNING_PARAMS.has(k.toLowerCase()));
  const has = (name: string) => query.some(([k]) => k === name);
  const param = (name: string) => query.find(([k]) => k === name)?.[1];
  const method = request.method.toUpperCase();
  const signatureVersion = request.headers.authorization?.startsWith('AWS ') || has('AWSAccessKeyId') ? 'AWS' : 'AWS4-HMAC-SHA256';
  const common = {
    's3:signatureversion': signatureVersion,
    's3:authType': request.headers.authorization ? 'REST-HEADER' : 'REST-QUERY-STRING',
    ...(request.headers['x-amz-content-sha256'] ? { 's3:x-amz-content-sha256': request.headers['x-amz-content-sha256'] } : {}),
  };
  const pick = (actions: [string, string, string]) => (method === 'GET' || method === 'HEAD' ? actions[0] : method === 'DELETE' ? actions[2] : actions[1]);

  if (!bucket) return [{ action: 's3:ListAllMyBuckets', resource: 'arn:aws:s3:::*', context: common }];

  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (!key) {
    const sub = Object.keys(BUCKET_SUBRESOURCES).find(has);
    if (sub) return [{ action: pick(BUCKET_SUBRESOURCES[sub]!), resource: bucketArn, context: common }];
    if (method === 'POST' && has('delete')) {
      // The same reading of the document as the delete itself; one it cannot read is checked as every key.
      const keys = parseDeleteRequest(request.body.toString('utf8'))?.objects.map((o) => o.key) ?? ['*'];
      return keys.map((k) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${k}`, context: common }));
    }
    switch (method) {
      case 'GET':
      case 'HEAD':
        return [{
          action: 's3:ListBucket',
          resource: bucketArn,
          context: {
            ...common,
            's3:prefix': param('prefix') ?? '',
            ...(param('delimiter') !== undefined ? { 's3:delimiter': param('delimiter') } : {}),
            ...(param('max-keys') !== undefined ? { 's3:max-keys': param('max-keys') } : {}),
          },
        }];
      case 'PUT':
        return [{ action: 's3:CreateBucket', resource: bucketArn, context: common }];
      case 'DELETE':
        return [{ action: 's3:DeleteBucket', resource: bucketArn, context: common }];
      default:
        // A browser form upload (POST to the bucket) carries its key and policy in the form, not checked here.
        return [{ action: 's3:PutObject', resource: `${bucketArn}/*`, context: common }];
    }
  }

  const objectArn = `${bucketArn}/${key}`;
  const sub = Object.keys(OBJECT_SUBRESOURCES).find(has);
  if (sub) return [{ action: pick(OBJECT_SUBRESOURCES[sub]!), resource: objectArn, context: common }];
  const versioned = has('versionId');
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (has('uploadId')) return [{ action: 's3:ListMultipartUploadParts', resource: objectArn, context: common }];
      return [{ action: versioned ? 's3:GetObjectVersion' : 's3:GetObject', resource: objectArn, context: common }];
    case 'DELETE':
      if (has('uploadId')) return [{ action: 's3:AbortMultipartUpload', resource: objectArn, context: common }];
      return [{ action: versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: objectArn, context: common }];
    case 'POST':
      if (has('restore')) return [{ action: 's3:RestoreObject', resource: objectArn, context: common }];
      if (has('select')) return [{ action: 's3:GetObject', resource: objectArn, context: common }];
      return [{ action: 's3:PutObject', resource: objectArn, context: common }]; // multipart create / complete
    default: {
      const put: AuthorizationRequest = { action: 's3:PutObject', resource: objectArn, context: common };
      const header = request.headers['x-amz-copy-source'];
      if (header === undefined) return [put];
      // An unreadable source is checked as every object; the gateway then refuses the copy.
      const source = parseCopySource(header);
      const sourceArn = source ? `arn:aws:s3:::${source.bucket}/${source.key}` : 'arn:aws:s3:::*';
      const sourceAction = source?.versionId !== undefined ? 's3:GetObjectVersion' : 's3:GetObject';
      return [put, { action: sourceAction, resource: sourceArn, context: common }];
    }
  }
}
