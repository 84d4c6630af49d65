import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { evaluatePolicies, MalformedPolicyError, parsePolicyDocument, type AuthorizationRequest, type Evaluation, type PolicyDocument } from './iam-policy';
import type { BufferedRequest, LocalResponse } from './http-util';
import { parseAuth, verifySignature, type ParsedAuth, type VerifyFailure } from './sigv4';
import { StateWriter } from './state-file';

/**
 * IAM stand-in: users, inline user policies and access keys, over IAM's query API (form-encoded POST,
 * `Version=2010-05-08`, XML answers and errors in IAM's shapes), plus STS `GetCallerIdentity`.
 * State lives in one JSON file under the data directory (keys survive restarts; `--fresh` wipes them).
 *
 * Keys it issues (`AKIA…`) are real credentials locally: `authenticate` verifies a request signed with one,
 * and `authorize` evaluates its user's inline policies. Requests signed with any other key id (`test`,
 * `local`, …) are the stack's own callers and pass unchecked, as on LocalStack.
 */

export interface IamTag {
  Key: string;
  Value: string;
}

export interface IamUserRecord {
  userName: string;
  userId: string;
  path: string;
  arn: string;
  createDate: string;
  tags: IamTag[];
  /** Inline policies by name: the document as given. */
  policies: Record<string, string>;
}

export interface IamAccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  userName: string;
  status: 'Active' | 'Inactive';
  createDate: string;
  lastUsed?: { date: string; service: string; region: string };
}

interface IamState {
  /** By lower-case user name: IAM user names are unique regardless of case. */
  users: Record<string, IamUserRecord>;
  accessKeys: Record<string, IamAccessKeyRecord>;
}

/** IAM's per-user limit on access keys. */
export const ACCESS_KEYS_PER_USER = 2;
/** IAM's limit on the total size of a user's inline policies (characters, whitespace excluded). */
export const USER_INLINE_POLICY_SIZE = 2048;

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export class IamError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

/** Who signed a request, as far as the local cloud cares. */
export type Caller =
  | { kind: 'anonymous' }
  /** Any key id the local IAM did not issue and does not look like an IAM user key: not checked. */
  | { kind: 'unchecked'; accessKeyId: string }
  | { kind: 'user'; user: IamUserRecord; key: IamAccessKeyRecord; auth: ParsedAuth }
  | ({ kind: 'rejected'; accessKeyId: string } & VerifyFailure);

/** Key ids checked against the local IAM: the shape of long-term IAM user keys. */
export function isIamUserKeyId(accessKeyId: string): boolean {
  return accessKeyId.startsWith('AKIA');
}

export class LocalIam {
  private readonly state: IamState;
  private readonly writer: StateWriter;
  private lastUseTimer: NodeJS.Timeout | undefined;
  /** Parsed policy documents by their text (every S3 request of an issued key evaluates them). */
  private readonly parsedPolicies = new Map<string, PolicyDocument>();

  constructor(
    stateFile: string,
    readonly accountId: string,
    private readonly now: () => number = Date.now,
  ) {
    this.state = loadState(stateFile);
    this.writer = new StateWriter(stateFile);
  }

  // ---- identities -----------------------------------------------------------------------------------

  /**
   * Authenticates a signed request: unsigned → anonymous; a key id not shaped like an IAM user key →
   * unchecked; an `AKIA…` key must be one this IAM issued, Active, and the signature must verify.
   */
  authenticate(request: BufferedRequest, options: { s3?: boolean } = {}): Caller {
    const parsed = parseAuth(request);
    if (!parsed) return { kind: 'anonymous' };
    if (!isIamUserKeyId(parsed.accessKeyId)) return { kind: 'unchecked', accessKeyId: parsed.accessKeyId };
    const key = this.state.accessKeys[parsed.accessKeyId];
    const user = key && this.state.users[key.userName.toLowerCase()];
    if (!key || !user || key.status !== 'Active') {
      return { kind: 'rejected', accessKeyId: parsed.accessKeyId, status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
    }
    const verified = verifySignature(request, parsed, key.secretAccessKey, { s3: options.s3, nowMs: this.now() });
    if (!verified.ok) return { kind: 'rejected', accessKeyId: parsed.accessKeyId, status: verified.status, code: verified.code, message: verified.message, ...(verified.details ? { details: verified.details } : {}) };
    return { kind: 'user', user, key, auth: parsed };
  }

  /** Evaluates a user's inline policies for one action on one resource. */
  authorize(user: IamUserRecord, request: AuthorizationRequest): Evaluation {
    const policies: PolicyDocument[] = [];
    for (const text of Object.values(user.policies)) {
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
      'aws:PrincipalAccount': this.accountId,
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

  /** The message AWS gives when a policy refuses an action. */
  static deniedMessage(user: IamUserRecord, action: string, resource: string, evaluation: Evaluation): string {
    const why = evaluation.decision === 'ExplicitDeny' ? `with an explicit deny in an identity-based policy` : `because no identity-based policy allows the ${action} action`;
    return `User: ${user.arn} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  }

  /** Notes that a key was used (IAM's GetAccessKeyLastUsed); persisted lazily. */
  recordUse(accessKeyId: string, service: string, region: string): void {
    const key = this.state.accessKeys[accessKeyId];
    if (!key) return;
    key.lastUsed = { date: isoSeconds(this.now()), service, region };
    if (!this.lastUseTimer) {
      this.lastUseTimer = setTimeout(() => {
        this.lastUseTimer = undefined;
        void this.persist().catch(() => undefined);
      }, 1000);
      this.lastUseTimer.unref();
    }
  }

  /** A key by id (tests, tools). */
  accessKey(accessKeyId: string): Readonly<IamAccessKeyRecord> | undefined {
    return this.state.accessKeys[accessKeyId];
  }

  user(userName: string): Readonly<IamUserRecord> | undefined {
    return this.state.users[userName.toLowerCase()];
  }

  /** Writes pending state (last-used times) and stops the timer. */
  async close(): Promise<void> {
    if (this.lastUseTimer) {
      clearTimeout(this.lastUseTimer);
      this.lastUseTimer = undefined;
      await this.persist();
    }
    await this.writer.settled();
  }

  // ---- operations (IAM semantics; throw IamError) --------------------------------------------------

  createUser(userName: string, path = '/', tags: IamTag[] = []): IamUserRecord {
    validateName(userName, 'userName', 64);
    validatePath(path, 'path');
    if (tags.length > 50) throw validation(`Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50`);
    if (this.state.users[userName.toLowerCase()]) throw new IamError('EntityAlreadyExists', 409, `User with name ${userName} already exists.`);
    const user: IamUserRecord = {
      userName,
      userId: `AIDA${randomId(17)}`,
      path,
      arn: `arn:aws:iam::${this.accountId}:user${path}${userName}`,
      createDate: isoSeconds(this.now()),
      tags,
      policies: {},
    };
    this.state.users[userName.toLowerCase()] = user;
    return user;
  }

  getUser(userName: string): IamUserRecord {
    validateName(userName, 'userName', 128);
    const user = this.state.users[userName.toLowerCase()];
    if (!user) throw new IamError('NoSuchEntity', 404, `The user with name ${userName} cannot be found.`);
    return user;
  }

  listUsers(pathPrefix = '/'): IamUserRecord[] {
    validatePath(pathPrefix, 'pathPrefix', true);
    return Object.values(this.state.users)
      .filter((u) => u.path.startsWith(pathPrefix))
      .sort((a, b) => (a.userName.toLowerCase() < b.userName.toLowerCase() ? -1 : 1));
  }

  deleteUser(userName: string): void {
    const user = this.getUser(userName);
    if (Object.keys(user.policies).length > 0) throw new IamError('DeleteConflict', 409, 'Cannot delete entity, must delete policies first.');
    if (this.keysOf(user).length > 0) throw new IamError('DeleteConflict', 409, 'Cannot delete entity, must delete access keys first.');
    delete this.state.users[user.userName.toLowerCase()];
  }

  tagUser(userName: string, tags: IamTag[]): void {
    const user = this.getUser(userName);
    const merged = [...user.tags.filter((t) => !tags.some((n) => n.Key === t.Key)), ...tags];
    if (merged.length > 50) throw new IamError('LimitExceeded', 409, 'The number of tags has reached the maximum limit.');
    user.tags = merged;
  }

  untagUser(userName: string, keys: string[]): void {
    const user = this.getUser(userName);
    user.tags = user.tags.filter((t) => !keys.includes(t.Key));
  }

  putUserPolicy(userName: string, policyName: string, document: string): void {
    const user = this.getUser(userName);
    validateName(policyName, 'policyName', 128);
    if (!document) throw validation(`Value null at 'policyDocument' failed to satisfy constraint: Member must not be null`);
    let parsed: PolicyDocument;
    try {
      parsed = parsePolicyDocument(document);
    } catch (error) {
      if (error instanceof MalformedPolicyError) throw new IamError('MalformedPolicyDocument', 400, error.message);
      throw error;
    }
    const sizes = Object.entries(user.policies)
      .filter(([name]) => name !== policyName)
      .reduce((sum, [, text]) => sum + policySize(text), policySize(JSON.stringify(parsed)));
    if (sizes > USER_INLINE_POLICY_SIZE) {
      throw new IamError('LimitExceeded', 409, `Maximum policy size of ${USER_INLINE_POLICY_SIZE} bytes exceeded for user ${user.userName}`);
    }
    user.policies[policyName] = document;
  }

  getUserPolicy(userName: string, policyName: string): string {
    const user = this.getUser(userName);
    const document = user.policies[policyName];
    if (document === undefined) throw new IamError('NoSuchEntity', 404, `The user policy with name ${policyName} cannot be found.`);
    return document;
  }

  listUserPolicies(userName: string): string[] {
    return Object.keys(this.getUser(userName).policies).sort();
  }

  deleteUserPolicy(userName: string, policyName: string): void {
    const user = this.getUser(userName);
    if (user.policies[policyName] === undefined) throw new IamError('NoSuchEntity', 404, `The user policy with name ${policyName} cannot be found.`);
    delete user.policies[policyName];
  }

  createAccessKey(userName: string): IamAccessKeyRecord {
    const user = this.getUser(userName);
    if (this.keysOf(user).length >= ACCESS_KEYS_PER_USER) {
      throw new IamError('LimitExceeded', 409, `Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`);
    }
    let accessKeyId: string;
    do accessKeyId = `AKIA${randomId(16)}`;
    while (this.state.accessKeys[accessKeyId]);
    const key: IamAccessKeyRecord = {
      accessKeyId,
      secretAccessKey: randomSecret(),
      userName: user.userName,
      status: 'Active',
      createDate: isoSeconds(this.now()),
    };
    this.state.accessKeys[accessKeyId] = key;
    return key;
  }

  listAccessKeys(userName: string): IamAccessKeyRecord[] {
    return this.keysOf(this.getUser(userName));
  }

  updateAccessKey(userName: string, accessKeyId: string, status: string): void {
    if (status !== 'Active' && status !== 'Inactive') {
      throw validation(`Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`);
    }
    this.keyOf(userName, accessKeyId).status = status;
  }

  deleteAccessKey(userName: string, accessKeyId: string): void {
    const key = this.keyOf(userName, accessKeyId);
    delete this.state.accessKeys[key.accessKeyId];
  }

  getAccessKeyLastUsed(accessKeyId: string): IamAccessKeyRecord {
    validateAccessKeyId(accessKeyId);
    const key = this.state.accessKeys[accessKeyId];
    if (!key) throw new IamError('NoSuchEntity', 404, `The Access Key with id ${accessKeyId} cannot be found.`);
    return key;
  }

  private keyOf(userName: string, accessKeyId: string): IamAccessKeyRecord {
    validateAccessKeyId(accessKeyId);
    const user = this.getUser(userName);
    const key = this.state.accessKeys[accessKeyId];
    if (!key || key.userName.toLowerCase() !== user.userName.toLowerCase()) {
      throw new IamError('NoSuchEntity', 404, `The Access Key with id ${accessKeyId} cannot be found.`);
    }
    return key;
  }

  private keysOf(user: IamUserRecord): IamAccessKeyRecord[] {
    return Object.values(this.state.accessKeys)
      .filter((k) => k.userName.toLowerCase() === user.userName.toLowerCase())
      .sort((a, b) => (a.createDate < b.createDate ? -1 : a.createDate > b.createDate ? 1 : 0));
  }

  /** Writes the state (whole file, atomically); writes are serialized. */
  persist(): Promise<void> {
    return this.writer.write(this.state);
  }

  // ---- HTTP (query protocol) ----------------------------------------------------------------------

  /** The IAM endpoint: `POST /` with a form-encoded body (or the same parameters in the query string). */
  readonly handle = async (request: BufferedRequest): Promise<LocalResponse> => {
    const params = queryProtocolParams(request);
    const action = params.get('Action') ?? '';
    const requestId = randomUUID();
    try {
      const caller = this.authenticate(request);
      if (caller.kind === 'rejected') throw rejectedError(caller);
      const self = caller.kind === 'user' ? caller.user.userName : undefined;
      /** IAM's default user for key operations: the caller's own. */
      const userParam = (required: boolean) => {
        const name = params.get('UserName');
        if (name) return name;
        if (!required && self) return self;
        if (!required) throw validation('Must specify userName when calling with non-User credentials');
        throw validation(`Value null at 'userName' failed to satisfy constraint: Member must not be null`);
      };
      const required = (name: string, member: string) => {
        const value = params.get(name);
        if (value === undefined || value === '') throw validation(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
        return value;
      };
      if (caller.kind === 'user') {
        const target = params.get('UserName') ?? (action === 'GetUser' || /AccessKey/.test(action) ? self : undefined);
        const targetUser = target ? this.state.users[target.toLowerCase()] : undefined;
        const resource = targetUser?.arn ?? (target ? `arn:aws:iam::${this.accountId}:user/${target}` : `arn:aws:iam::${this.accountId}:user/*`);
        const evaluation = this.authorize(caller.user, { action: `iam:${action}`, resource });
        if (evaluation.decision !== 'Allow') throw new IamError('AccessDenied', 403, LocalIam.deniedMessage(caller.user, `iam:${action}`, resource, evaluation));
        this.recordUse(caller.key.accessKeyId, 'iam', caller.auth.scope?.region ?? 'us-east-1');
      }

      let result: string;
      let changed = true;
      switch (action) {
        case 'CreateUser': {
          const user = this.createUser(required('UserName', 'userName'), params.get('Path') || '/', listParam(params, 'Tags').map(tagOf));
          result = xmlNode('User', userXml(user, true));
          break;
        }
        case 'GetUser': {
          const name = params.get('UserName') ?? self;
          if (!name) throw validation('Must specify userName when calling with non-User credentials');
          result = xmlNode('User', userXml(this.getUser(name), true));
          changed = false;
          break;
        }
        case 'ListUsers': {
          const page = paginate(this.listUsers(params.get('PathPrefix') || '/'), params);
          result = xmlNode('Users', page.items.map((u) => xmlNode('member', userXml(u, false))).join('')) + page.xml;
          changed = false;
          break;
        }
        case 'DeleteUser':
          this.deleteUser(required('UserName', 'userName'));
          result = '';
          break;
        case 'TagUser':
          this.tagUser(required('UserName', 'userName'), listParam(params, 'Tags').map(tagOf));
          result = '';
          break;
        case 'UntagUser':
          this.untagUser(required('UserName', 'userName'), listParam(params, 'TagKeys').map((m) => m[''] ?? ''));
          result = '';
          break;
        case 'ListUserTags': {
          const page = paginate(this.getUser(required('UserName', 'userName')).tags, params);
          result = xmlNode('Tags', page.items.map((t) => xmlNode('member', tagXml(t))).join('')) + page.xml;
          changed = false;
          break;
        }
        case 'PutUserPolicy':
          this.putUserPolicy(required('UserName', 'userName'), required('PolicyName', 'policyName'), required('PolicyDocument', 'policyDocument'));
          result = '';
          break;
        case 'GetUserPolicy': {
          const userName = required('UserName', 'userName');
          const policyName = required('PolicyName', 'policyName');
          const document = this.getUserPolicy(userName, policyName);
          const user = this.getUser(userName);
          result = xmlElement('UserName', user.userName) + xmlElement('PolicyName', policyName) + xmlElement('PolicyDocument', encodeURIComponent(document));
          changed = false;
          break;
        }
        case 'ListUserPolicies': {
          const page = paginate(this.listUserPolicies(required('UserName', 'userName')), params);
          result = xmlNode('PolicyNames', page.items.map((n) => xmlElement('member', n)).join('')) + page.xml;
          changed = false;
          break;
        }
        case 'DeleteUserPolicy':
          this.deleteUserPolicy(required('UserName', 'userName'), required('PolicyName', 'policyName'));
          result = '';
          break;
        case 'CreateAccessKey': {
          const key = this.createAccessKey(userParam(false));
          result = xmlNode('AccessKey', accessKeyXml(key) + xmlElement('SecretAccessKey', key.secretAccessKey));
          break;
        }
        case 'ListAccessKeys': {
          const name = userParam(false);
          const page = paginate(this.listAccessKeys(name), params);
          result = xmlNode('AccessKeyMetadata', page.items.map((k) => xmlNode('member', accessKeyXml(k))).join('')) + page.xml
            + xmlElement('UserName', this.getUser(name).userName);
          changed = false;
          break;
        }
        case 'UpdateAccessKey':
          this.updateAccessKey(userParam(false), required('AccessKeyId', 'accessKeyId'), required('Status', 'status'));
          result = '';
          break;
        case 'DeleteAccessKey':
          this.deleteAccessKey(userParam(false), required('AccessKeyId', 'accessKeyId'));
          result = '';
          break;
        case 'GetAccessKeyLastUsed': {
          const key = this.getAccessKeyLastUsed(required('AccessKeyId', 'accessKeyId'));
          const used = key.lastUsed;
          result = xmlElement('UserName', key.userName) + xmlNode('AccessKeyLastUsed', used
            ? xmlElement('LastUsedDate', used.date) + xmlElement('ServiceName', used.service) + xmlElement('Region', used.region)
            : xmlElement('ServiceName', 'N/A') + xmlElement('Region', 'N/A'));
          changed = false;
          break;
        }
        default:
          throw new IamError('InvalidAction', 400, `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
      }
      if (changed) await this.persist();
      return queryResponse(IAM_NS, action, result, requestId);
    } catch (error) {
      if (error instanceof IamError) return queryError(IAM_NS, error, requestId);
      throw error;
    }
  };

  /** STS: only `GetCallerIdentity` (who am I), enough for `aws sts get-caller-identity` with a local key. */
  readonly handleSts = async (request: BufferedRequest): Promise<LocalResponse> => {
    const params = queryProtocolParams(request);
    const action = params.get('Action') ?? '';
    const requestId = randomUUID();
    const caller = this.authenticate(request);
    if (caller.kind === 'rejected') {
      return queryError(STS_NS, rejectedError(caller), requestId);
    }
    if (action !== 'GetCallerIdentity') {
      return queryError(STS_NS, new IamError('InvalidAction', 400, `The local cloud's STS answers GetCallerIdentity only, not ${action}.`), requestId);
    }
    if (caller.kind === 'user') this.recordUse(caller.key.accessKeyId, 'sts', caller.auth.scope?.region ?? 'us-east-1');
    const identity = caller.kind === 'user'
      ? { arn: caller.user.arn, userId: caller.user.userId }
      : { arn: `arn:aws:iam::${this.accountId}:root`, userId: this.accountId };
    return queryResponse(STS_NS, action, xmlElement('Arn', identity.arn) + xmlElement('UserId', identity.userId) + xmlElement('Account', this.accountId), requestId);
  };
}

function rejectedError(caller: Extract<Caller, { kind: 'rejected' }>): IamError {
  if (caller.code === 'InvalidAccessKeyId') return new IamError('InvalidClientTokenId', 403, 'The security token included in the request is invalid.');
  if (caller.code === 'SignatureDoesNotMatch') {
    return new IamError('SignatureDoesNotMatch', 403, 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
  }
  return new IamError(caller.code, caller.status, caller.message);
}

function loadState(file: string): IamState {
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as Partial<IamState>;
    return { users: state.users ?? {}, accessKeys: state.accessKeys ?? {} };
  } catch {
    return { users: {}, accessKeys: {} };
  }
}

function validation(message: string): IamError {
  return new IamError('ValidationError', 400, message.startsWith('Must') ? message : `1 validation error detected: ${message}`);
}

function validateName(value: string, member: string, max: number): void {
  if (!/^[\w+=,.@-]+$/.test(value)) {
    throw validation(`Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
  }
  if (value.length > max) throw validation(`Value '${value}' at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
}

function validatePath(value: string, member: string, prefix = false): void {
  const ok = prefix ? /^\/[\u0021-\u007e]*$/.test(value) : value === '/' || /^\/[\u0021-\u007e]+\/$/.test(value);
  if (!ok || value.length > 512) {
    throw validation(`Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${prefix ? '\\u002F[\\u0021-\\u007F]*' : '(\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)'}`);
  }
}

function validateAccessKeyId(value: string): void {
  if (!/^\w{16,128}$/.test(value)) {
    throw validation(`Value '${value}' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+`);
  }
}

function policySize(text: string): number {
  try {
    return JSON.stringify(JSON.parse(text)).length;
  } catch {
    return text.length;
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function randomId(length: number): string {
  return Array.from({ length }, () => ID_ALPHABET[randomInt(ID_ALPHABET.length)]).join('');
}

function randomSecret(): string {
  return [...randomBytes(40)].map((b) => SECRET_ALPHABET[b & 63]).join('');
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The parameters of a query-protocol request: the form body, else the query string. */
export function queryProtocolParams(request: BufferedRequest): Map<string, string> {
  const params = new Map<string, string>();
  const at = request.url.indexOf('?');
  if (at >= 0) for (const [k, v] of new URLSearchParams(request.url.slice(at + 1))) params.set(k, v);
  if (request.body.length > 0) for (const [k, v] of new URLSearchParams(request.body.toString('utf8'))) params.set(k, v);
  return params;
}

/** `Tags.member.1.Key=a&Tags.member.1.Value=b` → `[{ Key: 'a', Value: 'b' }]`; `TagKeys.member.1=a` → `[{ '': 'a' }]`. */
function listParam(params: Map<string, string>, name: string): Array<Record<string, string>> {
  const members = new Map<number, Record<string, string>>();
  const pattern = new RegExp(`^${name}\\.member\\.(\\d+)(?:\\.(\\w+))?$`);
  for (const [key, value] of params) {
    const m = pattern.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    const member = members.get(index) ?? {};
    member[m[2] ?? ''] = value;
    members.set(index, member);
  }
  return [...members.entries()].sort(([a], [b]) => a - b).map(([, m]) => m);
}

function tagOf(member: Record<string, string>): IamTag {
  if (member.Key === undefined) throw validation(`Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null`);
  return { Key: member.Key, Value: member.Value ?? '' };
}

function paginate<T>(items: T[], params: Map<string, string>): { items: T[]; xml: string } {
  const max = Number(params.get('MaxItems') ?? '100');
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw validation(`Value '${params.get('MaxItems')}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  }
  const marker = params.get('Marker');
  const start = marker ? Number(Buffer.from(marker, 'base64').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) throw validation('Invalid Marker.');
  const page = items.slice(start, start + max);
  const truncated = start + max < items.length;
  return {
    items: page,
    xml: xmlElement('IsTruncated', String(truncated)) + (truncated ? xmlElement('Marker', Buffer.from(String(start + max)).toString('base64')) : ''),
  };
}

function userXml(user: IamUserRecord, withTags: boolean): string {
  return xmlElement('Path', user.path) + xmlElement('UserName', user.userName) + xmlElement('UserId', user.userId)
    + xmlElement('Arn', user.arn) + xmlElement('CreateDate', user.createDate)
    + (withTags && user.tags.length ? xmlNode('Tags', user.tags.map((t) => xmlNode('member', tagXml(t))).join('')) : '');
}

function tagXml(tag: IamTag): string {
  return xmlElement('Key', tag.Key) + xmlElement('Value', tag.Value);
}

function accessKeyXml(key: IamAccessKeyRecord): string {
  return xmlElement('UserName', key.userName) + xmlElement('AccessKeyId', key.accessKeyId) + xmlElement('Status', key.status) + xmlElement('CreateDate', key.createDate);
}

export function xmlEscape(value: string): string {
  return value.replace(/[<>&'"\r]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;', '\r': '&#13;' })[c]!);
}

/** An element with text content. */
function xmlElement(name: string, text: string): string {
  return `<${name}>${xmlEscape(text)}</${name}>`;
}

/** An element with child elements (already XML). */
function xmlNode(name: string, children: string): string {
  return `<${name}>${children}</${name}>`;
}

function queryResponse(namespace: string, action: string, result: string, requestId: string): LocalResponse {
  const body = `<${action}Response xmlns="${namespace}">\n${result ? `  <${action}Result>${result}</${action}Result>\n` : ''}  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`;
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

function queryError(namespace: string, error: IamError, requestId: string): LocalResponse {
  const body = `<ErrorResponse xmlns="${namespace}">\n  <Error>\n    <Type>${error.type}</Type>\n    <Code>${error.code}</Code>\n    <Message>${xmlEscape(error.message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
  return { status: error.status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}
