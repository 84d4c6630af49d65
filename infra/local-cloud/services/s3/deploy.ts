import {
  CreateBucketCommand, PutBucketEncryptionCommand, PutBucketLifecycleConfigurationCommand, PutBucketPolicyCommand,
  PutPublicAccessBlockCommand, S3Client, type LifecycleRule, type ServerSideEncryption, type ServerSideEncryptionConfiguration,
} from '@aws-sdk/client-s3';
import { alreadyExists, type DeployContext } from '../../cloudformation/deploy';
import type { DeployedStack } from '../../cloudformation/template';

/** `AWS::S3::Bucket` (lifecycle, encryption, public access block) and `AWS::S3::BucketPolicy`. */
export async function deployBuckets(stack: DeployedStack, context: DeployContext): Promise<void> {
  const s3 = new S3Client({ ...context.client, forcePathStyle: true });
  try {
    for (const [id, resource] of stack.resourcesOfType('AWS::S3::Bucket')) {
      const Bucket = stack.ref(id);
      const props = stack.resolve(resource.Properties ?? {}) as {
        LifecycleConfiguration?: { Rules: CfnLifecycleRule[] };
        BucketEncryption?: { ServerSideEncryptionConfiguration: CfnEncryptionRule[] };
        PublicAccessBlockConfiguration?: Record<string, boolean>;
      };
      await s3.send(new CreateBucketCommand({ Bucket })).catch((e: unknown) => {
        if (!alreadyExists(e)) throw e;
      });
      if (props.LifecycleConfiguration) {
        await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: lifecycleRulesFromTemplate(props.LifecycleConfiguration.Rules) } }));
      }
      if (props.BucketEncryption) {
        await s3.send(new PutBucketEncryptionCommand({ Bucket, ServerSideEncryptionConfiguration: encryptionFromTemplate(props.BucketEncryption.ServerSideEncryptionConfiguration) }));
      }
      if (props.PublicAccessBlockConfiguration) {
        await s3.send(new PutPublicAccessBlockCommand({ Bucket, PublicAccessBlockConfiguration: props.PublicAccessBlockConfiguration }));
      }
    }
    for (const [, resource] of stack.resourcesOfType('AWS::S3::BucketPolicy')) {
      const props = stack.resolve(resource.Properties ?? {}) as { Bucket: string; PolicyDocument: unknown };
      await s3.send(new PutBucketPolicyCommand({ Bucket: props.Bucket, Policy: JSON.stringify(props.PolicyDocument) }));
    }
  } finally {
    s3.destroy();
  }
}

interface CfnLifecycleRule {
  Id?: string;
  Status: 'Enabled' | 'Disabled';
  Prefix?: string;
  ExpirationInDays?: number;
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  NoncurrentVersionExpiration?: { NoncurrentDays: number };
}

/** CloudFormation's lifecycle rule shape → the S3 API's. */
export function lifecycleRulesFromTemplate(rules: CfnLifecycleRule[]): LifecycleRule[] {
  return rules.map((rule) => ({
    ID: rule.Id,
    Status: rule.Status,
    Filter: { Prefix: rule.Prefix ?? '' },
    ...(rule.ExpirationInDays !== undefined ? { Expiration: { Days: rule.ExpirationInDays } } : {}),
    ...(rule.AbortIncompleteMultipartUpload ? { AbortIncompleteMultipartUpload: rule.AbortIncompleteMultipartUpload } : {}),
    ...(rule.NoncurrentVersionExpiration ? { NoncurrentVersionExpiration: rule.NoncurrentVersionExpiration } : {}),
  }));
}

interface CfnEncryptionRule {
  ServerSideEncryptionByDefault?: { SSEAlgorithm: ServerSideEncryption; KMSMasterKeyID?: string };
  BucketKeyEnabled?: boolean;
}

/** CloudFormation's bucket encryption rules → the S3 API's configuration. */
export function encryptionFromTemplate(rules: CfnEncryptionRule[]): ServerSideEncryptionConfiguration {
  return {
    Rules: rules.map((rule) => ({
      ...(rule.ServerSideEncryptionByDefault ? { ApplyServerSideEncryptionByDefault: rule.ServerSideEncryptionByDefault } : {}),
      ...(rule.BucketKeyEnabled !== undefined ? { BucketKeyEnabled: rule.BucketKeyEnabled } : {}),
    })),
  };
}
