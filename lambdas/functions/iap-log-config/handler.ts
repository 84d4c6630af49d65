import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { DatapointLogStore } from '../../adapters/dynamodb/datapoint-log-store';
import type { DatapointRegistry } from '../../domain/datapoint-logs/ports';
import { documentClient } from '../../shared/clients';
import { ENV, requireEnv } from '../../shared/config';
import { httpHandler } from '../../shared/http';
import { handleLogConfig } from './log-config';

export interface Deps {
  store: DatapointRegistry;
  /** The clock (epoch ms). */
  now: () => number;
}

export function defaultDeps(): Deps {
  return { store: new DatapointLogStore(documentClient(), requireEnv(ENV.datapointLogTable)), now: Date.now };
}

/** GET/PUT `…/logs`, GET/PUT/DELETE `…/logs/{setting}` (1, 2, 3, minDeltaValue, minDeltaTime). */
export function makeHandler(deps: Deps) {
  return httpHandler((event: APIGatewayProxyEventV2WithJWTAuthorizer) => handleLogConfig(event, deps.store, deps.now())) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
}

export const handler = makeHandler(defaultDeps());
