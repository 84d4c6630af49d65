import { App, Duration, Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeviceEventStream } from '../../infra/constructs/device-event-stream';
import { PipelineFunction, lambdaEntry } from '../../infra/constructs/pipeline-function';

function consumerStack(options: { batchSize?: number; maxBatchingWindow?: Duration; retryAttempts?: number } = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ConsumerTest', { env: { region: 'us-east-1' } });
  const events = new DeviceEventStream(stack, 'Events');
  const failures = new Bucket(stack, 'Failures');
  const consumer = new PipelineFunction(stack, 'Consumer', {
    entry: lambdaEntry('health'),
    description: 'test consumer',
  });
  const eventSource = events.addConsumer(consumer, { ...options, onFailure: failures });
  return { app, stack, events, failures, consumer, eventSource, template: Template.fromStack(stack) };
}

describe('DeviceEventStream.addConsumer', () => {
  it('maps the stream with safe defaults', () => {
    const { stack, events, failures, template } = consumerStack();
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [stack.getLogicalId(events.stream.node.defaultChild as CfnElement), 'Arn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: Match.absent(),
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 86400,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [stack.getLogicalId(failures.node.defaultChild as CfnElement), 'Arn'] },
        },
      },
    });
  });

  it('passes the caller options through', () => {
    const { template } = consumerStack({ batchSize: 500, maxBatchingWindow: Duration.seconds(20), retryAttempts: 5 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 20,
      MaximumRetryAttempts: 5,
    });
  });

  it('lets the function read the stream and only write failure records to the bucket', () => {
    const { stack, failures, template } = consumerStack();
    const bucketArn = { 'Fn::GetAtt': [stack.getLogicalId(failures.node.defaultChild as CfnElement), 'Arn'] };
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } })
        .Properties.PolicyDocument.Statement,
    );
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator']) }),
        // Only under the failure records' prefix, not anywhere in the bucket.
        { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [bucketArn, '/aws/lambda/*']] } },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn },
      ]),
    );
    const s3Actions = statements.flatMap((st) => [st.Action].flat()).filter((a) => String(a).startsWith('s3:'));
    expect(s3Actions.sort()).toEqual(['s3:ListBucket', 's3:PutObject']);
    expect(JSON.stringify(statements)).not.toContain(`"${bucketArn['Fn::GetAtt'][0]}","Arn"]},"/*"`);
  });

  it('alarms when the consumer falls more than five minutes behind', () => {
    const { template } = consumerStack();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Threshold: 300_000,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('returns the bound event source', () => {
    const { eventSource } = consumerStack();
    expect(eventSource.eventSourceMappingId).toEqual(expect.any(String));
  });

  it('acknowledges the one wildcard the failure destination needs, and nothing else', () => {
    const { app } = consumerStack();
    const findings = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
    // Only the test's own bare failure bucket is reported (no access logs, no TLS policy).
    expect(findings.sort()).toEqual(['AwsSolutions-S1', 'AwsSolutions-S10']);
  });
});
