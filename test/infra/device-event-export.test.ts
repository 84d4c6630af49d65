import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createPipelineApp } from '../../infra/pipeline-app';
import type { DevicePipelineStack } from '../../infra/pipeline-stack';

const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type Resource = { Type: string; Properties?: Record<string, unknown> };

function logicalId(construct: IConstruct): string {
  const child = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(child as CfnElement);
}

/** Every statement of the inline policies attached to a function's role, with resources rendered as text. */
function statementsOf(template: Template, functionLogicalIdPrefix: string): Array<{ actions: string[]; resources: string[] }> {
  const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith(functionLogicalIdPrefix));
  return policies.flatMap(([, p]) => ((p as Resource).Properties!.PolicyDocument as { Statement: Statement[] }).Statement).map((st) => ({
    actions: [st.Action].flat(),
    resources: [st.Resource].flat().map((r) => JSON.stringify(r)),
  }));
}

const objectsUnder = (resources: string[]) => resources.map((r) => /"\/([^"]*)"\]\]\}$/.exec(r)?.[1] ?? r);

describe('DeviceEventExport', () => {
  let stack: DevicePipelineStack;
  let template: Template;

  beforeAll(() => {
    ({ stack } = createPipelineApp({ context: SKIP_BUNDLING }));
    template = Template.fromStack(stack);
  });

  describe('stage 1 (the stream consumer)', () => {
    it('consumes the stream in batches of up to 10,000 with a 10 s window, bisection, bounded retries and age, item failures and the S3 failure destination', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(stack.export.stager) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.eventStream.stream), 'Arn'] },
        BatchSize: 10_000,
        MaximumBatchingWindowInSeconds: 10,
        ParallelizationFactor: 1,
        StartingPosition: 'TRIM_HORIZON',
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 86_400,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.exportBucket.bucket), 'Arn'] } } },
      });
    });

    it('takes the batching window (0–300) and the parallelization factor (1–10) from context', () => {
      const t = Template.fromStack(createPipelineApp({ context: { ...SKIP_BUNDLING, exportBatchingWindowSeconds: '5', exportParallelizationFactor: 10 } }).stack);
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumBatchingWindowInSeconds: 5, ParallelizationFactor: 10, BatchSize: 10_000 });
      expect(() => createPipelineApp({ context: { ...SKIP_BUNDLING, exportBatchingWindowSeconds: '301' } })).toThrow(/exportBatchingWindowSeconds/);
      expect(() => createPipelineApp({ context: { ...SKIP_BUNDLING, exportParallelizationFactor: 11 } })).toThrow(/exportParallelizationFactor/);
    });

    it('knows its bucket, window and partitions, and may only put staged objects and error files', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: Match.absent(),
        Environment: { Variables: Match.objectLike({
          EXPORT_BUCKET: { Ref: logicalId(stack.exportBucket.bucket) },
          EXPORT_WINDOW_SECONDS: '300',
          EXPORT_COMPACTION_PARTITIONS: '16',
        }) },
      });
      const s3 = statementsOf(template, 'ExporterFunction').filter((st) => st.actions.some((a) => a.startsWith('s3:')));
      const puts = s3.filter((st) => st.actions.includes('s3:PutObject'));
      expect(puts.flatMap((st) => st.actions).filter((a) => a !== 's3:PutObject')).toEqual([]);
      // The failure destination's own grant (Lambda names those objects) is the only bucket-wide one.
      const scoped = objectsUnder(puts.flatMap((st) => st.resources));
      expect(scoped).toEqual(expect.arrayContaining(['_staging/*', '_errors/*', '*/_errors/*']));
      expect(s3.flatMap((st) => st.actions)).not.toContain('s3:GetObject');
      expect(s3.flatMap((st) => st.actions)).not.toContain('s3:DeleteObject');
    });

    it('alarms when it falls behind the stream', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'IteratorAge',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack.export.stager) } }],
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });
  });

  describe('stage 2 (schedule, queue, compaction)', () => {
    it('runs the planner at the start of every minute, retrying a failed invocation twice', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'cron(* * * * ? *)',
        State: 'ENABLED',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack.export.planner), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2 } })],
      });
    });

    it('queues compaction tasks on an encrypted FIFO queue with a FIFO dead-letter queue after 10 receives', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        FifoQueue: true,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 1800,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.export.deadLetterQueue), 'Arn'] }, maxReceiveCount: 10 },
      });
      template.hasResourceProperties('AWS::SQS::Queue', { FifoQueue: true, MessageRetentionPeriod: 1_209_600 });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
    });

    it('consumes one task at a time per message, reporting a failed one', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(stack.export.compactor) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.export.queue), 'Arn'] },
        BatchSize: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('gives the planner the window, the grace and the queue, and lets it send there and write only under _compaction/', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Timeout: 120,
        Environment: { Variables: Match.objectLike({
          EXPORT_WINDOW_SECONDS: '300',
          EXPORT_COMPACTION_DELAY_SECONDS: '15',
          COMPACTION_QUEUE_URL: { Ref: logicalId(stack.export.queue) },
        }) },
      });
      const statements = statementsOf(template, 'ExportPlannerFunction');
      const puts = statements.filter((st) => st.actions.includes('s3:PutObject'));
      expect(objectsUnder(puts.flatMap((st) => st.resources))).toEqual(['_compaction/*']);
      expect(statements.flatMap((st) => st.actions)).toEqual(expect.arrayContaining(['sqs:SendMessage']));
      expect(statements.flatMap((st) => st.actions)).not.toContain('s3:DeleteObject');
    });

    it('lets the compactor write export files (by event type folder) and _compaction/, and delete only staging', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Timeout: 300,
        MemorySize: 3008,
        Environment: { Variables: Match.objectLike({ EXPORT_FILE_SIZE_CAP_BYTES: String(64 * 1024 * 1024) }) },
      });
      const statements = statementsOf(template, 'ExportCompactorFunction');
      const of = (action: string) => objectsUnder(statements.filter((st) => st.actions.includes(action)).flatMap((st) => st.resources));
      expect(of('s3:DeleteObject')).toEqual(['_staging/*']);
      expect(of('s3:PutObject').sort()).toEqual(
        ['_compaction/*', '*/datapoint/*', '*/datapointack/*', '*/connectivity/*', '*/location/*', '*/registration/*'].sort(),
      );
    });

    it('takes window, partitions, grace and size cap from context, within bounds', () => {
      const t = Template.fromStack(createPipelineApp({ context: {
        ...SKIP_BUNDLING, exportWindowMinutes: '1', exportCompactionPartitions: 4, exportCompactionDelaySeconds: 5, exportFileSizeCapMb: 1,
      } }).stack);
      t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ EXPORT_WINDOW_SECONDS: '60', EXPORT_COMPACTION_PARTITIONS: '4' }) } });
      t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ EXPORT_COMPACTION_DELAY_SECONDS: '5' }) } });
      t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ EXPORT_FILE_SIZE_CAP_BYTES: String(1024 * 1024) }) } });
      for (const [key, value] of [['exportWindowMinutes', 61], ['exportWindowMinutes', 0], ['exportCompactionPartitions', 0], ['exportCompactionDelaySeconds', 51], ['exportFileSizeCapMb', 0]] as const) {
        expect(() => createPipelineApp({ context: { ...SKIP_BUNDLING, [key]: value } })).toThrow(new RegExp(key));
      }
    });
  });
});
