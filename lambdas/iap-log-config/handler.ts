import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { DatapointLogStore } from '../datapoint-logs/store';
import { documentClient } from '../shared/clients';
import { requireEnv } from '../shared/config';
import { httpHandler } from '../shared/http';
import { handleLogConfig } from './log-config';

const store = new DatapointLogStore(documentClient(), requireEnv('DATAPOINT_LOG_TABLE'));

/** GET/PUT `…/logs`, GET/PUT/DELETE `…/logs/{setting}` (1, 2, 3, minDeltaValue, minDeltaTime). */
export const handler = httpHandler((event: APIGatewayProxyEventV2WithJWTAuthorizer) => handleLogConfig(event, store, Date.now())) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
