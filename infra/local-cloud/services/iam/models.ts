import { MalformedPolicyError, parsePolicyDocument, type PolicyDocument } from '../../auth/iam-policy';
import type { CredentialStore, StoredCredential } from '../../auth/credentials';
import { QueryError } from '../../aws-protocol/errors';
import { readState, StateWriter } from '../../aws-protocol/state-file';
import { randomString } from '../../aws-protocol/util';

/**
 * IAM's state and rules: users, inline user policies and access keys, with IAM's names, limits and
 * errors. State lives in one JSON file under the data directory (keys survive restarts; `--fresh` wipes
 * them). It is the local cloud's `CredentialStore`: the keys it issues (`AKIA…`) are checked by S3,
 * Secrets Manager, STS and IAM itself (see auth/credentials.ts). The query protocol is in responses.ts.
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
  /** The managed policy ARN set as the user's permissions boundary, if any. */
  permissionsBoundary?: string;
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

/** An IAM error: its code, HTTP status and fault, answered in the query protocol's XML. */
export class IamError extends QueryError {}

export class LocalIam implements CredentialStore {
  private readonly state: IamState;
  private readonly writer: StateWriter;
  private lastUseTimer: NodeJS.Timeout | undefined;

  constructor(
    stateFile: string,
    readonly accountId: string,
    private readonly now: () => number = Date.now,
  ) {
    const loaded = readState<Partial<IamState> | null>(stateFile, null) ?? {};
    this.state = { users: loaded.users ?? {}, accessKeys: loaded.accessKeys ?? {} };
    this.writer = new StateWriter(stateFile);
  }

  // ---- identities (the CredentialStore) ---------------------------------------------------------------

  /** An issued key with its user, as the services authenticate it; undefined once the key or user is gone. */
  credential(accessKeyId: string): StoredCredential | undefined {
    const key = this.state.accessKeys[accessKeyId];
    const user = key && this.state.users[key.userName.toLowerCase()];
    if (!key || !user) return undefined;
    return {
      accessKeyId,
      secretAccessKey: key.secretAccessKey,
      status: key.status,
      principal: { arn: user.arn, userId: user.userId, userName: user.userName, tags: user.tags, policies: Object.values(user.policies) },
    };
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

  createUser(userName: string, path = '/', tags: IamTag[] = [], permissionsBoundary?: string): IamUserRecord {
    validateName(userName, 'userName', 64);
    validatePath(path, 'path');
    if (permissionsBoundary !== undefined) validatePolicyArn(permissionsBoundary);
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
      ...(permissionsBoundary !== undefined ? { permissionsBoundary } : {}),
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

  /** Sets (or replaces) the user's permissions boundary: a managed policy ARN. */
  putUserPermissionsBoundary(userName: string, policyArn: string): void {
    const user = this.getUser(userName);
    validatePolicyArn(policyArn);
    user.permissionsBoundary = policyArn;
  }

  deleteUserPermissionsBoundary(userName: string): void {
    const user = this.getUser(userName);
    delete user.permissionsBoundary;
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
}

/** IAM's ValidationError, worded as IAM words it. */
export function validation(message: string): IamError {
  return new IamError('ValidationError', 400, message.startsWith('Must') ? message : `1 validation error detected: ${message}`);
}

function validateName(value: string, member: string, max: number): void {
  if (!/^[\w+=,.@-]+$/.test(value)) {
    throw validation(`Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
  }
  if (value.length > max) throw validation(`Value '${value}' at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
}

/** A managed policy's ARN (customer managed `arn:aws:iam::<account>:policy/…` or AWS managed `arn:aws:iam::aws:policy/…`). */
function validatePolicyArn(value: string): void {
  if (!/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]{1,512}$/.test(value)) {
    throw new IamError('InvalidInput', 400, `ARN ${value} is not valid.`);
  }
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

const randomId = (length: number) => randomString(length, ID_ALPHABET);
const randomSecret = () => randomString(40, SECRET_ALPHABET);

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

