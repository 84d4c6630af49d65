import type { ConfigPatch } from '../datapoint-logs/log-settings';
import type { DatapointRef } from '../datapoint-logs/records';

/**
 * Bulk changes of the IAP routes (PUT/DELETE over wildcards) that do not fit one request: a job,
 * carried by a queue one bounded chunk per message, its progress kept in a job record.
 */

/** Datapoints a configuration PUT/DELETE changes synchronously; more become a job. */
export const SYNC_MAX_DATAPOINTS = 500;
/** Values a value DELETE deletes synchronously; more (or more than {@link SYNC_MAX_DATAPOINTS} datapoints) become a job. */
export const SYNC_MAX_VALUES = 5_000;
/** Errors a job keeps (the first ones); later ones are only counted. */
export const MAX_JOB_ERRORS = 10;
/** How long a job record is kept after its last change. */
export const JOB_TTL_DAYS = 7;
/** Deliveries of one chunk message before the job is marked failed (the queue's redrive count). */
export const JOB_MAX_RECEIVES = 5;

export type JobKind = 'config-update' | 'value-delete';
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

/** The path elements of the request that started a job, as API Gateway passed them. */
export type AddressParams = Record<string, string>;

/** What a job does: a configuration change or a value deletion over an address. */
export type JobSpec =
  | { kind: 'config-update'; address: AddressParams; patch: ConfigPatch }
  | { kind: 'value-delete'; address: AddressParams };

/** Where the next chunk starts: after this datapoint (and, within it, after this value sort key). */
export interface JobCursor {
  ref: DatapointRef;
  /** The datapoint is not finished: its values continue after this sort key. */
  after?: string;
  /** The datapoint is not finished and its values continue from its first (no key read yet). */
  within?: boolean;
}

export interface JobError {
  at: number;
  message: string;
}

export interface JobRecord {
  id: string;
  oemId: string;
  spec: JobSpec;
  /** The request path that started it (for the reply). */
  path: string;
  state: JobState;
  /** Datapoints changed (config) or values deleted (values). */
  done: number;
  /** Datapoints selected when the job was created (an estimate for the rest: the registry may grow). */
  datapoints: number;
  /** Datapoints finished. */
  datapointsDone: number;
  /** Chunks recorded: the next message must carry this number. */
  chunk: number;
  cursor?: JobCursor;
  errors: JobError[];
  /** Errors beyond the ones kept. */
  moreErrors: number;
  createdAt: number;
  updatedAt: number;
}

/** The queue message of one chunk. */
export interface ChunkMessage {
  oemId: string;
  jobId: string;
  chunk: number;
}

/** `GET /iap/jobs/{id}`. */
export interface JobReply {
  id: string;
  kind: JobKind;
  path: string;
  state: JobState;
  done: number;
  /** What is left: exact for configuration jobs, an estimate for value deletes (`estimated: true`); null when unknown yet. */
  left: number | null;
  estimated: boolean;
  datapoints: { done: number; total: number };
  errors: JobError[];
  moreErrors: number;
  createdAt: string;
  updatedAt: string;
}

/** The href of a job, as replies and `Location` give it. */
export const jobHref = (id: string) => `/iap/jobs/${id}`;

/** What is left of a job: config updates count datapoints; value deletes extrapolate values per datapoint so far. */
export function leftOf(job: JobRecord): { left: number | null; estimated: boolean } {
  if (job.state === 'succeeded') return { left: 0, estimated: false };
  const datapointsLeft = Math.max(0, job.datapoints - job.datapointsDone);
  if (job.spec.kind === 'config-update') return { left: datapointsLeft, estimated: false };
  if (job.datapointsDone === 0) return { left: null, estimated: true };
  return { left: Math.round((job.done / job.datapointsDone) * datapointsLeft), estimated: true };
}

export function jobReply(job: JobRecord): JobReply {
  return {
    id: job.id,
    kind: job.spec.kind,
    path: job.path,
    state: job.state,
    done: job.done,
    ...leftOf(job),
    datapoints: { done: job.datapointsDone, total: job.datapoints },
    errors: job.errors,
    moreErrors: job.moreErrors,
    createdAt: new Date(job.createdAt).toISOString(),
    updatedAt: new Date(job.updatedAt).toISOString(),
  };
}

/** Job ids: 24 lowercase hex digits (random; a job id is found only with its OEM). */
export const JOB_ID_PATTERN = /^[0-9a-f]{24}$/;

/** A client's view of an error message, cut short (messages may quote internal detail at length). */
export function jobError(at: number, error: unknown): JobError {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { at, message: text.length > 300 ? `${text.slice(0, 297)}...` : text };
}
