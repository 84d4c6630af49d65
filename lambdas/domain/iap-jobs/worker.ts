import type { DatapointLogStores } from '../datapoint-logs/ports';
import { runConfigChunk, runValueDeleteChunk, CHUNK_LIMITS, type Budget, type ChunkLimits } from './chunks';
import { JOB_MAX_RECEIVES, jobError, type ChunkMessage } from './jobs';
import type { JobQueue, JobStore } from './ports';

export interface WorkerDeps {
  jobs: JobStore;
  queue: JobQueue;
  stores: DatapointLogStores;
  now: () => number;
  limits?: ChunkLimits;
}

/** What became of one message: for logs and tests. */
export type ChunkOutcome =
  | 'unknown-job' | 'finished-job' | 'stale' | 'resent' | 'recorded' | 'finished' | 'duplicate' | 'failed' | 'gave-up';

/**
 * One chunk message of a job. The job record is the truth: a message whose chunk the job has passed
 * is a redelivery (its continuation is sent again, deduplicated by the queue, in case the first send
 * was lost); progress is recorded only if the job is still at the message's chunk, so a chunk done
 * twice counts once. A failing chunk is retried by the queue with the error recorded on the job; at
 * the last delivery ({@link JOB_MAX_RECEIVES}) the job is marked failed and the message is taken.
 * Returns normally when the message may be deleted; throws to have it delivered again.
 */
export async function runChunkMessage(deps: WorkerDeps, message: ChunkMessage, receiveCount: number, budget: Budget): Promise<ChunkOutcome> {
  const { jobs, queue } = deps;
  const job = await jobs.get(message.oemId, message.jobId);
  if (!job) return 'unknown-job'; // expired (TTL) or never created: nothing to do
  if (job.state === 'succeeded' || job.state === 'failed') return 'finished-job';
  if (job.chunk !== message.chunk) {
    if (job.chunk !== message.chunk + 1) return 'stale';
    await queue.send({ oemId: job.oemId, jobId: job.id, chunk: job.chunk });
    return 'resent';
  }
  if (receiveCount > JOB_MAX_RECEIVES) {
    await jobs.setState(job.oemId, job.id, job.chunk, 'failed', [jobError(deps.now(), `chunk ${job.chunk} failed ${JOB_MAX_RECEIVES} times: the job stopped`)], deps.now());
    return 'gave-up';
  }
  if (job.state === 'queued') await jobs.setState(job.oemId, job.id, job.chunk, 'running', [], deps.now());

  const now = deps.now();
  let progress;
  try {
    progress = job.spec.kind === 'config-update'
      ? await runConfigChunk(deps.stores.registry, job, budget, now, deps.limits ?? CHUNK_LIMITS)
      : await runValueDeleteChunk(deps.stores, job, budget, now, deps.limits ?? CHUNK_LIMITS);
  } catch (error) {
    const last = receiveCount >= JOB_MAX_RECEIVES;
    const note = jobError(deps.now(), error);
    note.message = `chunk ${job.chunk}, attempt ${receiveCount} of ${JOB_MAX_RECEIVES}${last ? ' (the job stopped)' : ' (retried)'}: ${note.message}`;
    await jobs.setState(job.oemId, job.id, job.chunk, last ? 'failed' : 'running', [note], deps.now());
    if (last) return 'failed';
    throw error;
  }
  const recorded = await jobs.recordChunk(job.oemId, job.id, job.chunk, progress, deps.now());
  if (!recorded) return 'duplicate';
  if (progress.state === 'succeeded') return 'finished';
  await queue.send({ oemId: job.oemId, jobId: job.id, chunk: job.chunk + 1 });
  return 'recorded';
}
