import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one Powertools logger of a function bundle. Service name and level come from
 * POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL (set by PipelineFunction); events are
 * never logged whole (POWERTOOLS_LOGGER_LOG_EVENT=false).
 */
export const logger = new Logger();
