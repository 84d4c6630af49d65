/**
 * Imported first by tests that read the functions' metrics: Powertools Metrics is off under POWERTOOLS_DEV
 * unless POWERTOOLS_METRICS_DISABLED says otherwise, and takes its namespace and service from the
 * environment PipelineFunction sets.
 */
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'DevicePipeline';
process.env.POWERTOOLS_SERVICE_NAME = 'unit-test-service';
