import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_TYPES } from '../../lambdas/domain/device-events';
import { COMPACTION_PREFIX, ERROR_PREFIX, STAGING_PREFIX } from '../../lambdas/domain/export/layout';
import { ENV } from '../../lambdas/shared/config';
import { integerContext } from '../context';
import { acknowledgeWildcardResource } from '../nag';
import type { DeviceEventStream } from './device-event-stream';
import { PipelineFunction, lambdaEntry } from './pipeline-function';

/** Minutes of one export window (context `exportWindowMinutes`, 1–60): one file per OEM and type per window. */
export const DEFAULT_EXPORT_WINDOW_MINUTES = 5;
/** Compaction partitions (context `exportCompactionPartitions`, 1–1024): tasks per window, and the bound on one task's memory. */
export const DEFAULT_COMPACTION_PARTITIONS = 16;
/** Seconds past a window's end before it is compacted (context `exportCompactionDelaySeconds`, 0–50). */
export const DEFAULT_COMPACTION_DELAY_SECONDS = 15;
/** Size cap of one export file in MB (context `exportFileSizeCapMb`, 1–4096): a larger group is split. */
export const DEFAULT_FILE_SIZE_CAP_MB = 64;
/** How long stage 1 gathers records before staging them (context `exportBatchingWindowSeconds`, 0–300). */
export const DEFAULT_EXPORT_BATCHING_WINDOW_SECONDS = 10;
/** Concurrent batches per shard for stage 1 (context `exportParallelizationFactor`, 1–10). */
export const DEFAULT_EXPORT_PARALLELIZATION_FACTOR = 1;
/**
 * Records per stage-1 invocation: the most Lambda hands over from a shard. Lambda's 6 MB invocation payload
 * caps a batch earlier (~4,700 records of ~500 bytes), which sets how many staged objects a shard makes.
 */
export const EXPORT_BATCH_SIZE = 10_000;
/** A compaction task's limit; the queue hides a message six times as long, as Lambda advises for SQS sources. */
export const COMPACTION_TIMEOUT = Duration.minutes(5);
/** Deliveries of one compaction message before it goes to the dead-letter queue. */
export const COMPACTION_MAX_RECEIVES = 10;

export interface DeviceEventExportProps {
  readonly stream: DeviceEventStream;
  readonly bucket: Bucket;
}

/**
 * The export in two stages (DESIGN §4):
 * 1. the stager (`ExporterFunction`, on the stream) writes each batch's encoded rows as one object under
 *    `_staging/<window>/` and the batch's invalid records under `_errors/` (and `<oem_id>/_errors/`);
 * 2. every minute an EventBridge rule runs the planner, which fixes each closed window's manifest under
 *    `_compaction/` and sends one message per compaction partition to a FIFO queue (one message group per
 *    partition, so one partition's tasks run one at a time, in window order); the compactor writes one
 *    sorted, de-duplicated CSV per OEM and type and window, then removes the window's staging.
 * Each function may touch only the prefixes its stage needs.
 */
export class DeviceEventExport extends Construct {
  readonly stager: PipelineFunction;
  readonly planner: PipelineFunction;
  readonly compactor: PipelineFunction;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly schedule: Rule;
  /** A window's files are due this long after the window began: its length plus the compaction delay. */
  readonly filesDueAfter: Duration;

  constructor(scope: Construct, id: string, props: DeviceEventExportProps) {
    super(scope, id);
    const { bucket } = props;
    const windowSeconds = integerContext(this, 'exportWindowMinutes', DEFAULT_EXPORT_WINDOW_MINUTES, 1, 60) * 60;
    const partitions = integerContext(this, 'exportCompactionPartitions', DEFAULT_COMPACTION_PARTITIONS, 1, 1024);
    const delaySeconds = integerContext(this, 'exportCompactionDelaySeconds', DEFAULT_COMPACTION_DELAY_SECONDS, 0, 50);
    const fileSizeCapMb = integerContext(this, 'exportFileSizeCapMb', DEFAULT_FILE_SIZE_CAP_MB, 1, 4096);
    this.filesDueAfter = Duration.seconds(windowSeconds + delaySeconds);
    const objects = (pattern: string) => bucket.arnForObjects(pattern);
    // Unconditional: S3 answers a missing key with 404 (not 403) only to a caller that may list the bucket,
    // and a HEAD carries no s3:prefix to match a condition on.
    const listBucket = new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] });

    // Stage 1 keeps the function id of the single-stage exporter, so its stream mapping stays in place.
    this.stager = new PipelineFunction(scope, 'ExporterFunction', {
      entry: lambdaEntry('exporter'),
      description: 'Export stage 1: each batch of device events as one staged object of encoded CSV rows',
      service: 'exporter',
      timeout: Duration.minutes(2),
      memorySize: 1024,
      environment: {
        [ENV.exportBucket]: bucket.bucketName,
        [ENV.exportWindowSeconds]: String(windowSeconds),
        [ENV.exportCompactionPartitions]: String(partitions),
      },
    });
    const oemRejects = objects(`*/${ERROR_PREFIX}*`);
    this.stager.addToRolePolicy(new PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [objects(`${STAGING_PREFIX}*`), objects(`${ERROR_PREFIX}*`), oemRejects],
    }));
    props.stream.addConsumer(this.stager, {
      batchSize: EXPORT_BATCH_SIZE,
      maxBatchingWindow: Duration.seconds(integerContext(this, 'exportBatchingWindowSeconds', DEFAULT_EXPORT_BATCHING_WINDOW_SECONDS, 0, 300)),
      parallelizationFactor: integerContext(this, 'exportParallelizationFactor', DEFAULT_EXPORT_PARALLELIZATION_FACTOR, 1, 10),
      onFailure: bucket,
    });

    this.deadLetterQueue = new Queue(this, 'CompactionDeadLetters', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'CompactionTasks', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(COMPACTION_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: COMPACTION_MAX_RECEIVES },
    });

    this.planner = new PipelineFunction(scope, 'ExportPlannerFunction', {
      entry: lambdaEntry('export-planner'),
      description: 'Export stage 2: every minute, the manifest of each closed window and one compaction task per partition',
      service: 'export-planner',
      // It waits up to the grace period past the minute, then plans every closed window not yet planned.
      timeout: Duration.minutes(2),
      memorySize: 512,
      environment: {
        [ENV.exportBucket]: bucket.bucketName,
        [ENV.exportWindowSeconds]: String(windowSeconds),
        [ENV.exportCompactionDelaySeconds]: String(delaySeconds),
        [ENV.compactionQueueUrl]: this.queue.queueUrl,
      },
    });
    this.planner.addToRolePolicy(listBucket);
    this.planner.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects(`${STAGING_PREFIX}*`), objects(`${COMPACTION_PREFIX}*`)] }));
    this.planner.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [objects(`${COMPACTION_PREFIX}*`)] }));
    this.queue.grantSendMessages(this.planner);
    this.schedule = new Rule(this, 'EveryMinute', {
      description: 'Runs the export planner at the start of every minute',
      schedule: Schedule.cron({ minute: '*' }),
      targets: [new LambdaTarget(this.planner, { retryAttempts: 2 })],
    });

    this.compactor = new PipelineFunction(scope, 'ExportCompactorFunction', {
      entry: lambdaEntry('export-compactor'),
      description: 'Export stage 2: one window of one partition as one sorted, de-duplicated CSV per OEM and type',
      service: 'export-compactor',
      timeout: COMPACTION_TIMEOUT,
      memorySize: 3008,
      environment: {
        [ENV.exportBucket]: bucket.bucketName,
        [ENV.exportFileSizeCapBytes]: String(fileSizeCapMb * 1024 * 1024),
      },
    });
    this.compactor.addToRolePolicy(listBucket);
    this.compactor.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects(`${STAGING_PREFIX}*`), objects(`${COMPACTION_PREFIX}*`)] }));
    const exportFiles = EVENT_TYPES.map((type) => objects(`*/${type}/*`));
    this.compactor.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [objects(`${COMPACTION_PREFIX}*`), ...exportFiles] }));
    this.compactor.addToRolePolicy(new PolicyStatement({ actions: ['s3:DeleteObject'], resources: [objects(`${STAGING_PREFIX}*`)] }));
    this.compactor.addEventSource(new SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true }));

    const wildcards: Array<[PipelineFunction, string, string]> = [
      [this.stager, objects(`${STAGING_PREFIX}*`), 'Stage 1 names each staged object after its window, shard and sequence range.'],
      [this.stager, objects(`${ERROR_PREFIX}*`), 'Stage 1 names each error file after its day, shard and sequence range.'],
      [this.stager, oemRejects, 'An invalid record that names a valid OEM is also written under that OEM\'s own _errors/ prefix, so its export key can read it; OEMs appear with their first event.'],
      [this.planner, objects(`${STAGING_PREFIX}*`), 'The planner reads the header of every staged object of a closed window.'],
      [this.planner, objects(`${COMPACTION_PREFIX}*`), 'The planner keeps one manifest and one dispatch marker per window under _compaction/.'],
      [this.compactor, objects(`${STAGING_PREFIX}*`), 'The compactor reads and then deletes the staged objects of its window.'],
      [this.compactor, objects(`${COMPACTION_PREFIX}*`), 'The compactor keeps row hashes and done markers per window and partition under _compaction/.'],
      ...exportFiles.map((files): [PipelineFunction, string, string] => [this.compactor, files, 'The compactor writes the export files of every OEM (OEMs appear with their first event), one event type folder each.']),
    ];
    for (const [fn, resource, reason] of wildcards) if (fn.role) acknowledgeWildcardResource(fn.role, resource, reason);
  }
}
