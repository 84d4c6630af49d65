import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger } from './logger';

/**
 * A client-visible failure: mapped by `httpHandler` to its status and a `{ code, message }`
 * JSON body. Throw one of the subclasses for a client's mistake; anything else becomes 500.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options?: ErrorOptions,
    /** Response headers beside the JSON body (e.g. `retry-after`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class BadRequestError extends HttpError {
  constructor(message = 'Bad request', code = 'BadRequest') {
    super(400, code, message);
  }
}

export class UnauthorizedError extends HttpError {
  constructor(message = 'Unauthorized', code = 'Unauthorized') {
    super(401, code, message);
  }
}

export class ForbiddenError extends HttpError {
  constructor(message = 'Forbidden', code = 'Forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends HttpError {
  constructor(message = 'Not found', code = 'NotFound') {
    super(404, code, message);
  }
}

export class ConflictError extends HttpError {
  constructor(message = 'Conflict', code = 'Conflict') {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(message = 'Payload too large', code = 'PayloadTooLarge') {
    super(413, code, message);
  }
}

/** A well-formed request this API will not answer as it stands (e.g. a selection too large): narrow it. */
export class UnprocessableEntityError extends HttpError {
  constructor(message = 'Unprocessable entity', code = 'Unprocessable') {
    super(422, code, message);
  }
}

/** Too many requests of one OEM within the rate limit's window: retry after `retryAfterSeconds`. */
export class TooManyRequestsError extends HttpError {
  constructor(readonly retryAfterSeconds: number, message = 'Too many requests', code = 'TooManyRequests') {
    super(429, code, message, undefined, { 'retry-after': String(retryAfterSeconds) });
  }
}

export interface ErrorBody {
  code: string;
  message: string;
}

/** A JSON response. */
export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

/** Lambda's response payload limit (6 MB), less room for the response envelope. */
export const MAX_REPLY_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/** A JSON reply that must fit the payload limit: a larger one is a 413 asking the caller to page. */
export function jsonWithinLimit(statusCode: number, body: unknown, hint = 'ask for pages with ?pg=0&sz=100'): APIGatewayProxyStructuredResultV2 {
  const text = JSON.stringify(body);
  if (Buffer.byteLength(text) > MAX_REPLY_BYTES) {
    throw new PayloadTooLargeError(`the reply would be larger than the ${MAX_REPLY_BYTES} bytes an answer may have: ${hint}`, 'ReplyTooLarge');
  }
  return { statusCode, headers: { 'content-type': 'application/json' }, body: text };
}

/**
 * A route implementation: takes an HTTP API payload 2.0 event (plain or with a JWT authorizer
 * context, which is a subtype) and returns a structured result.
 */
export type HttpRouteHandler<E extends APIGatewayProxyEventV2> = (
  event: E,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The one error mapper of the HTTP handlers: an `HttpError` becomes its status with a
 * `{ code, message }` body; anything else is logged (never the event) and answered with a
 * generic 500, so no internal detail reaches the caller.
 */
export function httpHandler<E extends APIGatewayProxyEventV2>(
  fn: HttpRouteHandler<E>,
): HttpRouteHandler<E> {
  return async (event, context) => {
    logger.addContext(context);
    try {
      return await fn(event, context);
    } catch (error) {
      if (error instanceof HttpError) {
        logger.info('Request rejected', {
          routeKey: event.routeKey,
          statusCode: error.statusCode,
          code: error.code,
        });
        const reply = json(error.statusCode, { code: error.code, message: error.message } satisfies ErrorBody);
        return { ...reply, headers: { ...reply.headers, ...error.headers } };
      }
      logger.error('Unhandled error', { routeKey: event.routeKey, error: asError(error) });
      return json(500, { code: 'InternalError', message: 'Internal error' } satisfies ErrorBody);
    }
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
