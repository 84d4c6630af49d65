import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { countRequest, type RateLimit, type RequestCounter } from './fixed-window';
import { callerFromEvent } from '../../shared/auth';
import type { HttpRouteHandler } from '../../shared/http';
import { TooManyRequestsError } from '../../shared/http';
import { logger } from '../../shared/logger';

/** Checks one request of an OEM against its rate limit: throws a 429 past it. */
export interface RateLimiter {
  check(oemId: string): Promise<void>;
}

/**
 * The per-OEM limiter every API function uses. It fails open: when the counter cannot be read or
 * written, the request goes on and a WARN says so (a limiter fault must not fail the API).
 */
export class ApiRateLimiter implements RateLimiter {
  constructor(
    private readonly counter: RequestCounter,
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  async check(oemId: string): Promise<void> {
    let verdict;
    try {
      verdict = await countRequest(this.counter, this.limit, oemId, this.now());
    } catch (error) {
      logger.warn('Rate limiter unavailable: request let through', { oemId, error: error instanceof Error ? error.name : String(error) });
      return;
    }
    if (!verdict.allowed) {
      throw new TooManyRequestsError(
        verdict.retryAfterSeconds,
        `more than ${this.limit.requests} requests in ${this.limit.windowSeconds} s for this OEM: retry after ${verdict.retryAfterSeconds} s`,
      );
    }
  }
}

/**
 * A route behind the JWT authorizer, counted against its caller's OEM before it runs. A request
 * without a valid caller is not counted (the route answers 401/403 as usual).
 */
export function rateLimited(
  limiter: RateLimiter, fn: HttpRouteHandler<APIGatewayProxyEventV2WithJWTAuthorizer>,
): HttpRouteHandler<APIGatewayProxyEventV2WithJWTAuthorizer> {
  return async (event, context) => {
    let oemId: string | undefined;
    try {
      oemId = callerFromEvent(event).oemId;
    } catch {
      oemId = undefined;
    }
    if (oemId !== undefined) await limiter.check(oemId);
    return fn(event, context);
  };
}
