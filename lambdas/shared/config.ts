/**
 * The names of the environment variables the functions read, defined once: the handlers read them
 * and the CDK constructs set them through this object, so a rename cannot leave the two apart.
 */
export const ENV = {
  /** Export bucket: the exporter writes to it, the credentials function scopes OEM users to it. */
  exportBucket: 'EXPORT_BUCKET',
  /** Export window length in seconds (whole minutes): the exporter and the compaction planner. */
  exportWindowSeconds: 'EXPORT_WINDOW_SECONDS',
  /** Compaction partitions (P): the exporter groups staged rows by them. */
  exportCompactionPartitions: 'EXPORT_COMPACTION_PARTITIONS',
  /** Seconds after a window's end before the planner plans it. */
  exportCompactionDelaySeconds: 'EXPORT_COMPACTION_DELAY_SECONDS',
  /** Largest export file in bytes before a group is split: the compactor. */
  exportFileSizeCapBytes: 'EXPORT_FILE_SIZE_CAP_BYTES',
  /** URL of the compaction FIFO queue the planner sends to. */
  compactionQueueUrl: 'COMPACTION_QUEUE_URL',
  /** The datapoint log table (registry, log configuration, logged values). */
  datapointLogTable: 'DATAPOINT_LOG_TABLE',
  /** URL of the bulk job queue (IAP PUT/DELETE over more than the synchronous bound). */
  jobQueueUrl: 'JOB_QUEUE_URL',
  /** Values one job chunk deletes at most, and datapoints one configuration chunk changes at most: the worker. */
  jobChunkValues: 'JOB_CHUNK_MAX_VALUES',
  jobChunkDatapoints: 'JOB_CHUNK_MAX_DATAPOINTS',
  /** Table of the per-OEM API rate limit counters. */
  rateLimitTable: 'RATE_LIMIT_TABLE',
  /** Requests one OEM may make per rate limit window. */
  rateLimitRequests: 'RATE_LIMIT_REQUESTS',
  /** Length of a rate limit window in seconds. */
  rateLimitWindowSeconds: 'RATE_LIMIT_WINDOW_SECONDS',
  /** Lock table serializing changes of one OEM's export credentials. */
  lockTable: 'LOCK_TABLE',
  /** IAM path of the OEM export users. */
  iamPath: 'IAM_PATH',
  /** ARN of the managed policy every OEM export user gets as its permissions boundary. */
  exportUserBoundary: 'EXPORT_USER_BOUNDARY_ARN',
  /** Name prefix of the OEM export secrets. */
  secretPrefix: 'SECRET_PREFIX',
  /** Set by Lambda itself. */
  region: 'AWS_REGION',
  /** Read by the Powertools logger itself (PipelineFunction sets them). */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  logEvent: 'POWERTOOLS_LOGGER_LOG_EVENT',
  /** Read by Powertools Metrics itself (PipelineFunction sets it). */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  /** Read by Node.js itself. */
  nodeOptions: 'NODE_OPTIONS',
} as const;

/**
 * Reads a required environment variable (by its name in {@link ENV}). Call it at module scope so
 * that a function with a missing or empty variable fails at cold start, not on some later request.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new Error(`Missing required environment variable ${name}`);
  }
  return value;
}

/** Reads a required whole-number variable within [min, max], failing fast like {@link requireEnv}. */
export function requireIntegerEnv(name: string, min: number, max: number): number {
  const text = requireEnv(name).trim();
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`Environment variable ${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}
