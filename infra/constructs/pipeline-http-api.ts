import { Lazy, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnApi,
  CfnAuthorizer,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpRoute,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AccountRecovery,
  CfnUserPoolGroup,
  ClientAttributes,
  Mfa,
  StringAttribute,
  UserPool,
  type IUserPoolClient,
  UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ADMIN_GROUP, OEM_CLAIM } from '../../lambdas/shared/auth';

export interface PipelineHttpApiProps {
  /** Steady-state requests per second of the whole stage. @default 100 */
  readonly throttleRateLimit?: number;
  /** Burst of the whole stage. @default 200 */
  readonly throttleBurstLimit?: number;
}

export interface AddRouteOptions {
  /** Answer without a token (HttpNoneAuthorizer). Acknowledge AwsSolutions-APIG4 on the route with a reason. */
  readonly public?: boolean;
}

// One JSON line per request; no headers, tokens or claims.
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    httpMethod: '$context.httpMethod',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
  }),
);

/**
 * The HTTP API of the pipeline and its identities. Every route needs a Cognito JWT (the ID
 * token: it carries `custom:oem_id` and `cognito:groups`) unless added with `public: true`.
 * In the local cloud the same authorizer is played by a local issuer (`npm run token`).
 */
export class PipelineHttpApi extends Construct {
  /** Cognito group whose members administer their own OEM. */
  static readonly adminGroup = ADMIN_GROUP;
  /** Verified token claim naming the caller's OEM (immutable custom attribute `oem_id`). */
  static readonly oemClaim = OEM_CLAIM;

  readonly httpApi: HttpApi;
  readonly userPool: UserPool;
  readonly userPoolClient: UserPoolClient;
  readonly accessLogGroup: LogGroup;
  private readonly integrations = new Map<IFunction, HttpLambdaIntegration>();
  /** The app clients whose ID tokens the authorizer accepts (its audience). */
  private readonly audience: IUserPoolClient[] = [];

  constructor(scope: Construct, id: string, props: PipelineHttpApiProps = {}) {
    super(scope, id);

    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        // Set once by an operator when the user is created; a user never changes tenant.
        oem_id: new StringAttribute({ minLen: 1, maxLen: 64, mutable: false }),
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG2',
      reason:
        'MFA (TOTP) is offered but not required: IAP API consumers sign in unattended with SRP ' +
        'from scripts and device back ends, where a second factor cannot be typed.',
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason:
        'The Plus feature plan (threat protection) is billed per monthly active user; the ' +
        'pool has no self sign-up (operators create every user), so Essentials is the default. ' +
        'Operators who need threat protection set featurePlan PLUS.',
    });

    this.userPoolClient = this.userPool.addClient('Client', {
      generateSecret: false,
      authFlows: { userSrp: true },
      // No hosted UI / OAuth flows (CDK would otherwise enable implicit + code grants).
      disableOAuth: true,
      preventUserExistenceErrors: true,
      readAttributes: new ClientAttributes()
        .withStandardAttributes({ email: true, emailVerified: true })
        .withCustomAttributes('oem_id'),
      // The tenant attribute is never writable by the user.
      writeAttributes: new ClientAttributes().withStandardAttributes({ email: true }),
    });

    this.audience.push(this.userPoolClient);

    new CfnUserPoolGroup(this, 'OemAdminGroup', {
      userPoolId: this.userPool.userPoolId,
      groupName: PipelineHttpApi.adminGroup,
      description: 'Administrators of their own OEM (data export credentials).',
    });

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Device pipeline HTTP API',
      // HttpUserPoolAuthorizer renders a JWT authorizer: issuer
      // https://cognito-idp.<region>.amazonaws.com/<poolId>, audience = the client id.
      defaultAuthorizer: new HttpUserPoolAuthorizer('CognitoAuthorizer', this.userPool, {
        userPoolClients: [this.userPoolClient],
        identitySource: ['$request.header.Authorization'],
      }),
      // The default stage is added below with access logging and throttling.
      createDefaultStage: false,
    });

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: {
        rateLimit: props.throttleRateLimit ?? 100,
        burstLimit: props.throttleBurstLimit ?? 200,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: ACCESS_LOG_FORMAT,
      },
    });
  }

  /**
   * Routes `method path` to `fn` (Lambda proxy, payload format 2.0). Protected by the JWT
   * authorizer unless `public: true`. Functions used by several routes share one integration.
   */
  addRoute(method: HttpMethod, path: string, fn: IFunction, options: AddRouteOptions = {}): HttpRoute {
    const [route] = this.httpApi.addRoutes({
      path,
      methods: [method],
      integration: this.integrationFor(fn),
      authorizer: options.public ? new HttpNoneAuthorizer() : undefined,
    });
    if (!route) throw new Error(`No route created for ${method} ${path}`);
    return route;
  }

  /**
   * Adds an app client to the JWT authorizer's audience: its ID tokens are accepted as the first client's are.
   * Call it after the first route that uses the authorizer (which creates it).
   */
  addAudience(client: IUserPoolClient): void {
    const authorizer = this.httpApi.node.findAll().find((c): c is CfnAuthorizer => c instanceof CfnAuthorizer);
    if (!authorizer) throw new Error('addAudience needs the authorizer: add a protected route first');
    if (this.audience.length === 1) {
      authorizer.addPropertyOverride('JwtConfiguration.Audience', Lazy.list({ produce: () => this.audience.map((c) => c.userPoolClientId) }));
    }
    this.audience.push(client);
  }

  /**
   * Lets a browser app at `origin` call the API (CORS: API Gateway answers the preflight itself). Bearer tokens
   * only, no cookies: credentials are not allowed.
   */
  allowBrowserOrigin(origin: string): void {
    const api = this.httpApi.node.defaultChild as CfnApi;
    api.corsConfiguration = {
      allowOrigins: [origin],
      allowMethods: ['GET', 'PUT', 'POST', 'DELETE'],
      allowHeaders: ['authorization', 'content-type'],
      maxAge: 600,
    };
  }

  private integrationFor(fn: IFunction): HttpLambdaIntegration {
    let integration = this.integrations.get(fn);
    if (!integration) {
      integration = new HttpLambdaIntegration(`${fn.node.id}Integration`, fn, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      });
      this.integrations.set(fn, integration);
    }
    return integration;
  }
}
