import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import {
  MetricType,
  StartingPosition,
  type DlqDestinationConfig,
  type IEventSourceDlq,
  type IEventSourceMapping,
  type IFunction,
} from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { integerContext } from '../context';
import { acknowledgeWildcardResource } from '../nag';

/** Shard count when the `eventStreamShardCount` context value is not given. */
export const DEFAULT_SHARD_COUNT = 2;
/** An iterator age above this means a consumer is falling behind the stream. */
export const ITERATOR_AGE_ALARM_THRESHOLD = Duration.minutes(5);

export interface DeviceEventStreamConsumerOptions {
  /** @default 100 */
  readonly batchSize?: number;
  /** @default - none: a batch is handed over as soon as records arrive */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent batches per shard (records of one partition key stay in order). @default 1 */
  readonly parallelizationFactor?: number;
  /** @default 3 */
  readonly retryAttempts?: number;
  /** @default Duration.days(1), the stream's retention */
  readonly maxRecordAge?: Duration;
  /** Where Lambda writes the record of a batch that still fails after the retries. */
  readonly onFailure: IBucket;
}

/**
 * The Kinesis stream of device events (Ayla DSS JSON, one event per record).
 * Producers use the device `dsn` as partition key, so the events of one device stay in
 * order on one shard. Provisioned with a shard count by default, or on demand (context
 * `eventStreamCapacity`; the local cloud gives an on-demand stream four shards); encrypted with the
 * AWS-managed key `alias/aws/kinesis`.
 */
export class DeviceEventStream extends Construct {
  readonly stream: Stream;
  /** The stream's consumers (added by {@link addConsumer}), for the operations dashboard. */
  readonly consumers: Array<{ readonly fn: IFunction; readonly eventSource: KinesisEventSource }> = [];

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const capacity = capacityFromContext(this);
    this.stream = new Stream(this, 'Stream', {
      ...(capacity === 'on-demand' ? { streamMode: StreamMode.ON_DEMAND } : { streamMode: StreamMode.PROVISIONED, shardCount: capacity }),
      retentionPeriod: Duration.hours(24),
      encryption: StreamEncryption.MANAGED,
      // Records live 24 h and are consumed into S3 / DynamoDB: a stream orphaned by a stack
      // deletion would only keep billing its shards.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /**
   * Subscribes `fn` to the stream with safe defaults: start at TRIM_HORIZON, bisect a failing
   * batch, bounded retries and record age, partial batch responses (`batchItemFailures`),
   * failed batches recorded in the `onFailure` bucket, and an alarm on the iterator age.
   * Grants `fn` read on the stream (done by the event source) and what the S3 on-failure
   * destination needs (s3:PutObject under {@link FAILED_BATCH_PREFIX}, s3:ListBucket), nothing more.
   */
  addConsumer(fn: IFunction, options: DeviceEventStreamConsumerOptions): KinesisEventSource {
    const eventSource = new KinesisEventSource(this.stream, {
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: options.batchSize ?? 100,
      maxBatchingWindow: options.maxBatchingWindow,
      parallelizationFactor: options.parallelizationFactor,
      bisectBatchOnError: true,
      retryAttempts: options.retryAttempts ?? 3,
      maxRecordAge: options.maxRecordAge ?? Duration.days(1),
      reportBatchItemFailures: true,
      onFailure: new FailedBatchBucket(options.onFailure),
      // Event counts per mapping (polled, dropped, sent to the on-failure destination) for the dashboard.
      metricsConfig: { metrics: [MetricType.EVENT_COUNT] },
    });
    fn.addEventSource(eventSource);
    this.consumers.push({ fn, eventSource });

    new Alarm(this, `IteratorAge${Names.nodeUniqueId(fn.node)}`, {
      alarmDescription: `${fn.node.path} is falling behind the device event stream`,
      metric: fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: ITERATOR_AGE_ALARM_THRESHOLD.toMilliseconds(),
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    return eventSource;
  }
}

/** Where Lambda writes the records of failed batches in an S3 on-failure destination: `aws/lambda/<mapping>/<shard>/…`. */
export const FAILED_BATCH_PREFIX = 'aws/lambda/';

/**
 * S3 on-failure destination of a stream event source mapping, with only the permissions
 * Lambda needs to write the record of a failed batch (CDK's S3OnFailureDestination grants
 * read/write/delete on the whole bucket). The template's DestinationConfig is the same.
 */
class FailedBatchBucket implements IEventSourceDlq {
  constructor(private readonly bucket: IBucket) {}

  bind(_target: IEventSourceMapping, targetHandler: IFunction): DlqDestinationConfig {
    // Only the failure records' prefix: the consumer may not write anywhere else in the bucket (the
    // mapping's own id, one level down, would make the role's policy depend on the mapping: a cycle).
    const objects = this.bucket.arnForObjects(`${FAILED_BATCH_PREFIX}*`);
    targetHandler.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }));
    targetHandler.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    this.bucket.encryptionKey?.grant(targetHandler, 'kms:GenerateDataKey');

    // Lambda chooses the object keys of failure records, so the object ARN needs a wildcard.
    if (targetHandler.role) {
      acknowledgeWildcardResource(
        targetHandler.role,
        objects,
        'Lambda names the objects of failed-batch records itself (aws/lambda/<mapping>/<shard>/…), ' +
          'so the on-failure destination needs s3:PutObject on every key under that prefix (and nowhere else).',
      );
    }
    return { destination: this.bucket.bucketArn };
  }
}

/**
 * The stream's capacity: context `eventStreamCapacity` is `on-demand` or a shard count (1–500; the older
 * `eventStreamShardCount` is read when it is unset). A shard takes 1,000 records/s or 1 MB/s of writes.
 */
export function capacityFromContext(scope: Construct): number | 'on-demand' {
  const raw: unknown = scope.node.tryGetContext('eventStreamCapacity');
  if (raw === 'on-demand') return 'on-demand';
  if (raw !== undefined && raw !== '') {
    const value = typeof raw === 'string' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 500) {
      throw new Error(`Context eventStreamCapacity must be "on-demand" or a shard count from 1 to 500, got ${JSON.stringify(raw)}`);
    }
    return value;
  }
  return integerContext(scope, 'eventStreamShardCount', DEFAULT_SHARD_COUNT, 1, 500);
}
