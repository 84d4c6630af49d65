import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createPipelineApp } from '../../infra/pipeline-app';
import type { DevicePipelineStack } from '../../infra/pipeline-stack';

const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function logicalId(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(element.logicalId) as string;
}

type Resource = { Type: string; Properties: Record<string, unknown> };

describe('ConsoleHosting', () => {
  let stack: DevicePipelineStack;
  let template: Template;
  const only = (type: string): Resource => {
    const all = Object.values(template.findResources(type)) as Resource[];
    expect(all).toHaveLength(1);
    return all[0]!;
  };

  beforeAll(() => {
    ({ stack } = createPipelineApp({ context: { ...SKIP_BUNDLING, consoleAuthDomainPrefix: 'acme-oem-console' } }));
    template = Template.fromStack(stack);
  });

  it('keeps the build in a private, encrypted, TLS-only bucket that only the distribution reads', () => {
    const bucket = logicalId(stack.console.bucket);
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    const [policy] = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucket } } })) as Resource[];
    const statements = (policy!.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements).toContainEqual(expect.objectContaining({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() } },
    }));
    expect(JSON.stringify(statements.find((s) => s.Effect === 'Allow'))).toContain(logicalId(stack.console.distribution));
  });

  it('reads the bucket through origin access control (SigV4, always signed)', () => {
    const oac = Object.keys(template.findResources('AWS::CloudFront::OriginAccessControl'));
    expect(oac).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' },
    });
    const config = only('AWS::CloudFront::Distribution').Properties.DistributionConfig as Record<string, unknown>;
    expect(config.Origins).toEqual([expect.objectContaining({
      DomainName: { 'Fn::GetAtt': [logicalId(stack.console.bucket), 'RegionalDomainName'] },
      OriginAccessControlId: { 'Fn::GetAtt': [oac[0], 'Id'] },
      S3OriginConfig: { OriginAccessIdentity: '' },
    })]);
  });

  it('serves HTTPS only, index.html at the root and for every route the bucket does not have, config.json uncached', () => {
    const config = only('AWS::CloudFront::Distribution').Properties.DistributionConfig as Record<string, unknown>;
    const headers = { Ref: logicalId(stack.console.responseHeadersPolicy) };
    expect(config).toMatchObject({
      DefaultRootObject: 'index.html',
      DefaultCacheBehavior: { ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'], ResponseHeadersPolicyId: headers },
      CustomErrorResponses: [
        { ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
        { ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 },
      ],
    });
    // The managed CachingDisabled policy.
    expect(config.CacheBehaviors).toEqual([expect.objectContaining({
      PathPattern: '/config.json', ViewerProtocolPolicy: 'redirect-to-https', CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', ResponseHeadersPolicyId: headers,
    })]);
  });

  it('sends a strict CSP (no inline script, API and sign-in domain only), HSTS, no framing, nosniff and no referrer', () => {
    const security = (only('AWS::CloudFront::ResponseHeadersPolicy').Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, unknown> }).SecurityHeadersConfig;
    const csp = Stack.of(stack).resolve((security.ContentSecurityPolicy as { ContentSecurityPolicy: unknown }).ContentSecurityPolicy) as unknown;
    const text = JSON.stringify(csp);
    expect(text).toContain("default-src 'none'");
    expect(text).toContain("script-src 'self';");
    expect(text).not.toContain('unsafe-inline');
    expect(text).not.toContain('unsafe-eval');
    expect(text).toContain("frame-ancestors 'none'");
    expect(text).toContain("connect-src 'self' https://*.execute-api.us-east-1.amazonaws.com https://");
    expect(text).toContain('.auth.us-east-1.amazoncognito.com');
    expect(security).toMatchObject({
      ContentSecurityPolicy: { Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
    });
  });

  it('gives the user pool a hosted UI domain with the prefix from context', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'acme-oem-console', UserPoolId: { Ref: logicalId(stack.api.userPool) } });
  });

  it('derives the domain prefix from the stack name and account without context', () => {
    const { stack: s } = createPipelineApp({ context: SKIP_BUNDLING });
    Template.fromStack(s).hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: { 'Fn::Join': ['-', ['devicepipeline', { Ref: 'AWS::AccountId' }]] } });
  });

  it('has a public console app client: authorization code only (PKCE), openid email profile, callback and sign-out on the console URL', () => {
    const consoleUrl = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.console.distribution), 'DomainName'] }]] };
    const withPath = (p: string) => ({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [logicalId(stack.console.distribution), 'DomainName'] }, p]] });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: { Ref: logicalId(stack.api.userPool) },
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: [withPath('/callback')],
      LogoutURLs: [withPath('/')],
      SupportedIdentityProviders: ['COGNITO'],
      PreventUserExistenceErrors: 'ENABLED',
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    });
    template.hasOutput('ConsoleUrl', { Value: consoleUrl });
    // The API answers CORS for the console's origin only.
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.objectLike({ AllowOrigins: [consoleUrl] }) });
  });

  it('deploys the build and a config.json with the API URL, sign-in domain and client id resolved at deploy time', () => {
    const deployment = only('Custom::CDKBucketDeployment');
    expect(deployment.Properties).toMatchObject({
      DestinationBucketName: { Ref: logicalId(stack.console.bucket) },
      DistributionId: { Ref: logicalId(stack.console.distribution) },
      DistributionPaths: ['/*'],
      Prune: true,
    });
    const markers = deployment.Properties.SourceMarkers as Array<Record<string, unknown>>;
    expect(markers).toHaveLength(2);
    expect(Object.values(markers[1]!)).toEqual(expect.arrayContaining([
      { 'Fn::GetAtt': [logicalId(stack.api.httpApi), 'ApiEndpoint'] },
      { Ref: logicalId(stack.console.client) },
      { Ref: logicalId(stack.console.domain) },
    ]));
  });
});

describe('ExportFilesApi', () => {
  it('lists only with a prefix outside the pipeline\'s own, reads objects but never the pipeline\'s prefixes', () => {
    const { stack } = createPipelineApp({ context: SKIP_BUNDLING });
    const template = Template.fromStack(stack);
    const [, policy] = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('ExportFilesFunction'))!;
    const statements = ((policy as Resource).Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;
    const bucket = logicalId(stack.exportBucket.bucket);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: { 'Fn::GetAtt': [bucket, 'Arn'] },
      Condition: { Null: { 's3:prefix': 'false' }, StringNotLike: { 's3:prefix': ['', '_*', 'aws/lambda/*'] } },
    });
    expect(statements).toContainEqual({ Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/*']] } });
    expect(statements).toContainEqual({
      Effect: 'Deny',
      Action: 's3:GetObject',
      Resource: [{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/_*']] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucket, 'Arn'] }, '/aws/lambda/*']] }],
    });
    expect(statements.filter((s) => s.Resource === '*')).toEqual([]);
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('s3:PutObject');
  });
});
