import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DEFAULT_RATE_LIMIT } from '../../lambdas/domain/rate-limit/fixed-window';
import { ENV } from '../../lambdas/shared/config';
import { integerContext } from '../context';

/** Concurrency each API function may use at most (context `apiFunctionConcurrency`; 0 = no cap). */
export const DEFAULT_API_FUNCTION_CONCURRENCY = 20;

export interface StreamConsumer {
  readonly fn: LambdaFunction;
  /** Concurrent invocations it can use at most: shards × parallelization factor; undefined when unknown (on-demand streams). */
  readonly concurrency: number | undefined;
}

/**
 * Fairness between OEMs and between the API and the stream consumers:
 * - per-OEM rate limits: a table of request counters (one item per OEM and window, removed by TTL), and each
 *   API function's limit in its environment (context `oemRateLimitRequests` per `oemRateLimitWindowSeconds`);
 * - reserved concurrency: each stream consumer reserves what it can use (shards × parallelization factor, so the
 *   reservation never throttles it), and each API function is capped (context `apiFunctionConcurrency`), so API
 *   load cannot take the account's concurrency from the consumers. Context `streamConsumerReservations=false`
 *   and `apiFunctionConcurrency=0` turn them off (an account whose concurrency quota cannot spare them).
 */
export class ApiFairness extends Construct {
  readonly rateLimitTable: Table;
  readonly requests: number;
  readonly windowSeconds: number;
  readonly apiConcurrency: number;
  readonly reserveForConsumers: boolean;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.requests = integerContext(this, 'oemRateLimitRequests', DEFAULT_RATE_LIMIT.requests, 1, 1_000_000);
    this.windowSeconds = integerContext(this, 'oemRateLimitWindowSeconds', DEFAULT_RATE_LIMIT.windowSeconds, 1, 3600);
    this.apiConcurrency = integerContext(this, 'apiFunctionConcurrency', DEFAULT_API_FUNCTION_CONCURRENCY, 0, 1000);
    const reservations: unknown = this.node.tryGetContext('streamConsumerReservations');
    if (reservations !== undefined && reservations !== true && reservations !== false && reservations !== 'true' && reservations !== 'false') {
      throw new Error(`Context streamConsumerReservations must be true or false, got ${JSON.stringify(reservations)}`);
    }
    this.reserveForConsumers = reservations !== false && reservations !== 'false';

    this.rateLimitTable = new Table(this, 'RateLimits', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: 'expiresAt',
      // Counters of the current window only: nothing to keep.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.rateLimitTable).acknowledge({
      id: 'AwsSolutions-DDB3',
      reason: 'Request counters live one rate limit window (seconds) and are removed by TTL: a point-in-time restore would bring back nothing of use.',
    });
  }

  /** An API function: rate limited per OEM (the counters' table and the limit), and capped in concurrency. */
  addApiFunction(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.rateLimitTable, this.rateLimitTable.tableName);
    fn.addEnvironment(ENV.rateLimitRequests, String(this.requests));
    fn.addEnvironment(ENV.rateLimitWindowSeconds, String(this.windowSeconds));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [this.rateLimitTable.tableArn] }));
    if (this.apiConcurrency > 0) (fn.node.defaultChild as CfnFunction).reservedConcurrentExecutions = this.apiConcurrency;
  }

  /** A stream consumer: reserves the concurrency it can use, so API load cannot starve it. */
  addStreamConsumer(consumer: StreamConsumer): void {
    if (this.reserveForConsumers && consumer.concurrency !== undefined) {
      (consumer.fn.node.defaultChild as CfnFunction).reservedConcurrentExecutions = consumer.concurrency;
    }
  }
}
