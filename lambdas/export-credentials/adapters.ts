import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, GetUserCommand, IAMClient, LimitExceededException,
  ListAccessKeysCommand, NoSuchEntityException, PutUserPolicyCommand, EntityAlreadyExistsException,
} from '@aws-sdk/client-iam';
import {
  CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KeyLimitError, type AccessKey, type IamPort, type LockPort, type SecretsPort, type StoredCredentials } from './ports';

export class SdkIam implements IamPort {
  constructor(private readonly iam: IAMClient) {}

  async ensureUser(userName: string, path: string, tags: Record<string, string>): Promise<void> {
    try {
      await this.iam.send(new GetUserCommand({ UserName: userName }));
    } catch (error) {
      if (!(error instanceof NoSuchEntityException)) throw error;
      await this.iam.send(new CreateUserCommand({ UserName: userName, Path: path, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }))
        .catch((e: unknown) => {
          if (!(e instanceof EntityAlreadyExistsException)) throw e;
        });
    }
  }

  async putUserPolicy(userName: string, policyName: string, document: string): Promise<void> {
    await this.iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: policyName, PolicyDocument: document }));
  }

  async listAccessKeys(userName: string): Promise<AccessKey[]> {
    const out = await this.iam.send(new ListAccessKeysCommand({ UserName: userName }));
    return (out.AccessKeyMetadata ?? []).map((k) => ({
      accessKeyId: k.AccessKeyId!,
      status: k.Status === 'Active' ? 'Active' : 'Inactive',
      createdAt: k.CreateDate?.getTime() ?? 0,
    }));
  }

  async createAccessKey(userName: string): Promise<StoredCredentials> {
    try {
      const { AccessKey: key } = await this.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      return { accessKeyId: key!.AccessKeyId!, secretAccessKey: key!.SecretAccessKey!, createdAt: key!.CreateDate?.getTime() ?? Date.now() };
    } catch (error) {
      if (error instanceof LimitExceededException) throw new KeyLimitError(error.message);
      throw error;
    }
  }

  async deleteAccessKey(userName: string, accessKeyId: string): Promise<void> {
    await this.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId })).catch((error: unknown) => {
      if (!(error instanceof NoSuchEntityException)) throw error;
    });
  }
}

export class SdkSecrets implements SecretsPort {
  constructor(private readonly secrets: SecretsManagerClient) {}

  async get(name: string): Promise<StoredCredentials | undefined> {
    try {
      const out = await this.secrets.send(new GetSecretValueCommand({ SecretId: name }));
      return out.SecretString ? (JSON.parse(out.SecretString) as StoredCredentials) : undefined;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async put(name: string, value: StoredCredentials): Promise<void> {
    const SecretString = JSON.stringify(value);
    try {
      await this.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await this.secrets.send(new CreateSecretCommand({ Name: name, SecretString, Description: 'OEM data export access key' })).catch(async (e: unknown) => {
        if (!(e instanceof ResourceExistsException)) throw e;
        await this.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
      });
    }
  }
}

/** A lease in a DynamoDB table: an item per lock, taken by a conditional put, expiring by itself. */
export class DynamoLocks implements LockPort {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    try {
      await this.doc.send(new PutCommand({
        TableName: this.table,
        Item: { pk: name, owner, until: now + ttlMs, expiresAt: Math.ceil((now + ttlMs) / 1000) + 3600 },
        ConditionExpression: 'attribute_not_exists(pk) OR #until < :now',
        ExpressionAttributeNames: { '#until': 'until' },
        ExpressionAttributeValues: { ':now': now },
      }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async release(name: string, owner: string): Promise<void> {
    await this.doc.send(new DeleteCommand({
      TableName: this.table,
      Key: { pk: name },
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#owner': 'owner' },
      ExpressionAttributeValues: { ':owner': owner },
    })).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }
}
