import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Construct } from 'constructs';
import { ConsoleHosting } from './constructs/console-hosting';
import { integerContext } from './context';
import { ApiFairness } from './constructs/api-fairness';
import { DatapointLogTable } from './constructs/datapoint-log-table';
import { DEFAULT_EXPORT_PARALLELIZATION_FACTOR, DeviceEventExport } from './constructs/device-event-export';
import { capacityFromContext, DeviceEventStream } from './constructs/device-event-stream';
import { IapBulkJobs } from './constructs/iap-bulk-jobs';
import { ExportBucket } from './constructs/export-bucket';
import { ExportCredentials } from './constructs/export-credentials';
import { Operations, pipelineFunctions } from './constructs/operations';
import { ExportFilesApi } from './constructs/export-files-api';
import { PipelineFunction, lambdaEntry } from './constructs/pipeline-function';
import { PipelineHttpApi } from './constructs/pipeline-http-api';

/**
 * The device event pipeline: the event stream, the export bucket, the datapoint log table
 * and the HTTP API. Its CfnOutputs are a contract (DESIGN §2): the local cloud writes them to
 * `.local/outputs.json` under the same keys, and the integration tests find resources by them.
 */
export class DevicePipelineStack extends Stack {
  readonly eventStream: DeviceEventStream;
  readonly exportBucket: ExportBucket;
  readonly export: DeviceEventExport;
  readonly datapointLogs: DatapointLogTable;
  readonly api: PipelineHttpApi;
  readonly exportCredentials: ExportCredentials;
  readonly operations: Operations;
  readonly exportFiles: ExportFilesApi;
  readonly console: ConsoleHosting;
  readonly bulkJobs: IapBulkJobs;
  readonly fairness: ApiFairness;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.eventStream = new DeviceEventStream(this, 'DeviceEvents');
    this.exportBucket = new ExportBucket(this, 'Export');
    this.datapointLogs = new DatapointLogTable(this, 'DatapointLogs');
    this.api = new PipelineHttpApi(this, 'Api');

    const health = new PipelineFunction(this, 'HealthFunction', {
      entry: lambdaEntry('health'),
      description: 'GET /health: liveness of the HTTP API',
      service: 'health',
    });
    const healthRoute = this.api.addRoute(HttpMethod.GET, '/health', health, { public: true });
    Validations.of(healthRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: 'GET /health is a liveness probe for load balancers and monitors: it answers without a token and returns no data.',
    });

    this.export = new DeviceEventExport(this, 'ExportStages', { stream: this.eventStream, bucket: this.exportBucket.bucket });

    const datapointLogger = new PipelineFunction(this, 'DatapointLoggerFunction', {
      entry: lambdaEntry('datapoint-logger'),
      description: 'Device events to the datapoint registry (devices, datapoints, state, health, time zone)',
      service: 'datapoint-logger',
      timeout: Duration.minutes(1),
      memorySize: 512,
    });
    this.datapointLogs.bind(datapointLogger, 'logger');
    this.eventStream.addConsumer(datapointLogger, {
      batchSize: 1000,
      maxBatchingWindow: Duration.seconds(1),
      onFailure: this.exportBucket.bucket,
    });

    const logConfig = new PipelineFunction(this, 'IapLogConfigFunction', {
      entry: lambdaEntry('iap-log-config'),
      description: 'IAP datapoint log configuration: GET/PUT …/logs, GET/PUT/DELETE …/logs/{1,2,3,minDeltaValue,minDeltaTime}',
      service: 'iap-log-config',
    });
    this.datapointLogs.bind(logConfig, 'configWriter', 'jobWriter');
    const logsPath = '/iap/devs/{id}/if/{block}/{block_index}/{datapoint_name}/logs';
    for (const method of [HttpMethod.GET, HttpMethod.PUT]) this.api.addRoute(method, logsPath, logConfig);
    for (const method of [HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE]) this.api.addRoute(method, `${logsPath}/{setting}`, logConfig);

    const logValues = new PipelineFunction(this, 'IapLogValuesFunction', {
      entry: lambdaEntry('iap-log-values'),
      description: 'IAP datapoint log values: GET/DELETE …/logs/value/{value_param}',
      service: 'iap-log-values',
      timeout: Duration.seconds(29),
      memorySize: 1024,
    });
    this.datapointLogs.bind(logValues, 'valuesWriter', 'jobWriter');
    for (const method of [HttpMethod.GET, HttpMethod.DELETE]) this.api.addRoute(method, `${logsPath}/value/{value_param}`, logValues);

    this.exportCredentials = new ExportCredentials(this, 'ExportCredentials', { bucket: this.exportBucket.bucket, api: this.api });

    this.bulkJobs = new IapBulkJobs(this, 'IapBulkJobs', { table: this.datapointLogs, api: this.api });
    for (const fn of [logConfig, logValues]) this.bulkJobs.allowStart(fn);
    this.fairness = new ApiFairness(this, 'Fairness');
    for (const fn of [logConfig, logValues, this.bulkJobs.jobsFunction, this.exportCredentials.function]) this.fairness.addApiFunction(fn);
    const shards = capacityFromContext(this);
    const perShard = integerContext(this, 'exportParallelizationFactor', DEFAULT_EXPORT_PARALLELIZATION_FACTOR, 1, 10);
    this.fairness.addStreamConsumer({ fn: datapointLogger, concurrency: shards === 'on-demand' ? undefined : shards });
    this.fairness.addStreamConsumer({ fn: this.export.stager, concurrency: shards === 'on-demand' ? undefined : shards * perShard });

    const identity = new PipelineFunction(this, 'IdentityFunction', {
      entry: lambdaEntry('identity'),
      description: 'GET /me: the verified caller (subject, OEM, admin role)',
      service: 'identity',
    });
    this.api.addRoute(HttpMethod.GET, '/me', identity);

    this.exportFiles = new ExportFilesApi(this, 'ExportFiles', { bucket: this.exportBucket.bucket, api: this.api });
    this.fairness.addApiFunction(this.exportFiles.function);
    this.console = new ConsoleHosting(this, 'Console', { api: this.api });

    // Last: it watches every function and alarm above.
    this.operations = new Operations(this, 'Operations', {
      eventStream: this.eventStream, functions: pipelineFunctions(this), api: this.api.httpApi,
      tables: [this.datapointLogs.table, this.exportCredentials.lockTable, this.fairness.rateLimitTable], compactionDeadLetterQueue: this.export.deadLetterQueue,
      services: { exporter: this.export.stager.service, planner: this.export.planner.service, compactor: this.export.compactor.service, datapointLogger: datapointLogger.service, credentials: this.exportCredentials.function.service },
      exportLagThreshold: this.export.filesDueAfter.plus(Duration.minutes(10)),
    });

    new CfnOutput(this, 'ApiUrl', {
      // GetAtt ApiEndpoint (not httpApi.url): the local cloud maps this attribute to its own URL.
      value: this.api.httpApi.apiEndpoint,
      description: 'Base URL of the HTTP API',
    });
    new CfnOutput(this, 'EventStreamName', { value: this.eventStream.stream.streamName });
    new CfnOutput(this, 'EventStreamArn', { value: this.eventStream.stream.streamArn });
    new CfnOutput(this, 'ExportBucketName', { value: this.exportBucket.bucket.bucketName });
    new CfnOutput(this, 'DatapointLogTableName', { value: this.datapointLogs.table.tableName });
    new CfnOutput(this, 'UserPoolId', { value: this.api.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.api.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'ConsoleUrl', { value: this.console.url, description: 'The OEM console (CloudFront)' });
    new CfnOutput(this, 'ConsoleClientId', { value: this.console.client.userPoolClientId });
    new CfnOutput(this, 'AuthDomainUrl', { value: this.console.authDomainUrl, description: 'Cognito hosted UI (sign-in) base URL' });
  }
}
