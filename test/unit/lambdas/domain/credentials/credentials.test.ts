import { CredentialsService, POLICY_NAME, userNameOf } from '../../../../../lambdas/domain/credentials/credentials';
import { KeyLimitError, type AccessKey, type IamPort, type LockPort, type SecretsPort, type StoredCredentials } from '../../../../../lambdas/domain/credentials/ports';
import { ConflictError } from '../../../../../lambdas/shared/http';

/** IAM as it behaves: at most two keys per user; faults can be armed for one call of an operation. */
class FakeIam implements IamPort {
  readonly users = new Map<string, { path: string; policies: Map<string, string>; keys: Array<AccessKey & { secret: string }> }>();
  readonly faults = new Map<string, number>();
  private counter = 0;
  /** Called between listing and creating: lets a test run a concurrent request there. */
  beforeCreate?: () => Promise<void>;

  private fault(operation: string): void {
    const left = this.faults.get(operation) ?? 0;
    if (left > 0) {
      this.faults.set(operation, left - 1);
      throw new Error(`injected ${operation} failure`);
    }
  }

  private user(name: string) {
    const user = this.users.get(name);
    if (!user) throw new Error(`NoSuchEntity: ${name}`);
    return user;
  }

  async ensureUser(userName: string, path: string): Promise<void> {
    this.fault('ensureUser');
    if (!this.users.has(userName)) this.users.set(userName, { path, policies: new Map(), keys: [] });
  }

  async putUserPolicy(userName: string, policyName: string, document: string): Promise<void> {
    this.fault('putUserPolicy');
    this.user(userName).policies.set(policyName, document);
  }

  async listAccessKeys(userName: string): Promise<AccessKey[]> {
    this.fault('listAccessKeys');
    return this.user(userName).keys.map(({ accessKeyId, status, createdAt }) => ({ accessKeyId, status, createdAt }));
  }

  async createAccessKey(userName: string): Promise<StoredCredentials> {
    await this.beforeCreate?.();
    this.fault('createAccessKey');
    const user = this.user(userName);
    if (user.keys.length >= 2) throw new KeyLimitError('Cannot exceed quota for AccessKeysPerUser: 2');
    const key = { accessKeyId: `AKIA${String(++this.counter).padStart(16, '0')}`, secret: `secret-${this.counter}`, status: 'Active' as const, createdAt: this.counter };
    user.keys.push(key);
    return { accessKeyId: key.accessKeyId, secretAccessKey: key.secret, createdAt: key.createdAt };
  }

  async deleteAccessKey(userName: string, accessKeyId: string): Promise<void> {
    this.fault('deleteAccessKey');
    const user = this.user(userName);
    user.keys = user.keys.filter((k) => k.accessKeyId !== accessKeyId);
  }

  /** Whether a key would work: it exists, is active, and its secret is the one given. */
  works(userName: string, credentials: { accessKeyId: string; secretAccessKey: string }): boolean {
    return this.user(userName).keys.some((k) => k.accessKeyId === credentials.accessKeyId && k.secret === credentials.secretAccessKey && k.status === 'Active');
  }
}

class FakeSecrets implements SecretsPort {
  readonly values = new Map<string, StoredCredentials>();
  faultOnPut = 0;

  async get(name: string) {
    return this.values.get(name);
  }

  async put(name: string, value: StoredCredentials) {
    if (this.faultOnPut > 0) {
      this.faultOnPut--;
      throw new Error('injected secret write failure');
    }
    this.values.set(name, value);
  }
}

class FakeLocks implements LockPort {
  readonly held = new Map<string, string>();

  async acquire(name: string, owner: string) {
    if (this.held.has(name)) return false;
    this.held.set(name, owner);
    return true;
  }

  async release(name: string, owner: string) {
    if (this.held.get(name) === owner) this.held.delete(name);
  }
}

const OEM = '1234abcd';
const USER = userNameOf(OEM);

function setup(lockWaitMs = 200) {
  const iam = new FakeIam();
  const secrets = new FakeSecrets();
  const locks = new FakeLocks();
  const service = new CredentialsService(iam, secrets, locks, { bucket: 'export-bucket', region: 'eu-west-1', iamPath: '/Stack/oem-export/', secretPrefix: 'Stack/oem-export/', lockWaitMs });
  return { iam, secrets, locks, service };
}

describe('CredentialsService', () => {
  it('creates the user under the stack path, its read policy, one key and the secret on first use', async () => {
    const { iam, secrets, service } = setup();
    const first = await service.current(OEM);
    expect(first).toEqual({
      accessKeyId: expect.stringMatching(/^AKIA/),
      secretAccessKey: expect.any(String),
      bucket: 'export-bucket',
      prefix: `${OEM}/`,
      region: 'eu-west-1',
      s3Url: `s3://export-bucket/${OEM}/`,
      createdAt: expect.any(String),
    });
    const user = iam.users.get(USER)!;
    expect(user.path).toBe('/Stack/oem-export/');
    expect(JSON.parse(user.policies.get(POLICY_NAME)!)).toMatchObject({ Statement: [{ Action: 's3:ListBucket' }, { Action: 's3:GetObject' }] });
    expect(user.keys).toHaveLength(1);
    expect(secrets.values.get(`Stack/oem-export/${OEM}`)?.accessKeyId).toBe(first.accessKeyId);
    // Stable afterwards: the same credentials, no new key.
    expect(await service.current(OEM)).toEqual(first);
    expect(user.keys).toHaveLength(1);
  });

  it('refresh issues a new key and deletes the old one at once', async () => {
    const { iam, service } = setup();
    const old = await service.current(OEM);
    const fresh = await service.refresh(OEM);
    expect(fresh.accessKeyId).not.toBe(old.accessKeyId);
    expect(iam.works(USER, fresh)).toBe(true);
    expect(iam.works(USER, old)).toBe(false);
    expect(iam.users.get(USER)!.keys).toHaveLength(1);
    expect(await service.current(OEM)).toEqual(fresh);
  });

  it('refreshes although the user already holds two keys (IAM\'s limit): the leftover is deleted first', async () => {
    const { iam, service } = setup();
    const current = await service.current(OEM);
    await iam.createAccessKey(USER); // a leftover, e.g. from a crash
    const fresh = await service.refresh(OEM);
    expect(iam.works(USER, fresh)).toBe(true);
    expect(iam.works(USER, current)).toBe(false);
    expect(iam.users.get(USER)!.keys).toHaveLength(1);
  });

  it('repairs a crash between creating the new key and recording it: the next call keeps the recorded key', async () => {
    const { iam, secrets, service } = setup();
    const current = await service.current(OEM);
    secrets.faultOnPut = 1;
    await expect(service.refresh(OEM)).rejects.toThrow(/secret write failure/);
    expect(iam.users.get(USER)!.keys).toHaveLength(2); // the new key exists, unrecorded
    expect(await service.current(OEM)).toEqual(current);
    expect(iam.users.get(USER)!.keys.map((k) => k.accessKeyId)).toEqual([current.accessKeyId]);
    const fresh = await service.refresh(OEM);
    expect(iam.works(USER, fresh)).toBe(true);
  });

  it('repairs a crash between recording the new key and deleting the old one: the next call deletes the old key', async () => {
    const { iam, service } = setup();
    const old = await service.current(OEM);
    iam.faults.set('deleteAccessKey', 1);
    await expect(service.refresh(OEM)).rejects.toThrow(/deleteAccessKey failure/);
    expect(iam.users.get(USER)!.keys).toHaveLength(2);
    const now = await service.current(OEM);
    expect(now.accessKeyId).not.toBe(old.accessKeyId);
    expect(iam.works(USER, now)).toBe(true);
    expect(iam.works(USER, old)).toBe(false);
    expect(iam.users.get(USER)!.keys).toHaveLength(1);
  });

  it('issues a new key when the recorded one was deleted outside the service', async () => {
    const { iam, service } = setup();
    const old = await service.current(OEM);
    await iam.deleteAccessKey(USER, old.accessKeyId);
    const now = await service.current(OEM);
    expect(now.accessKeyId).not.toBe(old.accessKeyId);
    expect(iam.works(USER, now)).toBe(true);
  });

  it('leaves exactly one active key after two refreshes at once; each caller gets working credentials or a 409', async () => {
    const { iam, service } = setup(50);
    await service.current(OEM);
    const outcomes = await Promise.allSettled([service.refresh(OEM), service.refresh(OEM)]);
    expect(iam.users.get(USER)!.keys).toHaveLength(1);
    const active = iam.users.get(USER)!.keys[0]!.accessKeyId;
    const returned = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as Error] : []));
    expect(returned.length).toBeGreaterThanOrEqual(1);
    // The last credentials handed out work; any refused call is a clear 409.
    expect(returned.at(-1)!.accessKeyId).toBe(active);
    for (const error of refused) expect(error).toBeInstanceOf(ConflictError);
    if (returned.length === 2) expect(iam.works(USER, returned[1]!)).toBe(true);
  });

  it('serializes refreshes: a refresh started while another holds the lock waits, then rotates again', async () => {
    const { iam, service } = setup(2_000);
    await service.current(OEM);
    let second: Promise<unknown> | undefined;
    iam.beforeCreate = async () => {
      iam.beforeCreate = undefined;
      second = service.refresh(OEM);
      await new Promise((r) => setTimeout(r, 20));
    };
    const first = await service.refresh(OEM);
    const later = (await second) as { accessKeyId: string; secretAccessKey: string };
    expect(later.accessKeyId).not.toBe(first.accessKeyId);
    expect(iam.users.get(USER)!.keys.map((k) => k.accessKeyId)).toEqual([later.accessKeyId]);
  });

  it('answers 409 when another change holds the lock longer than the wait', async () => {
    const { locks, service } = setup(50);
    locks.held.set(`export-credentials#${OEM}`, 'someone else');
    await expect(service.refresh(OEM)).rejects.toMatchObject({ statusCode: 409, code: 'CredentialsBusy' });
  });

  it('answers 409 when IAM refuses a third key (a change outside the lock)', async () => {
    const { iam, service } = setup();
    await service.current(OEM);
    iam.beforeCreate = async () => {
      iam.beforeCreate = undefined;
      await iam.createAccessKey(USER);
    };
    await expect(service.refresh(OEM)).rejects.toMatchObject({ statusCode: 409 });
  });

  it('loses nothing when IAM fails on the way: the call fails, the next one succeeds', async () => {
    for (const operation of ['ensureUser', 'putUserPolicy', 'listAccessKeys', 'createAccessKey']) {
      const { iam, service } = setup();
      await service.current(OEM);
      iam.faults.set(operation, 1);
      await expect(service.refresh(OEM)).rejects.toThrow(/injected/);
      const after = await service.current(OEM);
      expect({ operation, works: iam.works(USER, after) }).toEqual({ operation, works: true });
      expect(iam.users.get(USER)!.keys).toHaveLength(1);
    }
  });
});
