import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { datapointLogStores } from '../../adapters/dynamodb/datapoint-log-stores';
import { defaultRateLimiter } from '../../adapters/dynamodb/rate-limit-store';
import { jobStarter } from '../../adapters/job-starter';
import type { DatapointLogStores } from '../../domain/datapoint-logs/ports';
import type { JobStarter } from '../../domain/iap-jobs/ports';
import { httpHandler } from '../../shared/http';
import { rateLimited, type RateLimiter } from '../../domain/rate-limit/limiter';
import { handleLogValues } from './log-values';

export interface Deps {
  stores: DatapointLogStores;
  /** The clock (epoch ms). */
  now: () => number;
  /** Where deletes over more than the synchronous bound go. */
  jobs: JobStarter;
  limiter: RateLimiter;
}

export function defaultDeps(): Deps {
  return { stores: datapointLogStores(), now: Date.now, jobs: jobStarter(), limiter: defaultRateLimiter() };
}

/** GET/DELETE `…/logs/value/{value_param}`: logged values, sorted by UTC. */
export function makeHandler(deps: Deps) {
  return httpHandler(rateLimited(deps.limiter, (event: APIGatewayProxyEventV2WithJWTAuthorizer) => handleLogValues(event, deps.stores, deps.now(), deps.jobs))) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
}

export const handler = makeHandler(defaultDeps());
