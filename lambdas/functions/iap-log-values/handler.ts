import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { DatapointLogStore } from '../../adapters/dynamodb/datapoint-log-store';
import { ValueStore } from '../../adapters/dynamodb/value-store';
import type { DatapointLogStores } from '../../domain/datapoint-logs/ports';
import { documentClient } from '../../shared/clients';
import { ENV, requireEnv } from '../../shared/config';
import { httpHandler } from '../../shared/http';
import { handleLogValues } from './log-values';

export interface Deps {
  stores: DatapointLogStores;
  /** The clock (epoch ms). */
  now: () => number;
}

export function defaultDeps(): Deps {
  const doc = documentClient();
  const table = requireEnv(ENV.datapointLogTable);
  return { stores: { registry: new DatapointLogStore(doc, table), values: new ValueStore(doc, table) }, now: Date.now };
}

/** GET/DELETE `…/logs/value/{value_param}`: logged values, sorted by UTC. */
export function makeHandler(deps: Deps) {
  return httpHandler((event: APIGatewayProxyEventV2WithJWTAuthorizer) => handleLogValues(event, deps.stores, deps.now())) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
}

export const handler = makeHandler(defaultDeps());
