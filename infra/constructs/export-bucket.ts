import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/config';
import { acknowledgeWildcardResource } from '../nag';

/** Days an export file is kept (DESIGN §1: twelve months). */
export const EXPORT_RETENTION_DAYS = 365;
/** Days a server access log object is kept. */
export const ACCESS_LOG_RETENTION_DAYS = 90;
/**
 * Days the exporter's ledger objects are kept: longer than a record can stay in the stream
 * (24 h retention, one-day maximum record age), after which no redelivery can need them.
 */
export const LEDGER_RETENTION_DAYS = 7;
/** The exporter's bookkeeping, outside every OEM's prefix (OEM ids cannot start with `_`). */
export const LEDGER_PREFIX = '_exporter/';
/** Records that are not valid events, with their reason. */
export const ERROR_PREFIX = '_errors/';
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
        { id: 'expire-exporter-ledger', prefix: LEDGER_PREFIX, expiration: Duration.days(LEDGER_RETENTION_DAYS) },
      ],
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'export-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets `fn` write the export: `EXPORT_BUCKET` in its environment, object reads and writes in
   * the bucket (files under every OEM's prefix, its ledger, the error prefix) and ListBucket, so
   * that a missing ledger object answers 404 rather than 403. No deletes.
   */
  bindExporter(fn: LambdaFunction): void {
    fn.addEnvironment(ENV.exportBucket, this.bucket.bucketName);
    const objects = this.bucket.arnForObjects('*');
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [objects] }));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    if (fn.role) {
      acknowledgeWildcardResource(
        fn.role,
        objects,
        'The exporter writes files under every OEM prefix (OEMs appear with their first event) and its own ledger and error prefixes.',
      );
    }
  }
}
