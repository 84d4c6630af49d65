import { QueryError } from '../aws-protocol/errors';
import type { BufferedRequest } from '../aws-protocol/http';
import { evaluatePolicies, parsePolicyDocument, type AuthorizationRequest, type Evaluation, type PolicyDocument } from './iam-policy';
import { parseAuth, verifySignature, type ParsedAuth, type VerifyFailure } from './sigv4';

/**
 * Who signed a request, and what they may do: the authentication and authorization every service of the
 * local cloud shares. The keys and their principals come from a `CredentialStore` (the local IAM is one);
 * services take the store as a constructor argument and never depend on IAM itself.
 *
 * Keys the store issued (`AKIA…`) are real credentials locally: the signature must verify with the key's
 * secret and the principal's identity policies must allow the action. Requests signed with any other key
 * id (`test`, `local`, …) are the stack's own callers and pass unchecked, as on LocalStack.
 */

/** The identity behind an access key, with what authorization needs of it. */
export interface Principal {
  arn: string;
  userId: string;
  userName: string;
  tags: ReadonlyArray<{ Key: string; Value: string }>;
  /** Identity-based policy documents, as stored (JSON text). */
  policies: readonly string[];
}

/** An access key a store issued. */
export interface StoredCredential {
  accessKeyId: string;
  secretAccessKey: string;
  status: 'Active' | 'Inactive';
  principal: Principal;
}

/** Access key id → secret, status and principal; the local IAM implements it. */
export interface CredentialStore {
  readonly accountId: string;
  /** The key, if this store issued it (whatever its status). */
  credential(accessKeyId: string): StoredCredential | undefined;
  /** Notes that a key was used (IAM's GetAccessKeyLastUsed). */
  recordUse(accessKeyId: string, service: string, region: string): void;
}

/** Who signed a request, as far as the local cloud cares. */
export type Caller =
  | { kind: 'anonymous' }
  /** Any key id the store did not issue and that does not look like an IAM user key: not checked. */
  | { kind: 'unchecked'; accessKeyId: string }
  | { kind: 'user'; user: Principal; accessKeyId: string; auth: ParsedAuth }
  | ({ kind: 'rejected'; accessKeyId: string } & VerifyFailure);

export type RejectedCaller = Extract<Caller, { kind: 'rejected' }>;
export type UserCaller = Extract<Caller, { kind: 'user' }>;

/** Key ids checked against the store: the shape of long-term IAM user keys. */
export function isIamUserKeyId(accessKeyId: string): boolean {
  return accessKeyId.startsWith('AKIA');
}

export class Authenticator {
  /** Parsed policy documents by their text (every request of an issued key evaluates them). */
  private readonly parsedPolicies = new Map<string, PolicyDocument>();

  constructor(
    private readonly store: CredentialStore,
    private readonly now: () => number = Date.now,
  ) {}

  get accountId(): string {
    return this.store.accountId;
  }

  /**
   * Authenticates a signed request: unsigned → anonymous; a key id not shaped like an IAM user key →
   * unchecked; an `AKIA…` key must be one the store issued, Active, and the signature must verify.
   */
  authenticate(request: BufferedRequest, options: { s3?: boolean } = {}): Caller {
    const parsed = parseAuth(request);
    if (!parsed) return { kind: 'anonymous' };
    if (!isIamUserKeyId(parsed.accessKeyId)) return { kind: 'unchecked', accessKeyId: parsed.accessKeyId };
    const key = this.store.credential(parsed.accessKeyId);
    if (!key || key.status !== 'Active') {
      return { kind: 'rejected', accessKeyId: parsed.accessKeyId, status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
    }
    const verified = verifySignature(request, parsed, key.secretAccessKey, { s3: options.s3, nowMs: this.now() });
    if (!verified.ok) return { kind: 'rejected', accessKeyId: parsed.accessKeyId, status: verified.status, code: verified.code, message: verified.message, ...(verified.details ? { details: verified.details } : {}) };
    return { kind: 'user', user: key.principal, accessKeyId: key.accessKeyId, auth: parsed };
  }

  /** Evaluates a principal's identity policies for one action on one resource. */
  authorize(user: Principal, request: AuthorizationRequest): Evaluation {
    const policies: PolicyDocument[] = [];
    for (const text of user.policies) {
      let parsed = this.parsedPolicies.get(text);
      if (!parsed) {
        try {
          parsed = parsePolicyDocument(text);
        } catch {
          continue; // stored documents were validated; an unreadable one grants nothing
        }
        if (this.parsedPolicies.size > 1000) this.parsedPolicies.clear();
        this.parsedPolicies.set(text, parsed);
      }
      policies.push(parsed);
    }
    const context = {
      'aws:username': user.userName,
      'aws:userid': user.userId,
      'aws:PrincipalArn': user.arn,
      'aws:PrincipalAccount': this.store.accountId,
      'aws:PrincipalType': 'User',
      'aws:SecureTransport': 'false',
      'aws:SourceIp': '127.0.0.1',
      'aws:CurrentTime': new Date(this.now()).toISOString(),
      'aws:EpochTime': String(Math.floor(this.now() / 1000)),
      ...(user.tags.length ? Object.fromEntries(user.tags.map((t) => [`aws:PrincipalTag/${t.Key}`, t.Value])) : {}),
      ...request.context,
    };
    return evaluatePolicies(policies, { ...request, context });
  }

  /** Notes that the caller's key was used for `service`, in the region it signed for. */
  recordUse(caller: UserCaller, service: string, defaultRegion = 'us-east-1'): void {
    this.store.recordUse(caller.accessKeyId, service, caller.auth.scope?.region ?? defaultRegion);
  }
}

/** The message AWS gives when a policy refuses an action. */
export function deniedMessage(user: Principal, action: string, resource: string, evaluation: Evaluation): string {
  const why = evaluation.decision === 'ExplicitDeny' ? `with an explicit deny in an identity-based policy` : `because no identity-based policy allows the ${action} action`;
  return `User: ${user.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
}

const SIGNATURE_MISMATCH = 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/**
 * How a refused key or signature is reported outside S3 (S3 names the failure as verified): the query
 * protocol (IAM, STS) and the JSON protocols (Secrets Manager) name the same failures differently.
 */
export function rejection(caller: RejectedCaller, protocol: 'query' | 'json'): { code: string; status: number; message: string } {
  if (caller.code === 'InvalidAccessKeyId') {
    return { code: protocol === 'query' ? 'InvalidClientTokenId' : 'UnrecognizedClientException', status: protocol === 'query' ? 403 : 400, message: 'The security token included in the request is invalid.' };
  }
  if (caller.code === 'SignatureDoesNotMatch') {
    return { code: protocol === 'query' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException', status: protocol === 'query' ? 403 : 400, message: SIGNATURE_MISMATCH };
  }
  return { code: caller.code, status: caller.status, message: caller.message };
}

/** A refused key or signature as the query protocol (IAM, STS) answers it. */
export function queryRejection(caller: RejectedCaller): QueryError {
  const { code, status, message } = rejection(caller, 'query');
  return new QueryError(code, status, message);
}
