import { Aws, CfnResource, Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { CfnUserPoolClient, OAuthScope, UserPoolClientIdentityProvider, type UserPoolClient, type UserPoolDomain } from 'aws-cdk-lib/aws-cognito';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { DockerImage } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { nagResourceFinding } from '../nag';
import { buildConsoleInto, CONSOLE_BUILD_METADATA, CONSOLE_DIR } from '../console-build';
import type { PipelineHttpApi } from './pipeline-http-api';

/** The sign-in scopes of the console's app client, as `config.json` lists them. */
export const CONSOLE_SCOPES = ['openid', 'email', 'profile'] as const;
/** The SPA route that receives `?code=&state=` from the hosted UI. */
export const CALLBACK_PATH = '/callback';

export interface ConsoleHostingProps {
  /** The HTTP API the console calls, with the user pool it signs in to. */
  readonly api: PipelineHttpApi;
  /**
   * Prefix of the Cognito domain (`<prefix>.auth.<region>.amazoncognito.com`), unique in the region.
   * @default context `consoleAuthDomainPrefix`, else `<stack name in lower case>-<account id>`
   */
  readonly authDomainPrefix?: string;
}

/**
 * The OEM console: its build in a private S3 bucket behind CloudFront (origin access control, HTTPS only,
 * security headers with a strict CSP, SPA routing), a `config.json` written at deploy time, and the
 * sign-in it uses: the user pool's Cognito domain (hosted UI) and a public app client for the
 * authorization code grant with PKCE, whose ID tokens the API's JWT authorizer accepts.
 */
export class ConsoleHosting extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly domain: UserPoolDomain;
  readonly client: UserPoolClient;
  readonly responseHeadersPolicy: ResponseHeadersPolicy;
  /** `https://<distribution domain>`, no trailing slash. */
  readonly url: string;
  /** `https://<prefix>.auth.<region>.amazoncognito.com`, no trailing slash. */
  readonly authDomainUrl: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { api } = props;

    const contextPrefix: unknown = this.node.tryGetContext('consoleAuthDomainPrefix');
    const prefix = props.authDomainPrefix ?? (typeof contextPrefix === 'string' && contextPrefix !== '' ? contextPrefix : defaultDomainPrefix(stack));
    this.domain = api.userPool.addDomain('ConsoleDomain', { cognitoDomain: { domainPrefix: prefix } });
    this.authDomainUrl = this.domain.baseUrl();

    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'The bucket holds only the console build, written by the stack deployment and read by CloudFront alone ' +
        '(origin access control, no public access); viewer requests are where access happens and CloudFront ' +
        'standard logging can be enabled for them.',
    });

    // connect-src names the API by its regional wildcard: naming the API itself would make the distribution
    // depend on the API while the API's CORS origin depends on the distribution (a cycle).
    const apiOrigins = `https://*.execute-api.${stack.region}.amazonaws.com`;
    const csp = [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "font-src 'self'",
      "manifest-src 'self'",
      `connect-src 'self' ${apiOrigins} ${this.authDomainUrl}`,
      `form-action 'self' ${this.authDomainUrl}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "object-src 'none'",
    ].join('; ');
    this.responseHeadersPolicy = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'OEM console: strict CSP, HSTS, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        // The callback URL carries the authorization code: it must never leave in a Referer.
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });

    const origin = S3BucketOrigin.withOriginAccessControl(this.bucket);
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'OEM console',
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeadersPolicy,
        compress: true,
      },
      additionalBehaviors: {
        // Written at each deployment: never served from a cache.
        '/config.json': {
          origin,
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: CachePolicy.CACHING_DISABLED,
          responseHeadersPolicy: this.responseHeadersPolicy,
        },
      },
      // SPA routing: a path with no object (S3 answers 403 to OAC for a missing key) is the app's own route.
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(0) })),
    });
    this.url = `https://${this.distribution.distributionDomainName}`;
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'OEM users sign in from any country; access is controlled by Cognito sign-in, not by geography.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason: 'The distribution serves a static build only (GET/HEAD, no origin logic); the API behind the console has its own throttling.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR3',
      reason: 'Standard logging needs an ACL-enabled log bucket; the static console holds no data and the API it calls keeps access logs.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason:
        'The distribution uses the default *.cloudfront.net certificate, which does not allow choosing the minimum ' +
        'TLS version; with a custom domain, set a certificate and TLSv1.2_2021.',
    });

    this.client = api.userPool.addClient('ConsoleClient', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [`${this.url}${CALLBACK_PATH}`],
        logoutUrls: [`${this.url}/`],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
    });
    // No direct sign-in flows (SRP, password): the hosted UI's code grant only, and refresh of its tokens.
    (this.client.node.defaultChild as CfnUserPoolClient).explicitAuthFlows = ['ALLOW_REFRESH_TOKEN_AUTH'];
    api.addAudience(this.client);
    api.allowBrowserOrigin(this.url);

    const config = {
      apiUrl: api.httpApi.apiEndpoint,
      region: stack.region,
      auth: {
        domain: this.authDomainUrl,
        clientId: this.client.userPoolClientId,
        redirectUri: `${this.url}${CALLBACK_PATH}`,
        logoutUri: `${this.url}/`,
        scopes: [...CONSOLE_SCOPES],
      },
    };
    const deployment = new BucketDeployment(this, 'Deployment', {
      destinationBucket: this.bucket,
      sources: [consoleBuildSource(), Source.jsonData('config.json', config)],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 256,
    });
    const resource = deployment.node.findAll().find((c): c is CfnResource => CfnResource.isCfnResource(c) && c.cfnResourceType === 'Custom::CDKBucketDeployment');
    if (!resource) throw new Error('BucketDeployment has no custom resource to mark');
    resource.addMetadata(CONSOLE_BUILD_METADATA, 0);
    acknowledgeDeploymentFunction(this, this.bucket);
  }
}

/** `<stack name>-<account id>` in lower case: unique per account, as Cognito domain prefixes must be in a region. */
function defaultDomainPrefix(stack: Stack): string {
  const name = stack.stackName.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/aws|amazon|cognito/g, 'x').slice(0, 40);
  return Token.isUnresolved(stack.account) ? Fn.join('-', [name, Aws.ACCOUNT_ID]) : `${name}-${stack.account}`;
}

/**
 * The console build as a deployment source: bundled locally by the console's own build script (esbuild, no
 * Docker). Until that script exists, a page that says so stands in.
 */
function consoleBuildSource() {
  return Source.asset(CONSOLE_DIR, {
    exclude: ['node_modules', '*.test.ts'],
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-slim'),
      local: {
        tryBundle(outputDir: string): boolean {
          buildConsoleInto(outputDir);
          return true;
        },
      },
    },
  });
}

/** The BucketDeployment's provider function (CDK's own, Python with the AWS CLI layer): its findings, with reasons. */
function acknowledgeDeploymentFunction(scope: Construct, bucket: Bucket): void {
  const stack = Stack.of(scope);
  const assets = `arn:aws:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${stack.region}/*`;
  const bucketObjects = nagResourceFinding(scope, bucket.arnForObjects('*'));
  const iam5 = [
    ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => `Action::${action}`),
    `Resource::${assets}`,
    ...(bucketObjects ? [`Resource::${bucketObjects}`] : []),
    // cloudfront:CreateInvalidation and GetInvalidation, which CDK grants on every distribution.
    'Resource::*',
  ];
  // A singleton in the stack's scope, its id suffixed with the memory limit.
  for (const target of stack.node.children.filter((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'))) {
    Validations.of(target).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's BucketDeployment provider uses AWSLambdaBasicExecutionRole for its own log stream; it runs only during deployments.",
    });
    for (const finding of iam5) {
      Validations.of(target).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason:
          "CDK's BucketDeployment provider reads the stack's console assets from the bootstrap bucket, replaces the console bucket's " +
          'objects (the s3 action families CDK grants, on that bucket only) and invalidates the distribution (CloudFront has no ' +
          'resource-level scope for invalidations here); it runs only during deployments.',
      });
    }
    Validations.of(target).acknowledge({
      id: 'AwsSolutions-L1',
      reason: "The BucketDeployment provider's runtime is chosen by aws-cdk-lib (Python, with the AWS CLI layer), not by this stack.",
    });
  }
}
