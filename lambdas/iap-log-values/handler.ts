import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { DatapointLogStore } from '../datapoint-logs/store';
import { ValueStore } from '../datapoint-logs/values';
import { documentClient } from '../shared/clients';
import { requireEnv } from '../shared/config';
import { httpHandler } from '../shared/http';
import { handleLogValues } from './log-values';

const doc = documentClient();
const table = requireEnv('DATAPOINT_LOG_TABLE');
const stores = { registry: new DatapointLogStore(doc, table), values: new ValueStore(doc, table) };

/** GET/DELETE `…/logs/value/{value_param}`: logged values, sorted by UTC. */
export const handler = httpHandler((event: APIGatewayProxyEventV2WithJWTAuthorizer) => handleLogValues(event, stores, Date.now())) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
