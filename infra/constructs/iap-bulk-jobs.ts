import { Duration } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHUNK_LIMITS } from '../../lambdas/domain/iap-jobs/chunks';
import { JOB_MAX_RECEIVES } from '../../lambdas/domain/iap-jobs/jobs';
import { ENV } from '../../lambdas/shared/config';
import { integerContext } from '../context';
import type { DatapointLogTable } from './datapoint-log-table';
import { PipelineFunction, lambdaEntry } from './pipeline-function';
import type { PipelineHttpApi } from './pipeline-http-api';

/** The worker's limit per chunk; the queue hides a message six times as long, as Lambda advises for SQS sources. */
export const JOB_WORKER_TIMEOUT = Duration.minutes(1);
/** Jobs worked on at once (context `jobWorkerMaxConcurrency`, 2–100): the event source's maximum concurrency. */
export const DEFAULT_JOB_WORKER_CONCURRENCY = 2;

export interface IapBulkJobsProps {
  readonly table: DatapointLogTable;
  readonly api: PipelineHttpApi;
}

/**
 * Bulk IAP changes as jobs: a FIFO queue (one message group per job, so a job's chunks run in order and
 * jobs run side by side) with a dead-letter queue, the worker that runs one chunk per message, and
 * `GET /iap/jobs/{id}`. The job records live in the datapoint log table under their own key prefix.
 * A chunk that fails is delivered again; at its last delivery the worker marks the job failed itself,
 * so the dead-letter queue receives only what the worker could not even record (an alarm watches it).
 */
export class IapBulkJobs extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: PipelineFunction;
  readonly jobsFunction: PipelineFunction;

  constructor(scope: Construct, id: string, props: IapBulkJobsProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'JobDeadLetters', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'JobChunks', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(JOB_WORKER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      // One more than the worker's own count: the last delivery is the one that marks the job failed.
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: JOB_MAX_RECEIVES + 1 },
    });
    new Alarm(this, 'DeadLetters', {
      alarmDescription: 'A bulk job chunk reached the dead-letter queue: its job may show as running without progress',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.worker = new PipelineFunction(scope, 'IapJobWorkerFunction', {
      entry: lambdaEntry('iap-job-worker'),
      description: 'IAP bulk jobs: one chunk of a configuration change or value delete per queue message',
      service: 'iap-job-worker',
      timeout: JOB_WORKER_TIMEOUT,
      memorySize: 1024,
      environment: {
        // Chunk sizes (contexts `jobChunkValues`, `jobChunkDatapoints`): how often progress shows; the time budget ends a slow chunk first.
        [ENV.jobChunkValues]: String(integerContext(this, 'jobChunkValues', CHUNK_LIMITS.maxValues, 100, 1_000_000)),
        [ENV.jobChunkDatapoints]: String(integerContext(this, 'jobChunkDatapoints', CHUNK_LIMITS.maxDatapoints, 10, 100_000)),
      },
    });
    props.table.bind(this.worker, 'configWriter', 'valuesWriter', 'jobWriter');
    this.allowStart(this.worker);
    this.worker.addEventSource(new SqsEventSource(this.queue, {
      batchSize: 1,
      reportBatchItemFailures: true,
      maxConcurrency: integerContext(this, 'jobWorkerMaxConcurrency', DEFAULT_JOB_WORKER_CONCURRENCY, 2, 100),
    }));

    this.jobsFunction = new PipelineFunction(scope, 'IapJobsFunction', {
      entry: lambdaEntry('iap-jobs'),
      description: 'IAP bulk jobs: GET /iap/jobs/{id}, the progress of a bulk change',
      service: 'iap-jobs',
    });
    props.table.bind(this.jobsFunction, 'jobReader');
    props.api.addRoute(HttpMethod.GET, '/iap/jobs/{id}', this.jobsFunction);
  }

  /** Lets `fn` start jobs: the queue's URL in its environment and SendMessage on it (the table it binds itself). */
  allowStart(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.jobQueueUrl, this.queue.queueUrl);
    this.queue.grantSendMessages(fn);
  }
}
