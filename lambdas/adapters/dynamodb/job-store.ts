import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { JOB_TTL_DAYS, MAX_JOB_ERRORS, type JobError, type JobRecord, type JobState } from '../../domain/iap-jobs/jobs';
import type { ChunkProgress, JobStore } from '../../domain/iap-jobs/ports';

/**
 * Job records in the datapoint log table, one item each under their own key prefix
 * (`pk` = `JOB#<oem>#<id>`, `sk` = `JOB`): found only with the OEM that started the job, removed by
 * the table's TTL (`expiresAt`) {@link JOB_TTL_DAYS} days after their last change.
 */
export const jobKey = (oemId: string, id: string) => ({ pk: `JOB#${encodeURIComponent(oemId)}#${id}`, sk: 'JOB' });

const expiresAt = (now: number) => Math.ceil(now / 1000) + JOB_TTL_DAYS * 24 * 3600;

const ignoreConflict = (error: unknown): false => {
  if (error instanceof ConditionalCheckFailedException) return false;
  throw error;
};

/** The last {@link MAX_JOB_ERRORS} errors, and how many older ones were dropped. */
function boundErrors(kept: JobError[], added: JobError[], dropped: number): { errors: JobError[]; moreErrors: number } {
  const all = [...kept, ...added];
  const cut = Math.max(0, all.length - MAX_JOB_ERRORS);
  return { errors: all.slice(cut), moreErrors: dropped + cut };
}

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(job: JobRecord): Promise<void> {
    await this.doc.send(new PutCommand({
      TableName: this.table,
      Item: { ...jobKey(job.oemId, job.id), type: 'job', ...job, expiresAt: expiresAt(job.updatedAt) },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
  }

  async get(oemId: string, id: string): Promise<JobRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: jobKey(oemId, id), ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, type: _type, expiresAt: _exp, ...job } = out.Item;
    return job as JobRecord;
  }

  async recordChunk(oemId: string, id: string, chunk: number, progress: ChunkProgress, now: number): Promise<boolean> {
    const values: Record<string, unknown> = {
      ':chunk': chunk, ':next': chunk + 1, ':done': progress.done, ':dps': progress.datapointsDone, ':state': progress.state, ':total': progress.datapoints, ':now': now, ':exp': expiresAt(now),
    };
    const sets = ['chunk = :next', '#state = :state', 'datapoints = :total', 'updatedAt = :now', 'expiresAt = :exp'];
    if (progress.cursor) {
      sets.push('#cursor = :cursor');
      values[':cursor'] = progress.cursor;
    }
    return this.doc.send(new UpdateCommand({
      TableName: this.table,
      Key: jobKey(oemId, id),
      UpdateExpression: `SET ${sets.join(', ')} ADD done :done, datapointsDone :dps${progress.cursor ? '' : ' REMOVE #cursor'}`,
      ConditionExpression: 'chunk = :chunk',
      ExpressionAttributeNames: { '#state': 'state', '#cursor': 'cursor' },
      ExpressionAttributeValues: values,
    })).then(() => true, ignoreConflict);
  }

  async setState(oemId: string, id: string, chunk: number, state: JobState, errors: JobError[], now: number): Promise<boolean> {
    const job = await this.get(oemId, id);
    if (!job || job.chunk !== chunk) return false;
    const bounded = boundErrors(job.errors, errors, job.moreErrors);
    return this.doc.send(new UpdateCommand({
      TableName: this.table,
      Key: jobKey(oemId, id),
      UpdateExpression: 'SET #state = :state, errors = :errors, moreErrors = :more, updatedAt = :now, expiresAt = :exp',
      // The record as read: a change in between (another delivery) wins, and this one is dropped.
      ConditionExpression: 'chunk = :chunk AND updatedAt = :seen',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':state': state, ':errors': bounded.errors, ':more': bounded.moreErrors, ':now': now, ':exp': expiresAt(now), ':chunk': chunk, ':seen': job.updatedAt,
      },
    })).then(() => true, ignoreConflict);
  }
}
