import { randomUUID } from 'node:crypto';
import { readState, StateWriter } from '../../aws-protocol/state-file';
import { randomString, unique } from '../../aws-protocol/util';

/**
 * Secrets Manager's state and rules: secrets with versions and staging labels (AWSCURRENT / AWSPREVIOUS /
 * custom), deletion with a recovery window or at once, tags. Values are stored in plain text in one JSON
 * file under the data directory (nothing is encrypted locally; `KmsKeyId` is only remembered). Operations
 * take the request's JSON input and throw `SecretsError`; the JSON protocol is in responses.ts.
 */

export interface SecretVersion {
  versionId: string;
  secretString?: string;
  /** Base64. */
  secretBinary?: string;
  stages: string[];
  createdDate: number;
}

export interface SecretRecord {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  createdDate: number;
  lastChangedDate: number;
  lastAccessedDate?: number;
  /** Set when deletion is scheduled: the secret is gone at this time (epoch seconds). */
  deletionDate?: number;
  deletedDate?: number;
  versions: SecretVersion[];
}

interface SecretsState {
  secrets: SecretRecord[];
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]+$/;

export class SecretsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const notFound = () => new SecretsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
const invalidParameter = (message: string) => new SecretsError('InvalidParameterException', message);
const invalidRequest = (message: string) => new SecretsError('InvalidRequestException', message);

/** An operation's input: the request's JSON object. */
export type Input = Record<string, unknown>;

export class LocalSecretsManager {
  private readonly state: SecretsState;
  private readonly writer: StateWriter;

  constructor(
    stateFile: string,
    readonly region: string,
    readonly accountId: string,
    private readonly now: () => number = Date.now,
  ) {
    this.writer = new StateWriter(stateFile);
    const loaded = readState<Partial<SecretsState> | null>(stateFile, null);
    this.state = { secrets: loaded?.secrets ?? [] };
  }

  // ---- operations ---------------------------------------------------------------------------------

  createSecret(input: Input): unknown {
    const name = requiredString(input, 'Name');
    if (!NAME_PATTERN.test(name) || name.length > 512) {
      throw invalidParameter('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
    }
    const existing = this.state.secrets.find((s) => s.name === name);
    if (existing?.deletionDate !== undefined) {
      throw invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.");
    }
    const value = secretValue(input);
    if (existing) {
      // A retried CreateSecret (same token, same value) succeeds again, as on AWS.
      const same = typeof input.ClientRequestToken === 'string' && value
        && existing.versions.find((v) => v.versionId === input.ClientRequestToken && v.secretString === value.secretString && v.secretBinary === value.secretBinary);
      if (same) return { ARN: existing.arn, Name: existing.name, VersionId: same.versionId };
      throw new SecretsError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
    }
    const now = this.seconds();
    const secret: SecretRecord = {
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${randomSuffix()}`,
      name,
      ...(typeof input.Description === 'string' ? { description: input.Description } : {}),
      ...(typeof input.KmsKeyId === 'string' ? { kmsKeyId: input.KmsKeyId } : {}),
      tags: tagsOf(input.Tags),
      createdDate: now,
      lastChangedDate: now,
      versions: [],
    };
    this.state.secrets.push(secret);
    if (!value) return { ARN: secret.arn, Name: secret.name };
    const version = this.addVersion(secret, token(input), value, [CURRENT]);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId };
  }

  /** A read; `touched` says it moved a secret's last-accessed day (then the state must be written). */
  getSecretValue(input: Input): { output: unknown; touched: boolean } {
    const secret = this.existing(input);
    const version = this.selectVersion(secret, input);
    const day = Math.floor(this.seconds() / 86_400) * 86_400; // AWS keeps the day only
    const touched = secret.lastAccessedDate !== day;
    secret.lastAccessedDate = day;
    return { output: valueOutput(secret, version), touched };
  }

  batchGetSecretValue(input: Input): { output: unknown; touched: boolean } {
    const ids = Array.isArray(input.SecretIdList) ? input.SecretIdList.map(String) : [];
    if (ids.length === 0) throw invalidParameter('SecretIdList is required (Filters are not supported locally).');
    const values: unknown[] = [];
    const errors: unknown[] = [];
    let touched = false;
    for (const id of ids) {
      try {
        const read = this.getSecretValue({ SecretId: id });
        values.push(read.output);
        touched ||= read.touched;
      } catch (error) {
        if (!(error instanceof SecretsError)) throw error;
        errors.push({ SecretId: id, ErrorCode: error.type, Message: error.message });
      }
    }
    return { output: { SecretValues: values, Errors: errors }, touched };
  }

  describeSecret(input: Input): unknown {
    return this.describe(this.existing(input), true);
  }

  tagResource(input: Input): void {
    const secret = this.existing(input);
    const tags = tagsOf(input.Tags);
    secret.tags = [...secret.tags.filter((t) => !tags.some((n) => n.Key === t.Key)), ...tags];
  }

  untagResource(input: Input): void {
    const secret = this.existing(input);
    const keys = Array.isArray(input.TagKeys) ? input.TagKeys.map(String) : [];
    secret.tags = secret.tags.filter((t) => !keys.includes(t.Key));
  }

  putSecretValue(input: Input): unknown {
    const secret = this.existing(input);
    const value = secretValue(input);
    if (!value) throw invalidRequest('You must provide either SecretString or SecretBinary.');
    const stages = Array.isArray(input.VersionStages) ? input.VersionStages.map(String) : [CURRENT];
    const version = this.addVersion(secret, token(input), value, stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: version.stages };
  }

  updateSecret(input: Input): unknown {
    const secret = this.existing(input);
    if (typeof input.Description === 'string') secret.description = input.Description;
    if (typeof input.KmsKeyId === 'string') secret.kmsKeyId = input.KmsKeyId;
    secret.lastChangedDate = this.seconds();
    const value = secretValue(input);
    if (!value) return { ARN: secret.arn, Name: secret.name };
    const version = this.addVersion(secret, token(input), value, [CURRENT]);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId };
  }

  deleteSecret(input: Input): unknown {
    const id = requiredString(input, 'SecretId');
    const force = input.ForceDeleteWithoutRecovery === true;
    if (force && input.RecoveryWindowInDays !== undefined) {
      throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
    }
    const days = input.RecoveryWindowInDays === undefined ? 30 : Number(input.RecoveryWindowInDays);
    if (!force && (!Number.isInteger(days) || days < 7 || days > 30)) {
      throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const secret = this.find(id);
    if (!secret) throw notFound();
    const now = this.seconds();
    if (force) {
      this.state.secrets = this.state.secrets.filter((s) => s !== secret);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: now };
    }
    if (secret.deletionDate !== undefined) {
      throw invalidRequest('You tried to perform the operation on a secret that\'s currently marked deleted.');
    }
    secret.deletedDate = now;
    secret.deletionDate = now + days * 86_400;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: secret.deletionDate };
  }

  restoreSecret(input: Input): unknown {
    const secret = this.find(requiredString(input, 'SecretId'));
    if (!secret) throw notFound();
    delete secret.deletionDate;
    delete secret.deletedDate;
    return { ARN: secret.arn, Name: secret.name };
  }

  listSecrets(input: Input): unknown {
    const filters = Array.isArray(input.Filters) ? (input.Filters as Array<{ Key?: string; Values?: string[] }>) : [];
    const includeDeleted = input.IncludePlannedDeletion === true;
    const matches = this.state.secrets.filter((secret) => {
      if (secret.deletionDate !== undefined && !includeDeleted) return false;
      return filters.every((filter) => filterMatches(secret, filter.Key ?? '', filter.Values ?? []));
    });
    const sorted = input.SortOrder === 'asc' ? matches : [...matches].reverse();
    const max = input.MaxResults === undefined ? 100 : Number(input.MaxResults);
    if (!Number.isInteger(max) || max < 1 || max > 100) throw invalidParameter('MaxResults must be between 1 and 100.');
    const start = typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64').toString('utf8')) : 0;
    if (!Number.isInteger(start) || start < 0) throw invalidParameter('Invalid NextToken.');
    const page = sorted.slice(start, start + max);
    return {
      SecretList: page.map((s) => this.describe(s, false)),
      ...(start + max < sorted.length ? { NextToken: Buffer.from(String(start + max)).toString('base64') } : {}),
    };
  }

  listVersionIds(input: Input): unknown {
    const secret = this.existing(input);
    return {
      ARN: secret.arn,
      Name: secret.name,
      Versions: secret.versions.map((v) => ({ VersionId: v.versionId, VersionStages: v.stages, CreatedDate: v.createdDate })),
    };
  }

  updateVersionStage(input: Input): unknown {
    const secret = this.existing(input);
    const stage = requiredString(input, 'VersionStage');
    const from = typeof input.RemoveFromVersionId === 'string' ? input.RemoveFromVersionId : undefined;
    const to = typeof input.MoveToVersionId === 'string' ? input.MoveToVersionId : undefined;
    const holder = secret.versions.find((v) => v.stages.includes(stage));
    if (holder && to && holder.versionId !== from && holder.versionId !== to) {
      throw invalidParameter(`The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`);
    }
    const target = to ? secret.versions.find((v) => v.versionId === to) : undefined;
    if (to && !target) throw notFound();
    if (from) {
      const source = secret.versions.find((v) => v.versionId === from);
      if (source) source.stages = source.stages.filter((s) => s !== stage);
    }
    if (target) this.moveStage(secret, target, stage);
    this.dropUnlabelled(secret);
    return { ARN: secret.arn, Name: secret.name };
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** A secret by name, full ARN, or ARN without its random suffix (also scheduled for deletion). */
  find(id: string): SecretRecord | undefined {
    return this.state.secrets.find((s) => s.name === id || s.arn === id)
      ?? (id.startsWith('arn:') ? this.state.secrets.find((s) => s.arn.slice(0, -7) === id) : undefined);
  }

  /** A secret that exists and is not scheduled for deletion. */
  existing(input: Input): SecretRecord {
    const secret = this.find(requiredString(input, 'SecretId'));
    if (!secret) throw notFound();
    if (secret.deletionDate !== undefined) {
      throw invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");
    }
    return secret;
  }

  private selectVersion(secret: SecretRecord, input: Input): SecretVersion {
    const versionId = typeof input.VersionId === 'string' ? input.VersionId : undefined;
    const stage = typeof input.VersionStage === 'string' ? input.VersionStage : versionId ? undefined : CURRENT;
    const version = secret.versions.find((v) => (!versionId || v.versionId === versionId) && (!stage || v.stages.includes(stage)));
    if (!version) {
      throw new SecretsError('ResourceNotFoundException', versionId
        ? `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`
        : `Secrets Manager can't find the specified secret value for staging label: ${stage}`);
    }
    return version;
  }

  /**
   * A new version (idempotent on its token: the same token with the same value returns that version,
   * with another value fails as on AWS). Moving AWSCURRENT labels the previous current version AWSPREVIOUS.
   */
  private addVersion(secret: SecretRecord, versionId: string, value: { secretString?: string; secretBinary?: string }, stages: string[]): SecretVersion {
    const existing = secret.versions.find((v) => v.versionId === versionId);
    if (existing) {
      if (existing.secretString === value.secretString && existing.secretBinary === value.secretBinary) return existing;
      throw new SecretsError('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
    }
    const version: SecretVersion = { versionId, ...value, stages: [], createdDate: this.seconds() };
    secret.versions.push(version);
    for (const stage of unique(stages)) this.moveStage(secret, version, stage);
    this.dropUnlabelled(secret);
    secret.lastChangedDate = this.seconds();
    return version;
  }

  private moveStage(secret: SecretRecord, target: SecretVersion, stage: string): void {
    const holder = secret.versions.find((v) => v !== target && v.stages.includes(stage));
    if (holder) {
      holder.stages = holder.stages.filter((s) => s !== stage);
      if (stage === CURRENT) {
        for (const v of secret.versions) v.stages = v.stages.filter((s) => s !== PREVIOUS);
        holder.stages.push(PREVIOUS);
      }
    }
    if (!target.stages.includes(stage)) target.stages.push(stage);
    if (stage === CURRENT) target.stages = target.stages.filter((s) => s !== PREVIOUS);
  }

  /** Versions without a staging label are deprecated; AWS drops them eventually, the local cloud at once. */
  private dropUnlabelled(secret: SecretRecord): void {
    secret.versions = secret.versions.filter((v) => v.stages.length > 0);
  }

  private describe(secret: SecretRecord, withAccess: boolean): unknown {
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description !== undefined ? { Description: secret.description } : {}),
      ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
      RotationEnabled: false,
      LastChangedDate: secret.lastChangedDate,
      ...(withAccess && secret.lastAccessedDate !== undefined ? { LastAccessedDate: secret.lastAccessedDate } : {}),
      ...(secret.deletedDate !== undefined ? { DeletedDate: secret.deletedDate } : {}),
      ...(secret.tags.length ? { Tags: secret.tags } : {}),
      ...(withAccess
        ? { VersionIdsToStages: Object.fromEntries(secret.versions.map((v) => [v.versionId, v.stages])) }
        : { SecretVersionsToStages: Object.fromEntries(secret.versions.map((v) => [v.versionId, v.stages])) }),
      CreatedDate: secret.createdDate,
    };
  }

  /** Secrets whose recovery window has passed are gone. */
  purgeExpired(): void {
    const now = this.seconds();
    this.state.secrets = this.state.secrets.filter((s) => s.deletionDate === undefined || s.deletionDate > now);
  }

  persist(): Promise<void> {
    return this.writer.write(this.state);
  }

  async close(): Promise<void> {
    await this.writer.settled();
  }
}

function valueOutput(secret: SecretRecord, version: SecretVersion): unknown {
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
    ...(version.secretBinary !== undefined ? { SecretBinary: version.secretBinary } : {}),
    VersionStages: version.stages,
    CreatedDate: version.createdDate,
  };
}

function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') {
    throw new SecretsError('ValidationException', `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function secretValue(input: Input): { secretString?: string; secretBinary?: string } | undefined {
  const hasString = typeof input.SecretString === 'string';
  const hasBinary = typeof input.SecretBinary === 'string';
  if (hasString && hasBinary) throw invalidParameter('You can\'t specify both a binary secret value and a string secret value in the same secret.');
  if (hasString) {
    if ((input.SecretString as string).length > 65_536) throw invalidParameter('SecretString must be at most 65536 characters.');
    return { secretString: input.SecretString as string };
  }
  if (hasBinary) return { secretBinary: input.SecretBinary as string };
  return undefined;
}

function token(input: Input): string {
  const value = input.ClientRequestToken;
  if (value === undefined) return randomUUID();
  if (typeof value !== 'string' || value.length < 32 || value.length > 64) {
    throw new SecretsError('ValidationException', "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32");
  }
  return value;
}

function tagsOf(value: unknown): Array<{ Key: string; Value: string }> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidParameter('Tags must be a list.');
  return value.map((t: { Key?: unknown; Value?: unknown }) => {
    if (typeof t?.Key !== 'string') throw invalidParameter('A tag needs a Key.');
    return { Key: t.Key, Value: typeof t.Value === 'string' ? t.Value : '' };
  });
}

/** ListSecrets filters: prefix matches (a leading `!` negates), as on AWS. */
function filterMatches(secret: SecretRecord, key: string, values: string[]): boolean {
  const fields: Record<string, string[]> = {
    name: [secret.name],
    description: secret.description !== undefined ? [secret.description] : [],
    'tag-key': secret.tags.map((t) => t.Key),
    'tag-value': secret.tags.map((t) => t.Value),
    'primary-region': [],
    'owning-service': [],
  };
  const candidates = key === 'all' ? [...fields.name!, ...fields.description!, ...fields['tag-key']!, ...fields['tag-value']!] : fields[key];
  if (!candidates) throw invalidParameter(`Invalid filter key: ${key}`);
  return values.some((value) => {
    const negate = value.startsWith('!');
    const prefix = negate ? value.slice(1) : value;
    const hit = candidates.some((c) => c.startsWith(prefix));
    return negate ? !hit : hit;
  });
}

function randomSuffix(): string {
  return randomString(6, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
}
