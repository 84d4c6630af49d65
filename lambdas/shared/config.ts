/**
 * The names of the environment variables the functions read, defined once: the handlers read them
 * and the CDK constructs set them through this object, so a rename cannot leave the two apart.
 */
export const ENV = {
  /** Export bucket: the exporter writes to it, the credentials function scopes OEM users to it. */
  exportBucket: 'EXPORT_BUCKET',
  /** The datapoint log table (registry, log configuration, logged values). */
  datapointLogTable: 'DATAPOINT_LOG_TABLE',
  /** Lock table serializing changes of one OEM's export credentials. */
  lockTable: 'LOCK_TABLE',
  /** IAM path of the OEM export users. */
  iamPath: 'IAM_PATH',
  /** Name prefix of the OEM export secrets. */
  secretPrefix: 'SECRET_PREFIX',
  /** Set by Lambda itself. */
  region: 'AWS_REGION',
  /** Read by the Powertools logger itself (PipelineFunction sets them). */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  logEvent: 'POWERTOOLS_LOGGER_LOG_EVENT',
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
