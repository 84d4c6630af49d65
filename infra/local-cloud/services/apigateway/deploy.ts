import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DeployedStack } from '../../cloudformation/template';
import type { LambdaFunctionRuntime } from '../lambda/runtime';
import type { CorsSettings, HttpRoute, JwtAuthorizerSettings } from './http-api';

export interface HttpApiDeployment {
  cors?: CorsSettings;
  routes: HttpRoute[];
  /** The first JWT authorizer: the local issuer signs tokens for it. */
  authorizer?: JwtAuthorizerSettings;
  apiId: string;
  stage: string;
}

/**
 * `AWS::ApiGatewayV2::Api` with its Stage, JWT Authorizers, AWS_PROXY Integrations and Routes: each route
 * invokes its Lambda integration. The local cloud serves one HTTP API.
 */
export function httpApiFromTemplate(
  stack: DeployedStack,
  functionByArn: (arn: string) => LambdaFunctionRuntime | undefined,
  log: (line: string) => void,
): HttpApiDeployment {
  const apis = stack.resourcesOfType('AWS::ApiGatewayV2::Api');
  if (apis.length === 0) return { routes: [], apiId: 'none', stage: '$default' };
  if (apis.length > 1) log(`the local cloud serves one HTTP API: ${apis[0]![0]}; others are ignored`);
  const [apiLogicalId, apiResource] = apis[0]!;
  const corsConfig = stack.resolve(apiResource.Properties?.CorsConfiguration) as
    | { AllowOrigins?: string[]; AllowMethods?: string[]; AllowHeaders?: string[]; ExposeHeaders?: string[]; MaxAge?: number; AllowCredentials?: boolean }
    | undefined;
  const cors: CorsSettings | undefined = corsConfig && {
    allowOrigins: corsConfig.AllowOrigins ?? [],
    ...(corsConfig.AllowMethods ? { allowMethods: corsConfig.AllowMethods } : {}),
    ...(corsConfig.AllowHeaders ? { allowHeaders: corsConfig.AllowHeaders } : {}),
    ...(corsConfig.ExposeHeaders ? { exposeHeaders: corsConfig.ExposeHeaders } : {}),
    ...(corsConfig.MaxAge !== undefined ? { maxAge: Number(corsConfig.MaxAge) } : {}),
    ...(corsConfig.AllowCredentials ? { allowCredentials: true } : {}),
  };
  const belongs = (props: Record<string, unknown> | undefined) => DeployedStack.referencedLogicalId(props?.ApiId) === apiLogicalId;

  const stageResource = stack.resourcesOfType('AWS::ApiGatewayV2::Stage').find(([, r]) => belongs(r.Properties));
  const stage = stageResource ? stack.resolveString(stageResource[1].Properties?.StageName) : '$default';

  const authorizers = new Map<string, JwtAuthorizerSettings>();
  for (const [id, r] of stack.resourcesOfType('AWS::ApiGatewayV2::Authorizer')) {
    if (!belongs(r.Properties)) continue;
    const p = stack.resolve(r.Properties) as { AuthorizerType: string; JwtConfiguration?: { Issuer: string; Audience: string[] }; IdentitySource?: string[] };
    if (p.AuthorizerType !== 'JWT' || !p.JwtConfiguration) {
      log(`authorizer ${id}: only JWT authorizers run locally, routes using it answer 401`);
      continue;
    }
    authorizers.set(stack.ref(id), {
      issuer: p.JwtConfiguration.Issuer,
      audience: p.JwtConfiguration.Audience,
      identitySource: p.IdentitySource?.[0] ?? '$request.header.Authorization',
    });
  }
  const integrations = new Map<string, string>();
  for (const [id, r] of stack.resourcesOfType('AWS::ApiGatewayV2::Integration')) {
    if (!belongs(r.Properties)) continue;
    const p = stack.resolve(r.Properties) as { IntegrationType: string; IntegrationUri?: string };
    if (p.IntegrationType === 'AWS_PROXY' && p.IntegrationUri) integrations.set(stack.ref(id), p.IntegrationUri);
  }
  const routes: HttpRoute[] = [];
  for (const [id, r] of stack.resourcesOfType('AWS::ApiGatewayV2::Route')) {
    if (!belongs(r.Properties)) continue;
    const p = stack.resolve(r.Properties) as { RouteKey: string; Target?: string; AuthorizationType?: string; AuthorizerId?: string; AuthorizationScopes?: string[] };
    const functionArn = integrations.get((p.Target ?? '').replace(/^integrations\//, ''));
    const fn = functionArn ? functionByArn(functionArn) : undefined;
    if (!fn) {
      log(`route ${id} (${p.RouteKey}): no Lambda integration to run, skipped`);
      continue;
    }
    const isJwt = p.AuthorizationType === 'JWT';
    const authorizer = isJwt ? authorizers.get(p.AuthorizerId ?? '') : undefined;
    // A JWT route whose authorizer cannot run locally must still refuse: an impossible issuer does.
    const effective = isJwt ? authorizer ?? { issuer: 'unavailable', audience: [], identitySource: '$request.header.Authorization' } : undefined;
    routes.push({
      routeKey: p.RouteKey,
      invoke: (event: APIGatewayProxyEventV2) => fn.invoke(event),
      ...(effective ? { authorizer: effective } : {}),
      ...(p.AuthorizationScopes ? { authorizationScopes: p.AuthorizationScopes } : {}),
    });
  }
  return { routes, authorizer: [...authorizers.values()][0], apiId: stack.ref(apiLogicalId), stage, ...(cors ? { cors } : {}) };
}
