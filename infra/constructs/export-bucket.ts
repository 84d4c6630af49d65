import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { COMPACTION_PREFIX, STAGING_PREFIX } from '../../lambdas/domain/export/layout';

/** Days an export file is kept (DESIGN §1: twelve months). */
export const EXPORT_RETENTION_DAYS = 365;
/** Days a server access log object is kept. */
export const ACCESS_LOG_RETENTION_DAYS = 90;
/**
 * Days a staged object is kept at most: compaction deletes it within minutes; the rule is the net
 * for a window whose compaction never finished (its tasks wait in the dead-letter queue).
 */
export const STAGING_RETENTION_DAYS = 2;
/** Days compaction manifests, row hashes and markers are kept: longer than any late row can be staged. */
export const COMPACTION_RETENTION_DAYS = 3;
/** The single-stage exporter's ledger (before the two-stage export): expires on buckets that still hold it. */
const OLD_LEDGER_PREFIX = '_exporter/';
const OLD_LEDGER_RETENTION_DAYS = 7;
/** Where Lambda writes the record of a batch that still failed after its retries. */
export const FAILURE_PREFIX = 'aws/lambda/';

/**
 * The S3 bucket of the CSV export (`<oem_id>/<event_type>/<timestamp>/<file>.csv`).
 * Private, TLS only, SSE-S3, files expire after 365 days; retained when the stack is deleted,
 * since it holds customer data. Server access logs go to a separate bucket.
 */
export class ExportBucket extends Construct {
  readonly bucket: Bucket;
  readonly accessLogBucket: Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.accessLogBucket = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // S3 server access logging only delivers to SSE-S3 buckets.
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(ACCESS_LOG_RETENTION_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket is the server access log destination of the export bucket; logging it ' +
        'as well would need yet another log bucket, and so on without end.',
    });

    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-exports',
          expiration: Duration.days(EXPORT_RETENTION_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
        { id: 'expire-export-staging', prefix: STAGING_PREFIX, expiration: Duration.days(STAGING_RETENTION_DAYS) },
        { id: 'expire-export-compaction', prefix: COMPACTION_PREFIX, expiration: Duration.days(COMPACTION_RETENTION_DAYS) },
        { id: 'expire-exporter-ledger', prefix: OLD_LEDGER_PREFIX, expiration: Duration.days(OLD_LEDGER_RETENTION_DAYS) },
      ],
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'export-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
