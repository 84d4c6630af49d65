import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { DatapointLogStore } from '../../adapters/dynamodb/datapoint-log-store';
import { defaultRateLimiter } from '../../adapters/dynamodb/rate-limit-store';
import { jobStarter } from '../../adapters/job-starter';
import type { DatapointRegistry } from '../../domain/datapoint-logs/ports';
import type { JobStarter } from '../../domain/iap-jobs/ports';
import { documentClient } from '../../shared/clients';
import { ENV, requireEnv } from '../../shared/config';
import { httpHandler } from '../../shared/http';
import { rateLimited, type RateLimiter } from '../../domain/rate-limit/limiter';
import { handleLogConfig } from './log-config';

export interface Deps {
  store: DatapointRegistry;
  /** The clock (epoch ms). */
  now: () => number;
  /** Where changes over more than the synchronous bound go. */
  jobs: JobStarter;
  limiter: RateLimiter;
}

export function defaultDeps(): Deps {
  return { store: new DatapointLogStore(documentClient(), requireEnv(ENV.datapointLogTable)), now: Date.now, jobs: jobStarter(), limiter: defaultRateLimiter() };
}

/** GET/PUT `…/logs`, GET/PUT/DELETE `…/logs/{setting}` (1, 2, 3, minDeltaValue, minDeltaTime). */
export function makeHandler(deps: Deps) {
  return httpHandler(rateLimited(deps.limiter, (event: APIGatewayProxyEventV2WithJWTAuthorizer) => handleLogConfig(event, deps.store, deps.now(), deps.jobs))) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
}

export const handler = makeHandler(defaultDeps());
