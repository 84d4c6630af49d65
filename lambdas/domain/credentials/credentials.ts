import { randomUUID } from 'node:crypto';
import { ConflictError } from '../../shared/http';
import { exportReadPolicy } from './policy';
import { KeyLimitError, type ExportCredentials, type IamPort, type LockPort, type SecretsPort, type StoredCredentials } from './ports';

export type { ExportCredentials } from './ports';

export interface CredentialsSettings {
  bucket: string;
  region: string;
  /** IAM path of the stack's export users, e.g. `/DevicePipeline/oem-export/`. */
  iamPath: string;
  /** Secret name prefix, e.g. `DevicePipeline/oem-export/`. */
  secretPrefix: string;
  partition?: string;
  /** How long to wait for a concurrent change of the same OEM's credentials before answering 409. */
  lockWaitMs?: number;
}


export const POLICY_NAME = 'export-read';
/** Longer than the function's timeout: a crashed holder's lock expires by itself. */
const LOCK_TTL_MS = 60_000;

export const userNameOf = (oemId: string) => `oem-export-${oemId}`;

/**
 * One IAM user per OEM with a read-only policy on its export prefix, and one active access key whose
 * secret lives in Secrets Manager. Changes of an OEM's credentials are serialized by a lock, and
 * every step leaves a state the next call repairs:
 * - the key the secret names is the current one; any other key of the user is a leftover (a crash
 *   between creating a key and recording it, or between recording it and deleting the old one) and
 *   is deleted;
 * - a refresh creates the new key (after deleting leftovers, so IAM's two-key limit is never hit),
 *   records it, then deletes every other key: the old key stops working at once.
 */
export class CredentialsService {
  constructor(
    private readonly iam: IamPort,
    private readonly secrets: SecretsPort,
    private readonly locks: LockPort,
    private readonly settings: CredentialsSettings,
  ) {}

  /** The OEM's current credentials, created (or repaired) when needed. */
  async current(oemId: string): Promise<ExportCredentials> {
    const userName = userNameOf(oemId);
    const stored = await this.secrets.get(this.secretName(oemId));
    if (stored) {
      const keys = await this.iam.listAccessKeys(userName).catch(() => []);
      if (keys.length === 1 && keys[0]!.accessKeyId === stored.accessKeyId && keys[0]!.status === 'Active') return this.reply(oemId, stored);
    }
    return this.withLock(oemId, () => this.repair(oemId));
  }

  /** New credentials for the OEM; the previous key is deleted. */
  async refresh(oemId: string): Promise<ExportCredentials> {
    return this.withLock(oemId, async () => {
      const userName = await this.ensureUser(oemId);
      const stored = await this.secrets.get(this.secretName(oemId));
      await this.deleteKeysExcept(userName, stored?.accessKeyId);
      const created = await this.createKey(userName);
      await this.secrets.put(this.secretName(oemId), created);
      await this.deleteKeysExcept(userName, created.accessKeyId);
      return this.reply(oemId, created);
    });
  }

  /** Under the lock: keeps the recorded key if IAM still has it, else issues one; deletes the rest. */
  private async repair(oemId: string): Promise<ExportCredentials> {
    const userName = await this.ensureUser(oemId);
    const stored = await this.secrets.get(this.secretName(oemId));
    const keys = await this.iam.listAccessKeys(userName);
    if (stored && keys.some((k) => k.accessKeyId === stored.accessKeyId && k.status === 'Active')) {
      await this.deleteKeysExcept(userName, stored.accessKeyId);
      return this.reply(oemId, stored);
    }
    await this.deleteKeysExcept(userName, undefined);
    const created = await this.createKey(userName);
    await this.secrets.put(this.secretName(oemId), created);
    await this.deleteKeysExcept(userName, created.accessKeyId);
    return this.reply(oemId, created);
  }

  private async ensureUser(oemId: string): Promise<string> {
    const userName = userNameOf(oemId);
    await this.iam.ensureUser(userName, this.settings.iamPath, { oem: oemId, purpose: 'data-export' });
    // Written every time a change is made: a policy edited by hand is put back.
    await this.iam.putUserPolicy(userName, POLICY_NAME, JSON.stringify(exportReadPolicy(this.settings.bucket, oemId, this.settings.partition)));
    return userName;
  }

  private async createKey(userName: string): Promise<StoredCredentials> {
    try {
      return await this.iam.createAccessKey(userName);
    } catch (error) {
      if (error instanceof KeyLimitError) throw new ConflictError('the credentials are being changed by another request: retry', 'CredentialsBusy');
      throw error;
    }
  }

  private async deleteKeysExcept(userName: string, keep: string | undefined): Promise<void> {
    const keys = await this.iam.listAccessKeys(userName);
    await Promise.all(keys.filter((k) => k.accessKeyId !== keep).map((k) => this.iam.deleteAccessKey(userName, k.accessKeyId)));
  }

  private async withLock<T>(oemId: string, work: () => Promise<T>): Promise<T> {
    const name = `export-credentials#${oemId}`;
    const owner = randomUUID();
    const deadline = Date.now() + (this.settings.lockWaitMs ?? 5_000);
    for (let attempt = 0; !(await this.locks.acquire(name, owner, LOCK_TTL_MS)); attempt++) {
      if (Date.now() >= deadline) throw new ConflictError('the credentials are being changed by another request: retry in a few seconds', 'CredentialsBusy');
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 500)));
    }
    try {
      return await work();
    } finally {
      await this.locks.release(name, owner);
    }
  }

  private secretName(oemId: string): string {
    return `${this.settings.secretPrefix}${oemId}`;
  }

  private reply(oemId: string, credentials: StoredCredentials): ExportCredentials {
    const { bucket, region } = this.settings;
    return {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      bucket,
      prefix: `${oemId}/`,
      region,
      s3Url: `s3://${bucket}/${oemId}/`,
      createdAt: new Date(credentials.createdAt).toISOString(),
    };
  }
}
