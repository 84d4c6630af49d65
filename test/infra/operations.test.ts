import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createPipelineApp } from '../../infra/pipeline-app';
import { METRIC, METRICS_NAMESPACE } from '../../lambdas/shared/metric-names';
import { pipelineFunctions } from '../../infra/constructs/operations';

const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

describe('Operations: dashboard, alarms and the alarm topic', () => {
  const { stack } = createPipelineApp({ context: SKIP_BUNDLING });
  const template = Template.fromStack(stack);
  const resources = (template.toJSON() as { Resources: Record<string, Resource> }).Resources;
  const topicRef = { Ref: logicalId(stack.operations.topic) };

  it('sends every alarm of the stack to the topic, in alarm and back to OK', () => {
    const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(Object.keys(stack.operations.alarms).length + 2);
    for (const [, alarm] of alarms) expect(alarm.Properties).toMatchObject({ AlarmActions: [topicRef], OKActions: [topicRef] });
    // One FunctionErrors/FunctionThrottles alarm per ten functions (an alarm's metric math takes ten metrics at most).
    const functions = pipelineFunctions(stack).length;
    expect(functions).toBeGreaterThan(10);
    const perTen = (name: string) => [name, ...Array.from({ length: Math.ceil(functions / 10) - 1 }, (_, i) => `${name}${i + 2}`)];
    expect(Object.keys(stack.operations.alarms).sort()).toEqual(
      ['Api5xx', 'CompactionDeadLetters', 'DynamoDbThrottles', 'ExportLag', 'FailedBatchRecords', ...perTen('FunctionErrors'), ...perTen('FunctionThrottles')].sort(),
    );
    for (const name of [...perTen('FunctionErrors'), ...perTen('FunctionThrottles')]) {
      const metrics = resources[logicalId(stack.operations.alarms[name]!)]!.Properties?.Metrics as unknown[];
      expect(metrics.length - 1).toBeLessThanOrEqual(10); // the expression and its metrics
    }
    const watched = [...perTen('FunctionErrors')].flatMap((name) => JSON.stringify(resources[logicalId(stack.operations.alarms[name]!)]!.Properties?.Metrics).match(/"MetricName":"Errors"/g) ?? []);
    expect(watched).toHaveLength(functions);
    // The consumers' iterator-age alarms are among them.
    expect(alarms.filter(([, a]) => a.Properties?.MetricName === 'IteratorAge')).toHaveLength(2);
  });

  it('alarms on the export lag past the window, its compaction delay and ten minutes, from the compactor\'s own metric', () => {
    const exportLag = resources[logicalId(stack.operations.alarms.ExportLag!)]!;
    expect(exportLag.Properties).toMatchObject({
      Namespace: METRICS_NAMESPACE, MetricName: METRIC.exportLag, Dimensions: [{ Name: 'service', Value: 'export-compactor' }],
      Statistic: 'Maximum', Threshold: 5 * 60 + 15 + 600, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('counts failed-batch records from the stream mappings\' event counts, which the mappings publish', () => {
    const streamMappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties?.StartingPosition !== undefined);
    expect(streamMappings).toHaveLength(2);
    for (const mapping of streamMappings) expect(mapping.Properties).toMatchObject({ MetricsConfig: { Metrics: ['EventCount'] } });
    const failed = resources[logicalId(stack.operations.alarms.FailedBatchRecords!)]!;
    const metrics = JSON.stringify(failed.Properties?.Metrics);
    expect(metrics).toContain('OnFailureDestinationDeliveredEventCount');
    expect(metrics.match(/EventSourceMappingUUID/g)).toHaveLength(2);
  });

  it('has a dashboard with the stream, functions, failed batches, export, API and DynamoDB', () => {
    const [dashboard] = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard!.Properties!.DashboardBody);
    for (const title of ['Stream iterator age', 'Function errors', 'Function throttles', 'Failed-batch records', 'Export: files and lag', 'HTTP API: 4xx and 5xx', 'HTTP API: latency', 'DynamoDB throttled requests', 'Datapoint logs: values']) {
      expect(body).toContain(title);
    }
    for (const name of [METRIC.eventsExported, METRIC.exportLag, METRIC.valuesLogged, METRIC.valuesSkipped, 'IteratorAge', 'Throttles', '5xx', 'WriteThrottleEvents']) {
      expect(body).toContain(name);
    }
  });

  it('encrypts the topic with a rotated key CloudWatch may use, and refuses publishing without TLS', () => {
    const topic = resources[logicalId(stack.operations.topic)]!;
    expect(topic.Properties?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/AlarmTopicKey/), 'Arn'] });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, KeyPolicy: { Statement: Match.arrayWith([
      Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
    ]) } });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([
      Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]) } });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes the e-mail address of context alarmEmail, and refuses one that is not an address', () => {
    const { stack: withEmail } = createPipelineApp({ context: { ...SKIP_BUNDLING, alarmEmail: 'ops@example.com' } });
    Template.fromStack(withEmail).hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(() => createPipelineApp({ context: { ...SKIP_BUNDLING, alarmEmail: 'not an address' } })).toThrow(/alarmEmail must be an e-mail address/);
  });
});
