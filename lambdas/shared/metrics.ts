import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricName } from './metric-names';

/**
 * The one Powertools Metrics of a function bundle: CloudWatch embedded metric format (EMF) lines in the
 * function's log, which CloudWatch turns into metrics without any API call. Namespace from
 * POWERTOOLS_METRICS_NAMESPACE, the `service` dimension from POWERTOOLS_SERVICE_NAME (PipelineFunction sets
 * both); a handler wrapped in {@link withMetrics} flushes what it counted once per invocation.
 */
export const metrics = new Metrics();

export { METRIC, METRICS_NAMESPACE, type MetricName } from './metric-names';

/** Adds `value` to a count of this invocation (zero counts are published too: a dashboard line at 0, not a gap). */
export function count(name: MetricName, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

export function seconds(name: MetricName, value: number): void {
  metrics.addMetric(name, MetricUnit.Seconds, value);
}

/** Runs the handler, then publishes what it counted (also when it throws); nothing when it counted nothing. */
export function withMetrics<A extends unknown[], R>(handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await handler(...args);
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
