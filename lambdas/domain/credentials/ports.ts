/** The services the credentials logic uses, as small ports: the SDK adapters implement them, tests fake them. */

/** The credentials the API returns (DESIGN §6); the console reads the same shape. */
export interface ExportCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  prefix: string;
  region: string;
  s3Url: string;
  createdAt: string;
}

export interface AccessKey {
  accessKeyId: string;
  status: 'Active' | 'Inactive';
  createdAt: number;
}

export interface IamPort {
  /** Creates the user under `path` unless it exists. */
  ensureUser(userName: string, path: string, tags: Record<string, string>): Promise<void>;
  putUserPolicy(userName: string, policyName: string, document: string): Promise<void>;
  listAccessKeys(userName: string): Promise<AccessKey[]>;
  /** Throws {@link KeyLimitError} when the user has two keys already (IAM's limit). */
  createAccessKey(userName: string): Promise<{ accessKeyId: string; secretAccessKey: string; createdAt: number }>;
  /** Deleting a key that is gone already succeeds. */
  deleteAccessKey(userName: string, accessKeyId: string): Promise<void>;
}

export class KeyLimitError extends Error {
  override readonly name = 'KeyLimitError';
}

/** The secret of an OEM's current key, as kept in Secrets Manager. */
export interface StoredCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  createdAt: number;
}

export interface SecretsPort {
  get(name: string): Promise<StoredCredentials | undefined>;
  /** Creates the secret or stores a new version of it. */
  put(name: string, value: StoredCredentials): Promise<void>;
}

export interface LockPort {
  /** Takes the lock named `name` for `ttlMs` unless another holder has it: true when taken. */
  acquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
}
