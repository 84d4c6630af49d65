import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { DATAPOINT_LOG_ACCESS, DatapointLogTable } from '../../infra/constructs/datapoint-log-table';
import { PipelineHttpApi } from '../../infra/constructs/pipeline-http-api';
import { createPipelineApp } from '../../infra/pipeline-app';
import type { DevicePipelineStack } from '../../infra/pipeline-stack';
import { ADMIN_GROUP, OEM_CLAIM } from '../../lambdas/shared/auth';

const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string };

function logicalId(construct: IConstruct): string {
  const child = construct.node.defaultChild;
  if (!child) throw new Error(`${construct.node.path} has no default child`);
  return Stack.of(construct).getLogicalId(child as CfnElement);
}

describe('DevicePipelineStack', () => {
  let stack: DevicePipelineStack;
  let template: Template;
  let resources: Record<string, Resource>;

  beforeAll(() => {
    ({ stack } = createPipelineApp({ context: SKIP_BUNDLING }));
    template = Template.fromStack(stack);
    resources = (template.toJSON() as { Resources: Record<string, Resource> }).Resources;
  });

  const propsOf = (id: string): Record<string, unknown> => {
    const resource = resources[id];
    if (!resource) throw new Error(`no resource ${id}`);
    return resource.Properties ?? {};
  };

  describe('device event stream', () => {
    it('is provisioned, KMS-encrypted with the AWS-managed key, 24 h retention, 2 shards', () => {
      template.resourceCountIs('AWS::Kinesis::Stream', 1);
      template.hasResourceProperties('AWS::Kinesis::Stream', {
        ShardCount: 2,
        RetentionPeriodHours: 24,
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      });
    });

    it('takes the shard count from context, also as a CLI string', () => {
      for (const [value, expected] of [
        [4, 4],
        ['3', 3],
      ] as const) {
        const { stack: s } = createPipelineApp({ context: { ...SKIP_BUNDLING, eventStreamShardCount: value } });
        Template.fromStack(s).hasResourceProperties('AWS::Kinesis::Stream', { ShardCount: expected });
      }
    });

    it('is on demand with context eventStreamCapacity=on-demand, or takes a shard count from it', () => {
      const onDemand = Template.fromStack(createPipelineApp({ context: { ...SKIP_BUNDLING, eventStreamCapacity: 'on-demand' } }).stack);
      onDemand.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'ON_DEMAND' }, ShardCount: Match.absent() });
      const counted = Template.fromStack(createPipelineApp({ context: { ...SKIP_BUNDLING, eventStreamCapacity: '24' } }).stack);
      counted.hasResourceProperties('AWS::Kinesis::Stream', { StreamModeDetails: { StreamMode: 'PROVISIONED' }, ShardCount: 24 });
      expect(() => createPipelineApp({ context: { ...SKIP_BUNDLING, eventStreamCapacity: 'lots' } })).toThrow(/eventStreamCapacity/);
    });

    it('rejects a shard count that is not a positive integer', () => {
      expect(() => createPipelineApp({ context: { ...SKIP_BUNDLING, eventStreamShardCount: '0' } })).toThrow(
        /eventStreamShardCount/,
      );
      expect(() => createPipelineApp({ context: { ...SKIP_BUNDLING, eventStreamShardCount: 'two' } })).toThrow(
        /eventStreamShardCount/,
      );
    });
  });

  describe('export bucket', () => {
    it('blocks public access, is SSE-S3 encrypted, expires files after 365 days, logs access', () => {
      const bucketId = logicalId(stack.exportBucket.bucket);
      expect(propsOf(bucketId)).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        LifecycleConfiguration: {
          Rules: [
            expect.objectContaining({
              Status: 'Enabled',
              ExpirationInDays: 365,
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            }),
            // Compaction removes staging within minutes; these rules are the net.
            expect.objectContaining({ Status: 'Enabled', Prefix: '_staging/', ExpirationInDays: 2 }),
            expect.objectContaining({ Status: 'Enabled', Prefix: '_compaction/', ExpirationInDays: 3 }),
            // The single-stage exporter's ledger, on buckets that still hold one.
            expect.objectContaining({ Status: 'Enabled', Prefix: '_exporter/', ExpirationInDays: 7 }),
          ],
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(stack.exportBucket.accessLogBucket) } },
      });
      expect(resources[bucketId]?.DeletionPolicy).toBe('Retain');
    });

    it('denies every request without TLS', () => {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalId(stack.exportBucket.bucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('keeps its access logs in a private, encrypted, TLS-only bucket with an expiry', () => {
      const logBucketId = logicalId(stack.exportBucket.accessLogBucket);
      expect(propsOf(logBucketId)).toMatchObject({
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90 })] },
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logBucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' } }),
          ]),
        },
      });
    });
  });

  describe('datapoint log table', () => {
    it('is one on-demand table with pk/sk, PITR, TTL on expiresAt, AWS-managed encryption', () => {
      template.resourceCountIs('AWS::DynamoDB::Table', 3); // the datapoint logs, the credentials locks, the rate limit counters
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: Match.arrayWith([
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ]),
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          SSESpecification: { SSEEnabled: true },
          // Datapoints by name within an OEM: wildcard device queries never scan. Regression test: the index
          // projected ALL, so every logger state write (a 1 KB attribute) was written to the index too.
          GlobalSecondaryIndexes: [
            {
              IndexName: 'byName',
              KeySchema: [
                { AttributeName: 'gsi1pk', KeyType: 'HASH' },
                { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
              ],
              Projection: {
                ProjectionType: 'INCLUDE',
                NonKeyAttributes: [
                  'dsn', 'block', 'blockIndex', 'name', 'id', 'registeredAt', 'configuredAt',
                  'l1i', 'l1r', 'l1m', 'l2i', 'l2r', 'l2m', 'l3i', 'l3r', 'l3m', 'mdt', 'mdv',
                ],
              },
            },
          ],
        },
      });
      expect(DatapointLogTable.ttlAttribute).toBe('expiresAt');
    });

    // Each function gets the actions its access patterns use, no more (tenancy is in the keys, so the table
    // cannot be narrowed per OEM): never Scan, DeleteItem or a table-wide action.
    it.each([
      ['DatapointLoggerFunction', ['BatchGetItem', 'BatchWriteItem', 'PutItem', 'Query', 'UpdateItem'], false],
      ['IapLogConfigFunction', ['BatchGetItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'], true],
      ['IapLogValuesFunction', ['BatchGetItem', 'BatchWriteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'], true],
      ['IapJobWorkerFunction', ['BatchGetItem', 'BatchWriteItem', 'GetItem', 'PutItem', 'Query', 'UpdateItem'], true],
      ['IapJobsFunction', ['GetItem'], false],
    ])('gives %s exactly %j on the table (and its index: %s)', (prefix, actions, index) => {
      const tableId = logicalId(stack.datapointLogs.table);
      const [, policy] = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith(prefix))!;
      const statements = ((policy as Resource).Properties!.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }).Statement;
      const dynamo = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:')) && JSON.stringify(st.Resource).includes(tableId));
      expect(dynamo).toHaveLength(1);
      expect([dynamo[0]!.Action].flat()).toEqual(actions.map((a) => `dynamodb:${a}`));
      const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
      expect(dynamo[0]!.Resource).toEqual(index ? [tableArn, { 'Fn::Join': ['', [tableArn, '/index/byName']] }] : tableArn);
      const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(prefix))!;
      expect((fn[1] as Resource).Properties).toMatchObject({ Environment: { Variables: expect.objectContaining({ DATAPOINT_LOG_TABLE: { Ref: tableId } }) } });
    });

    it('refuses a binding without an access mode', () => {
      const scope = new Stack();
      const table = new DatapointLogTable(scope, 'T');
      expect(() => table.bind(stack.node.findChild('DatapointLoggerFunction') as never)).toThrow(/at least one access mode/);
      expect(Object.keys(DATAPOINT_LOG_ACCESS).sort()).toEqual(['configReader', 'configWriter', 'jobReader', 'jobWriter', 'logger', 'valuesReader', 'valuesWriter']);
      for (const mode of Object.values(DATAPOINT_LOG_ACCESS)) expect(mode.actions).not.toContain('Scan');
    });
  });

  describe('datapoint logger', () => {
    it('consumes the stream in small batches with a 1 s window, bisection, item failures and the failure destination', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(stack.node.findChild('DatapointLoggerFunction')) },
        BatchSize: 1000,
        MaximumBatchingWindowInSeconds: 1,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.exportBucket.bucket), 'Arn'] } } },
      });
    });
  });

  describe('HTTP API', () => {
    it('authorizes with a JWT authorizer trusting the user pool and its client', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: {
          Audience: [{ Ref: logicalId(stack.api.userPoolClient) }, { Ref: logicalId(stack.console.client) }],
          Issuer: {
            'Fn::Join': ['', ['https://cognito-idp.us-east-1.amazonaws.com/', { Ref: logicalId(stack.api.userPool) }]],
          },
        },
      });
    });

    it('serves GET /health without a token and everything else with the JWT authorizer', () => {
      const logs = '/iap/devs/{id}/if/{block}/{block_index}/{datapoint_name}/logs';
      const protectedRoutes = [
        'GET /me', `GET ${logs}`, `PUT ${logs}`, `GET ${logs}/{setting}`, `PUT ${logs}/{setting}`, `DELETE ${logs}/{setting}`,
        `GET ${logs}/value/{value_param}`, `DELETE ${logs}/value/{value_param}`,
        'GET /oems/{oem_id}/data-export/credentials', 'POST /oems/{oem_id}/data-export/credentials/refresh',
        'GET /oems/{oem_id}/data-export/files', 'GET /oems/{oem_id}/data-export/files/download', 'GET /oems/{oem_id}/data-export/files/preview',
        'GET /iap/jobs/{id}',
      ];
      const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => (r as Resource).Properties!);
      expect(routes.map((r) => r.RouteKey).sort()).toEqual(['GET /health', ...protectedRoutes].sort());
      for (const route of routes.filter((r) => r.RouteKey !== 'GET /health')) {
        expect(route).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: expect.stringMatching(/CognitoAuthorizer/) } });
      }
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'GET /health',
        AuthorizationType: 'NONE',
        AuthorizerId: Match.absent(),
      });
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'GET /me',
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: Match.stringLikeRegexp('CognitoAuthorizer') },
      });
    });

    it('uses Lambda proxy integrations with payload format 2.0', () => {
      template.allResourcesProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
      });
    });

    it('has a default stage with access logs and throttling', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        AccessLogSettings: {
          DestinationArn: { 'Fn::GetAtt': [logicalId(stack.api.accessLogGroup), 'Arn'] },
          Format: Match.stringLikeRegexp('\\$context\\.requestId'),
        },
        DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
      });
    });

    it('has an admin-created user pool with an immutable oem_id, an oem-admin group and a public SRP client', () => {
      template.hasResourceProperties('AWS::Cognito::UserPool', {
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        Schema: Match.arrayWith([Match.objectLike({ Name: 'oem_id', Mutable: false, AttributeDataType: 'String' })]),
        Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
        AccountRecoverySetting: { RecoveryMechanisms: [{ Name: 'verified_email', Priority: 1 }] },
      });
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'oem-admin' });
      template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
        GenerateSecret: false,
        ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_SRP_AUTH']),
        AllowedOAuthFlows: Match.absent(),
        WriteAttributes: Match.not(Match.arrayWith(['custom:oem_id'])),
      });
    });

    it('agrees with the handlers on the admin group and the OEM claim', () => {
      expect(PipelineHttpApi.adminGroup).toBe(ADMIN_GROUP);
      expect(PipelineHttpApi.oemClaim).toBe(OEM_CLAIM);
    });
  });

  describe('Lambda functions', () => {
    it('all run Node.js 24 on arm64 with a one-month log group, Powertools settings and source maps', () => {
      const functions = pipelineFunctions(template);
      expect(Object.keys(functions)).toHaveLength(12);
      for (const fn of Object.values(functions) as Resource[]) {
        expect(fn.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          Environment: {
            Variables: {
              POWERTOOLS_SERVICE_NAME: expect.any(String),
              POWERTOOLS_LOG_LEVEL: 'INFO',
              POWERTOOLS_LOGGER_LOG_EVENT: 'false',
              NODE_OPTIONS: '--enable-source-maps',
            },
          },
        });
        const logGroupRef = (fn.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
        expect(resources[logGroupRef]).toMatchObject({
          Type: 'AWS::Logs::LogGroup',
          Properties: { RetentionInDays: 30 },
          DeletionPolicy: 'Delete',
        });
      }
    });

    it('take the log level from context', () => {
      const { stack: s } = createPipelineApp({ context: { ...SKIP_BUNDLING, logLevel: 'DEBUG' } });
      for (const fn of Object.values(pipelineFunctions(Template.fromStack(s))) as Resource[]) {
        expect(fn.Properties).toMatchObject({ Environment: { Variables: expect.objectContaining({ POWERTOOLS_LOG_LEVEL: 'DEBUG' }) } });
      }
    });

    it('have roles without managed policies; /health and /me may only write their own logs', () => {
      const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) => !id.startsWith(BUCKET_DEPLOYMENT_PROVIDER));
      for (const [, role] of roles) expect((role as Resource).Properties?.ManagedPolicyArns).toBeUndefined();
      const httpPolicies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => /^(Health|Identity)Function/.test(id));
      expect(httpPolicies).toHaveLength(2);
      for (const [, policy] of httpPolicies) expect(policy).toMatchObject({ Properties: {
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: { 'Fn::GetAtt': [expect.stringMatching(/LogGroup/), 'Arn'] },
            },
          ],
        },
      } });
    });
  });

  describe('export credentials', () => {
    it('may manage only IAM users under the stack\'s path, secrets under its prefix, and its lock table', () => {
      const [, policy] = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('ExportCredentialsFunction'))!;
      const statements = ((policy as Resource).Properties!.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }> }).Statement;
      const byService = (prefix: string) => statements.filter((st) => [st.Action].flat().every((a) => a.startsWith(prefix)));
      const [iam, bounded, ...moreIam] = byService('iam:');
      expect(moreIam).toEqual([]);
      expect([iam!.Action].flat().sort()).toEqual(['iam:CreateAccessKey', 'iam:DeleteAccessKey', 'iam:GetUser', 'iam:ListAccessKeys', 'iam:TagUser']);
      expect(iam!.Condition).toBeUndefined();
      expect(JSON.stringify(iam!.Resource)).toContain(':user/DevicePipeline/oem-export/*');
      // Creating a user and changing its permissions only with the export boundary.
      expect([bounded!.Action].flat().sort()).toEqual(['iam:CreateUser', 'iam:PutUserPermissionsBoundary', 'iam:PutUserPolicy']);
      expect(JSON.stringify(bounded!.Resource)).toContain(':user/DevicePipeline/oem-export/*');
      const boundaryId = logicalId(stack.exportCredentials.userBoundary);
      expect(bounded!.Condition).toEqual({ StringEquals: { 'iam:PermissionsBoundary': { Ref: boundaryId } } });
      // No other IAM action anywhere in the policy (no AttachUserPolicy, DeleteUserPermissionsBoundary, …).
      expect(statements.flatMap((st) => [st.Action].flat()).filter((a) => a.startsWith('iam:')).sort()).toEqual(
        ['iam:CreateAccessKey', 'iam:CreateUser', 'iam:DeleteAccessKey', 'iam:GetUser', 'iam:ListAccessKeys', 'iam:PutUserPermissionsBoundary', 'iam:PutUserPolicy', 'iam:TagUser'],
      );
      const [secrets] = byService('secretsmanager:');
      expect([secrets!.Action].flat().sort()).toEqual(['secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']);
      expect(JSON.stringify(secrets!.Resource)).toContain(':secret:DevicePipeline/oem-export/*');
      const [locks] = byService('dynamodb:');
      expect(locks!.Resource).toEqual({ 'Fn::GetAtt': [logicalId(stack.exportCredentials.lockTable), 'Arn'] });
      // Nothing on every resource.
      expect(statements.filter((st) => st.Resource === '*')).toEqual([]);
      expect(propsOf(logicalId(stack.exportCredentials.function))).toMatchObject({
        Environment: { Variables: expect.objectContaining({
          IAM_PATH: '/DevicePipeline/oem-export/', SECRET_PREFIX: 'DevicePipeline/oem-export/',
          EXPORT_USER_BOUNDARY_ARN: { Ref: logicalId(stack.exportCredentials.userBoundary) },
        }) },
      });
    });

    it('gives OEM export users a permissions boundary that allows nothing beyond reading the export bucket', () => {
      const boundary = resources[logicalId(stack.exportCredentials.userBoundary)]!;
      expect(boundary.Type).toBe('AWS::IAM::ManagedPolicy');
      const bucketArn = { 'Fn::GetAtt': [logicalId(stack.exportBucket.bucket), 'Arn'] };
      expect((boundary.Properties as { PolicyDocument: unknown }).PolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
          { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [bucketArn, '/*']] } },
        ],
      });
      // A boundary only: attached to no role, group or user of the stack.
      expect(boundary.Properties).not.toHaveProperty('Roles');
      expect(boundary.Properties).not.toHaveProperty('Users');
      expect(boundary.Properties).not.toHaveProperty('Groups');
    });
  });

  it('outputs what the local cloud and the integration tests look up', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'ApiUrl',
        'DatapointLogTableName',
        'EventStreamArn',
        'EventStreamName',
        'ExportBucketName',
        'UserPoolClientId',
        'UserPoolId',
        'ConsoleUrl',
        'ConsoleClientId',
        'AuthDomainUrl',
      ].sort(),
    );
    template.hasOutput('ApiUrl', { Value: { 'Fn::GetAtt': [logicalId(stack.api.httpApi), 'ApiEndpoint'] } });
    template.hasOutput('EventStreamName', { Value: { Ref: logicalId(stack.eventStream.stream) } });
    template.hasOutput('EventStreamArn', { Value: { 'Fn::GetAtt': [logicalId(stack.eventStream.stream), 'Arn'] } });
    template.hasOutput('ExportBucketName', { Value: { Ref: logicalId(stack.exportBucket.bucket) } });
    template.hasOutput('DatapointLogTableName', { Value: { Ref: logicalId(stack.datapointLogs.table) } });
    template.hasOutput('UserPoolId', { Value: { Ref: logicalId(stack.api.userPool) } });
    template.hasOutput('UserPoolClientId', { Value: { Ref: logicalId(stack.api.userPoolClient) } });
  });
});

/** CDK's own BucketDeployment provider (Python, AWS CLI layer) is not one of the pipeline's functions. */
const BUCKET_DEPLOYMENT_PROVIDER = 'CustomCDKBucketDeployment';

function pipelineFunctions(t: Template): Record<string, unknown> {
  return Object.fromEntries(Object.entries(t.findResources('AWS::Lambda::Function')).filter(([id]) => !id.startsWith(BUCKET_DEPLOYMENT_PROVIDER)));
}

describe('cdk-nag AwsSolutions checks', () => {
  let outdir: string;

  beforeEach(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipeline-nag-'));
  });
  afterEach(() => {
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  function reportViolations(dir: string): unknown[] {
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    return report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions').flatMap((r) => r.violations);
  }

  it('synthesizes with no unacknowledged error or warning', () => {
    const { app } = createPipelineApp({ outdir, context: SKIP_BUNDLING });
    expect(() => app.synth()).not.toThrow();
    expect(reportViolations(outdir)).toEqual([]);
    // Warnings do not fail synthesis, so ask the pack directly as well.
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  it('fails synthesis on an unacknowledged finding (so `cdk synth` fails too)', () => {
    const { app, stack } = createPipelineApp({ outdir, context: SKIP_BUNDLING });
    new Bucket(stack, 'UnloggedBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
    expect(reportViolations(outdir)).toEqual(
      expect.arrayContaining([expect.objectContaining({ ruleName: 'AwsSolutions-S1', severity: 'error' })]),
    );
  });

  it('fails synthesis on an unacknowledged warning too', () => {
    const { app, stack } = createPipelineApp({ outdir, context: SKIP_BUNDLING });
    new Table(stack, 'TableWithoutPitr', { partitionKey: { name: 'id', type: AttributeType.STRING } });
    expect(() => app.synth()).toThrow(/AwsSolutions-DDB3/);
  });
});
