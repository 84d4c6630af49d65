/**
 * The pipeline's own CloudWatch metrics: their namespace and names, shared by the functions that emit
 * them (shared/metrics.ts) and the operations dashboard and alarms that read them (no SDK or Powertools
 * import here, so the CDK app can use them).
 */

/** The namespace PipelineFunction sets (POWERTOOLS_METRICS_NAMESPACE) and the dashboard reads. */
export const METRICS_NAMESPACE = 'DevicePipeline';

/** Metric names, shared by the functions that emit them and the dashboard and alarms that read them. */
export const METRIC = {
  /** exporter: valid events written to a staged object. */
  eventsStaged: 'EventsStaged',
  /** exporter: records that are not valid events (written to `_errors/`). */
  eventsRejected: 'EventsRejected',
  /** exporter: batches whose staging write failed (retried by Lambda). */
  stagingFailures: 'StagingFailures',
  /** planner: windows planned, and compaction tasks sent. */
  windowsPlanned: 'WindowsPlanned',
  compactionTasks: 'CompactionTasks',
  /** compactor: rows exported, duplicates dropped, CSV files written. */
  eventsExported: 'EventsExported',
  duplicatesDropped: 'DuplicatesDropped',
  filesWritten: 'FilesWritten',
  /** compactor: seconds from a window's start to its files being written (window length + delay + work). */
  exportLag: 'ExportLag',
  /** compactor: tasks that failed (their message is retried, then dead-lettered). */
  compactionFailures: 'CompactionFailures',
  /** datapoint logger: values logged, skipped by the rules, refused by DynamoDB; OEM batches that failed. */
  valuesLogged: 'ValuesLogged',
  valuesSkipped: 'ValuesSkipped',
  valuesRejected: 'ValuesRejected',
  logWriteFailures: 'LogWriteFailures',
  /** export credentials: served (GET), rotated (POST …/refresh), failed (a 5xx). */
  credentialsServed: 'CredentialsServed',
  credentialsRotated: 'CredentialsRotated',
  credentialsFailed: 'CredentialsFailed',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

