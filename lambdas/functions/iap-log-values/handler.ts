import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { datapointLogStores } from '../../adapters/dynamodb/datapoint-log-stores';
import type { DatapointLogStores } from '../../domain/datapoint-logs/ports';
import { httpHandler } from '../../shared/http';
import { handleLogValues } from './log-values';

export interface Deps {
  stores: DatapointLogStores;
  /** The clock (epoch ms). */
  now: () => number;
}

export function defaultDeps(): Deps {
  return { stores: datapointLogStores(), now: Date.now };
}

/** GET/DELETE `…/logs/value/{value_param}`: logged values, sorted by UTC. */
export function makeHandler(deps: Deps) {
  return httpHandler((event: APIGatewayProxyEventV2WithJWTAuthorizer) => handleLogValues(event, deps.stores, deps.now())) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
}

export const handler = makeHandler(defaultDeps());
