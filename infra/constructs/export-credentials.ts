import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/config';
import { acknowledgeWildcardResource } from '../nag';
import { PipelineFunction, lambdaEntry } from './pipeline-function';
import type { PipelineHttpApi } from './pipeline-http-api';

export interface ExportCredentialsProps {
  readonly bucket: IBucket;
  readonly api: PipelineHttpApi;
}

/**
 * OEM data export credentials: one IAM user per OEM under the stack's own IAM path, with a read-only
 * policy on its export prefix; its access key's secret in Secrets Manager under the stack's prefix;
 * a lock table that serializes changes of one OEM's credentials. The function may touch only users
 * under that path and secrets under that prefix, and may create a user or change its policies only with
 * the permissions boundary `userBoundary` set, which allows nothing beyond reading the export bucket: a
 * bug or a compromise of the function cannot mint keys for a user with any other permission.
 */
export class ExportCredentials extends Construct {
  readonly function: PipelineFunction;
  readonly lockTable: Table;
  /** The permissions boundary of every OEM export user. */
  readonly userBoundary: ManagedPolicy;
  readonly iamPath: string;
  readonly secretPrefix: string;

  constructor(scope: Construct, id: string, props: ExportCredentialsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.iamPath = `/${stack.stackName}/oem-export/`;
    this.secretPrefix = `${stack.stackName}/oem-export/`;

    this.lockTable = new Table(this, 'Locks', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'expiresAt',
      // Only short-lived leases: nothing to keep.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.userBoundary = new ManagedPolicy(this, 'ExportUserBoundary', {
      description: 'Permissions boundary of the OEM data export users: at most reading the export bucket',
      statements: [
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.bucket.bucketArn] }),
        new PolicyStatement({ actions: ['s3:GetObject'], resources: [props.bucket.arnForObjects('*')] }),
      ],
    });
    acknowledgeWildcardResource(this.userBoundary, props.bucket.arnForObjects('*'),
      'A boundary, not a grant: each user\'s own policy narrows reads to its OEM prefix; the boundary caps every user at reading the export bucket.');

    this.function = new PipelineFunction(scope, 'ExportCredentialsFunction', {
      entry: lambdaEntry('export-credentials'),
      description: 'OEM data export credentials: GET /oems/{oem_id}/data-export/credentials, POST …/refresh',
      service: 'export-credentials',
      timeout: Duration.seconds(29),
      environment: {
        [ENV.exportBucket]: props.bucket.bucketName,
        [ENV.iamPath]: this.iamPath,
        [ENV.secretPrefix]: this.secretPrefix,
        [ENV.lockTable]: this.lockTable.tableName,
        [ENV.exportUserBoundary]: this.userBoundary.managedPolicyArn,
      },
    });

    const users = stack.formatArn({ service: 'iam', region: '', resource: 'user', resourceName: `${this.iamPath.slice(1)}*` });
    const secrets = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${this.secretPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.function.addToRolePolicy(new PolicyStatement({
      actions: ['iam:GetUser', 'iam:TagUser', 'iam:ListAccessKeys', 'iam:CreateAccessKey', 'iam:DeleteAccessKey'],
      resources: [users],
    }));
    // IAM sets iam:PermissionsBoundary on these: the boundary being set (CreateUser, PutUserPermissionsBoundary)
    // or the user's current one (PutUserPolicy), so none of them works on a user without this boundary.
    this.function.addToRolePolicy(new PolicyStatement({
      actions: ['iam:CreateUser', 'iam:PutUserPermissionsBoundary', 'iam:PutUserPolicy'],
      resources: [users],
      conditions: { StringEquals: { 'iam:PermissionsBoundary': this.userBoundary.managedPolicyArn } },
    }));
    this.function.addToRolePolicy(new PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:CreateSecret'],
      resources: [secrets],
    }));
    this.function.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'], resources: [this.lockTable.tableArn] }));
    const role = this.function.role!;
    acknowledgeWildcardResource(role, users, 'One IAM user per OEM, created on first use: the function manages users under the stack\'s own IAM path only.');
    acknowledgeWildcardResource(role, secrets, 'One secret per OEM, created on first use: the function manages secrets under the stack\'s own name prefix only.');

    const base = '/oems/{oem_id}/data-export/credentials';
    props.api.addRoute(HttpMethod.GET, base, this.function);
    props.api.addRoute(HttpMethod.POST, `${base}/refresh`, this.function);
  }
}
