import type { ChunkMessage, JobError, JobRecord, JobState } from '../../lambdas/domain/iap-jobs/jobs';
import { MAX_JOB_ERRORS } from '../../lambdas/domain/iap-jobs/jobs';
import type { ChunkProgress, JobQueue, JobStarter, JobStore } from '../../lambdas/domain/iap-jobs/ports';

/** Job records in memory, with the conditional writes of the DynamoDB store (by chunk number). */
export class MemoryJobStore implements JobStore {
  readonly jobs = new Map<string, JobRecord>();
  /** Every job as recorded after each chunk, for progress checks. */
  readonly history: JobRecord[] = [];

  private key = (oemId: string, id: string) => `${oemId}#${id}`;

  async create(job: JobRecord): Promise<void> {
    this.jobs.set(this.key(job.oemId, job.id), structuredClone(job));
  }

  async get(oemId: string, id: string): Promise<JobRecord | undefined> {
    const job = this.jobs.get(this.key(oemId, id));
    return job ? structuredClone(job) : undefined;
  }

  async recordChunk(oemId: string, id: string, chunk: number, progress: ChunkProgress, now: number): Promise<boolean> {
    const job = this.jobs.get(this.key(oemId, id));
    if (!job || job.chunk !== chunk) return false;
    job.chunk = chunk + 1;
    job.done += progress.done;
    job.datapointsDone += progress.datapointsDone;
    job.datapoints = progress.datapoints;
    job.state = progress.state;
    job.updatedAt = now;
    if (progress.cursor) job.cursor = structuredClone(progress.cursor);
    else delete job.cursor;
    this.history.push(structuredClone(job));
    return true;
  }

  async setState(oemId: string, id: string, chunk: number, state: JobState, errors: JobError[], now: number): Promise<boolean> {
    const job = this.jobs.get(this.key(oemId, id));
    if (!job || job.chunk !== chunk) return false;
    job.state = state;
    const all = [...job.errors, ...errors];
    const cut = Math.max(0, all.length - MAX_JOB_ERRORS);
    job.errors = all.slice(cut);
    job.moreErrors += cut;
    job.updatedAt = now;
    return true;
  }
}

/** A FIFO job queue in memory, deduplicating a chunk sent twice while it is queued. */
export class MemoryJobQueue implements JobQueue {
  readonly messages: ChunkMessage[] = [];
  sent = 0;
  /** Makes the next `n` sends fail, as an SQS outage would. */
  failNext = 0;

  async send(message: ChunkMessage): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('SQS unavailable'), { name: 'ServiceUnavailable' });
    }
    this.sent++;
    if (!this.messages.some((m) => m.jobId === message.jobId && m.chunk === message.chunk)) this.messages.push({ ...message });
  }
}

export function memoryStarter(): JobStarter & { store: MemoryJobStore; queue: MemoryJobQueue } {
  let n = 0;
  return { store: new MemoryJobStore(), queue: new MemoryJobQueue(), newId: () => (++n).toString(16).padStart(24, '0') };
}
