import type { APIGatewayProxyHandlerV2 } from 'aws-lambda';
import { httpHandler, json } from '../../shared/http';

/** GET /health (public): the API and its Lambda integration answer. It needs no dependencies. */
export function makeHandler() {
  return httpHandler(async () => json(200, { status: 'ok' })) satisfies APIGatewayProxyHandlerV2;
}

export const handler = makeHandler();
