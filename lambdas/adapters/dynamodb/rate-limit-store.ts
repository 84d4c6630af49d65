import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_RATE_LIMIT, type RequestCounter } from '../../domain/rate-limit/fixed-window';
import { documentClient } from '../../shared/clients';
import { ENV } from '../../shared/config';
import { logger } from '../../shared/logger';
import { ApiRateLimiter, type RateLimiter } from '../../domain/rate-limit/limiter';

/** Request counters in the rate limit table: one item per OEM and window (`pk`), with a TTL (`expiresAt`). */
export class DynamoRequestCounter implements RequestCounter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async increment(key: string, expiresAt: number): Promise<number> {
    const out = await this.doc.send(new UpdateCommand({
      TableName: this.table,
      Key: { pk: key },
      UpdateExpression: 'ADD n :one SET expiresAt = if_not_exists(expiresAt, :exp)',
      ExpressionAttributeValues: { ':one': 1, ':exp': expiresAt },
      ReturnValues: 'UPDATED_NEW',
    }));
    return Number(out.Attributes?.n ?? 1);
  }
}

const positive = (name: string, fallback: number): number => {
  const text = process.env[name];
  const value = text === undefined || text.trim() === '' ? fallback : Number(text);
  return Number.isSafeInteger(value) && value > 0 ? value : fallback;
};

/**
 * The limiter of an API function: the table in `RATE_LIMIT_TABLE`, the limit from `RATE_LIMIT_REQUESTS`
 * per `RATE_LIMIT_WINDOW_SECONDS`. Without the table (a function deployed without it) nothing is limited,
 * with a WARN at cold start.
 */
export function defaultRateLimiter(): RateLimiter {
  const table = process.env[ENV.rateLimitTable];
  if (!table) {
    logger.warn('No rate limit table: requests are not rate limited', { variable: ENV.rateLimitTable });
    return { check: async () => undefined };
  }
  return new ApiRateLimiter(new DynamoRequestCounter(documentClient(), table), {
    requests: positive(ENV.rateLimitRequests, DEFAULT_RATE_LIMIT.requests),
    windowSeconds: positive(ENV.rateLimitWindowSeconds, DEFAULT_RATE_LIMIT.windowSeconds),
  });
}
