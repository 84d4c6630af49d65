import { Duration } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/config';
import { acknowledgeWildcardResource } from '../nag';
import { FAILURE_PREFIX } from './export-bucket';
import { PipelineFunction, lambdaEntry } from './pipeline-function';
import type { PipelineHttpApi } from './pipeline-http-api';

export interface ExportFilesApiProps {
  readonly bucket: IBucket;
  readonly api: PipelineHttpApi;
}

/**
 * The files API of the console: an OEM member lists its export files, gets presigned downloads and previews.
 * The function reads only OEM prefixes: the pipeline's own prefixes (`_staging/`, `_compaction/`, `_errors/`,
 * Lambda's failure records) are denied to it, so a bug in its tenancy check still cannot expose them.
 */
export class ExportFilesApi extends Construct {
  readonly function: PipelineFunction;

  constructor(scope: Construct, id: string, props: ExportFilesApiProps) {
    super(scope, id);
    const { bucket } = props;
    this.function = new PipelineFunction(scope, 'ExportFilesFunction', {
      entry: lambdaEntry('export-files'),
      description: 'OEM export files: GET /oems/{oem_id}/data-export/files, …/files/download, …/files/preview',
      service: 'export-files',
      timeout: Duration.seconds(29),
      memorySize: 512,
      environment: { [ENV.exportBucket]: bucket.bucketName },
    });
    const internal = ['_*', `${FAILURE_PREFIX}*`];
    this.function.addToRolePolicy(new PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      // Only with a prefix, and never one of the pipeline's own.
      conditions: { Null: { 's3:prefix': 'false' }, StringNotLike: { 's3:prefix': ['', ...internal] } },
    }));
    const objects = bucket.arnForObjects('*');
    this.function.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }));
    this.function.addToRolePolicy(new PolicyStatement({ effect: Effect.DENY, actions: ['s3:GetObject'], resources: internal.map((p) => bucket.arnForObjects(p)) }));
    acknowledgeWildcardResource(this.function.role!, objects, 'Reads export files of any OEM (the OEM is checked from the verified token per request); the pipeline\'s own prefixes are denied.');

    const base = '/oems/{oem_id}/data-export/files';
    for (const path of [base, `${base}/download`, `${base}/preview`]) props.api.addRoute(HttpMethod.GET, path, this.function);
  }
}
