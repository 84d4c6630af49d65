import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { DynamoLocks } from '../../adapters/dynamodb/dynamo-locks';
import { defaultRateLimiter } from '../../adapters/dynamodb/rate-limit-store';
import { SdkIam } from '../../adapters/iam/sdk-iam';
import { SdkSecrets } from '../../adapters/secrets-manager/sdk-secrets';
import { CredentialsService } from '../../domain/credentials/credentials';
import { isOemId } from '../../domain/device-events';
import { callerFromEvent } from '../../shared/auth';
import { documentClient } from '../../shared/clients';
import { ENV, requireEnv } from '../../shared/config';
import { BadRequestError, ForbiddenError, httpHandler, json } from '../../shared/http';
import { count, METRIC, withMetrics } from '../../shared/metrics';
import { rateLimited, type RateLimiter } from '../../domain/rate-limit/limiter';

export interface Deps {
  service: Pick<CredentialsService, 'current' | 'refresh'>;
  /** The per-OEM API rate limit (none when absent). */
  limiter?: RateLimiter;
}

export function defaultDeps(): Deps {
  return {
    service: new CredentialsService(
      new SdkIam(new IAMClient({}), requireEnv(ENV.exportUserBoundary)),
      new SdkSecrets(new SecretsManagerClient({})),
      new DynamoLocks(documentClient(), requireEnv(ENV.lockTable)),
      {
        bucket: requireEnv(ENV.exportBucket),
        region: requireEnv(ENV.region),
        iamPath: requireEnv(ENV.iamPath),
        secretPrefix: requireEnv(ENV.secretPrefix),
      },
    ),
    limiter: defaultRateLimiter(),
  };
}

/**
 * GET /oems/{oem_id}/data-export/credentials, POST …/credentials/refresh. Only an admin of the OEM in
 * the path may call them: the caller's OEM and role come from the verified token; another OEM's
 * admin or a non-admin gets 403.
 */
export function makeHandler(deps: Deps) {
  const limiter = deps.limiter ?? { check: async () => undefined };
  return withMetrics(httpHandler(rateLimited(limiter, async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
    const caller = callerFromEvent(event);
    const oemId = event.pathParameters?.oem_id ?? '';
    if (!isOemId(oemId)) throw new BadRequestError(`oem_id ${JSON.stringify(oemId)} is not an OEM id`, 'BadPath');
    if (!caller.admin || caller.oemId !== oemId) throw new ForbiddenError(`only an admin of OEM ${oemId} may manage its data export credentials`, 'NotOemAdmin');
    const refresh = event.requestContext.http.method.toUpperCase() === 'POST';
    const credentials = await (refresh ? deps.service.refresh(oemId) : deps.service.current(oemId)).catch((error: unknown) => {
      count(METRIC.credentialsFailed);
      throw error;
    });
    count(refresh ? METRIC.credentialsRotated : METRIC.credentialsServed);
    return { ...json(200, credentials), headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } };
  }))) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
}

export const handler = makeHandler(defaultDeps());
