import { SQSClient } from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import type { JobStarter } from '../domain/iap-jobs/ports';
import { documentClient } from '../shared/clients';
import { ENV, requireEnv } from '../shared/config';
import { DynamoJobStore } from './dynamodb/job-store';
import { SqsJobQueue } from './sqs/job-queue';

/** The job store (the datapoint log table) and the job queue (`JOB_QUEUE_URL`) of a function that starts or runs jobs. */
export function jobStarter(): JobStarter {
  return {
    store: new DynamoJobStore(documentClient(), requireEnv(ENV.datapointLogTable)),
    queue: new SqsJobQueue(new SQSClient({}), requireEnv(ENV.jobQueueUrl)),
    newId: () => randomBytes(12).toString('hex'),
  };
}
