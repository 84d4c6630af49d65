import {
  CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, EntityAlreadyExistsException, GetUserCommand, IAMClient,
  LimitExceededException, ListAccessKeysCommand, NoSuchEntityException, PutUserPermissionsBoundaryCommand, PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { KeyLimitError, type AccessKey, type IamPort, type StoredCredentials } from '../../domain/credentials/ports';

/**
 * IAM as the credentials rules need it: the OEM export users, their policy and access keys. Every user
 * gets `permissionsBoundary` (a managed policy allowing nothing beyond reading the export bucket): the
 * function's own role may create users and change their policies only with that boundary set, so a
 * user without it is first given it (users created before the boundary existed).
 */
export class SdkIam implements IamPort {
  constructor(
    private readonly iam: IAMClient,
    private readonly permissionsBoundary: string,
  ) {}

  async ensureUser(userName: string, path: string, tags: Record<string, string>): Promise<void> {
    // Create first: IAM authorizes a call on a user that does not exist yet against `user/<name>`, without
    // the path, so the role (scoped to its path) may not even GetUser it; CreateUser names the path.
    try {
      await this.iam.send(new CreateUserCommand({
        UserName: userName, Path: path, PermissionsBoundary: this.permissionsBoundary, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }));
      return;
    } catch (error) {
      if (!(error instanceof EntityAlreadyExistsException)) throw error;
    }
    const { User } = await this.iam.send(new GetUserCommand({ UserName: userName }));
    if (User?.PermissionsBoundary?.PermissionsBoundaryArn !== this.permissionsBoundary) {
      await this.iam.send(new PutUserPermissionsBoundaryCommand({ UserName: userName, PermissionsBoundary: this.permissionsBoundary }));
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
