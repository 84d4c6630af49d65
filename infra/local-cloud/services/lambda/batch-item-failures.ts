import type { InvocationResult } from './runtime';

/** A whole batch failed: a function error, or a reply Lambda cannot read. */
export interface BatchError {
  kind: 'error';
  errorType: string;
  errorMessage: string;
}

/**
 * The `itemIdentifier`s of a function's `batchItemFailures` reply, read as Lambda reads it for every
 * event source: a function error fails the batch; without `ReportBatchItemFailures`, or with an absent,
 * null or empty list, the batch succeeded; a reply that is not a list fails the batch.
 */
export function reportedFailures(result: InvocationResult, reportBatchItemFailures: boolean): BatchError | { kind: 'success' } | { kind: 'reported'; ids: unknown[] } {
  if (!result.ok) return { kind: 'error', errorType: result.error.errorType, errorMessage: result.error.errorMessage };
  if (!reportBatchItemFailures) return { kind: 'success' };
  const payload = result.payload as { batchItemFailures?: unknown } | null;
  const failures = payload && typeof payload === 'object' ? payload.batchItemFailures : undefined;
  if (failures === undefined || failures === null || (Array.isArray(failures) && failures.length === 0)) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'error', errorType: 'InvalidResponse', errorMessage: 'batchItemFailures is not a list' };
  return { kind: 'reported', ids: failures.map((failure) => (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier) };
}
