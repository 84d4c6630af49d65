import type { ChunkMessage, JobCursor, JobError, JobRecord, JobState } from './jobs';

/** What one chunk did, recorded on the job only if the job is still at the chunk's number. */
export interface ChunkProgress {
  /** Datapoints changed or values deleted by this chunk. */
  done: number;
  datapointsDone: number;
  /** Datapoints the address selects now (the job's total: the registry may have grown since it started). */
  datapoints: number;
  /** Where the next chunk starts; absent when the job is finished. */
  cursor?: JobCursor;
  errors: JobError[];
  state: JobState;
}

/** Job records: one per job, found only with the OEM that started it. */
export interface JobStore {
  create(job: JobRecord): Promise<void>;
  get(oemId: string, id: string): Promise<JobRecord | undefined>;
  /**
   * Adds a chunk's progress and moves the job to chunk `chunk + 1`, only if it is at `chunk`
   * (a conditional write): false when another delivery of the same chunk recorded it first.
   */
  recordChunk(oemId: string, id: string, chunk: number, progress: ChunkProgress, now: number): Promise<boolean>;
  /** Sets the state (e.g. running, failed) and appends errors, only if the job is at `chunk`. */
  setState(oemId: string, id: string, chunk: number, state: JobState, errors: JobError[], now: number): Promise<boolean>;
}

/** The queue that carries jobs, one chunk per message. */
export interface JobQueue {
  /** Sends the message of a chunk; sending the same chunk again within minutes is deduplicated. */
  send(message: ChunkMessage): Promise<void>;
}

/** Starts jobs: what the API handlers need. */
export interface JobStarter {
  store: JobStore;
  queue: JobQueue;
  /** A new job id. */
  newId(): string;
}
