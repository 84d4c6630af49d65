import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { callerFromEvent } from '../../shared/auth';
import { httpHandler, json } from '../../shared/http';

/** GET /me: the verified caller, `{ subject, oemId, admin }`, as the authorizer's claims say. It needs no dependencies. */
export function makeHandler() {
  return httpHandler(async (event: APIGatewayProxyEventV2WithJWTAuthorizer) =>
    json(200, callerFromEvent(event)),
  ) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
}

export const handler = makeHandler();
