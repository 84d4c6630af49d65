import {
  CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, EntityAlreadyExistsException, GetUserCommand, IAMClient,
  LimitExceededException, ListAccessKeysCommand, NoSuchEntityException, PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { KeyLimitError, type AccessKey, type IamPort, type StoredCredentials } from '../../domain/credentials/ports';

/** IAM as the credentials rules need it: the OEM export users, their policy and access keys. */
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
