import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HttpError } from '../../shared/http';
import { logger } from '../../shared/logger';
import { jobError, jobHref, type JobRecord, type JobSpec } from './jobs';
import type { JobStarter } from './ports';

/** The request could not be handed to the job queue: try again (the change is idempotent). */
export class JobQueueUnavailableError extends HttpError {
  constructor(partly: boolean) {
    super(503, 'JobQueueUnavailable', partly
      ? 'the change was made in part and could not be handed to a job: repeat the request in a few seconds to finish it'
      : 'the change was not started (nothing was changed): try again in a few seconds', undefined, { 'retry-after': '5' });
  }
}

/**
 * Starts a job and answers 202 with where to follow it. Nothing has been changed yet: the job record
 * is written, then its first chunk is queued; if the queue refuses, the job is marked failed and the
 * caller gets a 503 saying nothing was changed.
 */
export async function startJob(
  starter: JobStarter, oemId: string, spec: JobSpec, path: string, datapoints: number, now: number, partly = false,
): Promise<APIGatewayProxyStructuredResultV2> {
  const id = starter.newId();
  const job: JobRecord = {
    id, oemId, spec, path, state: 'queued', done: 0, datapoints, datapointsDone: 0, chunk: 0, errors: [], moreErrors: 0, createdAt: now, updatedAt: now,
  };
  await starter.store.create(job);
  try {
    await starter.queue.send({ oemId, jobId: id, chunk: 0 });
  } catch (error) {
    await starter.store.setState(oemId, id, 0, 'failed', [jobError(now, error)], now).catch(() => undefined);
    throw new JobQueueUnavailableError(partly);
  }
  const href = jobHref(id);
  return {
    statusCode: 202,
    headers: { 'content-type': 'application/json', location: href },
    body: JSON.stringify({ jobId: id, status: 'queued', href }),
  };
}

/**
 * Runs a synchronous change; if it fails part way (a DynamoDB fault, a timeout near), the same change
 * is handed to a job, which makes it again from the start (changes are idempotent) and retries: the
 * caller gets 202, never a 5xx after a partial change. A client's mistake (an HttpError) is thrown as is.
 */
export async function orAsJob(
  change: () => Promise<APIGatewayProxyStructuredResultV2>,
  starter: JobStarter | undefined, oemId: string, spec: JobSpec, path: string, datapoints: number, now: number,
): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    return await change();
  } catch (error) {
    if (!starter || error instanceof HttpError) throw error;
    logger.warn('A synchronous bulk change failed part way: handed to a job', { oemId, kind: spec.kind, error: error instanceof Error ? error.name : String(error) });
    return startJob(starter, oemId, spec, path, datapoints, now, true);
  }
}
