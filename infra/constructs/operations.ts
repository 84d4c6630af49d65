import { Duration, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm, AlarmStatusWidget, ComparisonOperator, Dashboard, GraphWidget, MathExpression, Metric, TextWidget, TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, type MetricName } from '../../lambdas/shared/metric-names';
import type { DeviceEventStream } from './device-event-stream';
import { PipelineFunction } from './pipeline-function';

export interface OperationsProps {
  readonly eventStream: DeviceEventStream;
  /** Every function of the stack (their errors, throttles and own metrics). */
  readonly functions: readonly PipelineFunction[];
  readonly api: IHttpApi;
  readonly tables: readonly Table[];
  /** The compaction queue's dead-letter queue: a message there is a (window, partition) not exported. */
  readonly compactionDeadLetterQueue: IQueue;
  /** Service names of the functions that emit the export and datapoint-log metrics. */
  readonly services: { readonly exporter: string; readonly planner: string; readonly compactor: string; readonly datapointLogger: string; readonly credentials: string };
  /** Export lag above which someone should look: the window length plus the compaction delay plus a margin. */
  readonly exportLagThreshold: Duration;
}

const PERIOD = Duration.minutes(1);

/**
 * What an operator watches: one CloudWatch dashboard (stream, functions, failed batches, export, datapoint
 * logs, API, DynamoDB) and the alarms that need a person, all sent to one SNS topic (encrypted with a key
 * CloudWatch may use, TLS only), with an e-mail subscription when the context names `alarmEmail`.
 * The stack's other alarms (the stream consumers' iterator age) are sent to the topic too.
 */
export class Operations extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  /** The alarms this construct made, by name (the README explains each). */
  readonly alarms: Record<string, Alarm> = {};

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the pipeline alarm topic; CloudWatch alarms may use it to publish',
      enableKeyRotation: true,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'AlarmTopic', { displayName: `${stack.stackName} alarms`, masterKey: key, enforceSSL: true });
    const email: unknown = this.node.tryGetContext('alarmEmail');
    if (typeof email === 'string' && email !== '') {
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new Error(`Context alarmEmail must be an e-mail address, got ${JSON.stringify(email)}`);
      this.topic.addSubscription(new EmailSubscription(email));
    }

    // A label makes an alarm's metric a metric-math one: alarms take them unlabelled.
    const own = (name: MetricName, service: string, statistic = 'Sum', labelled = true) =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { service }, statistic, period: PERIOD, ...(labelled ? { label: name } : {}) });
    const sum = (label: string, metrics: IMetric[], period = PERIOD) =>
      new MathExpression({
        expression: metrics.map((_, i) => `FILL(m${i}, 0)`).join(' + '),
        usingMetrics: Object.fromEntries(metrics.map((m, i) => [`m${i}`, m])),
        label,
        period,
      });
    const { services: s } = props;

    const consumers = props.eventStream.consumers;
    const iteratorAge = consumers.map(({ fn }) => fn.metric('IteratorAge', { statistic: 'Maximum', period: PERIOD, label: fn.node.id }));
    const failedBatchRecords = consumers.map(({ fn, eventSource }) =>
      new Metric({
        namespace: 'AWS/Lambda', metricName: 'OnFailureDestinationDeliveredEventCount',
        dimensionsMap: { EventSourceMappingUUID: eventSource.eventSourceMappingId }, statistic: 'Sum', period: PERIOD, label: fn.node.id,
      }));
    const errors = props.functions.map((fn) => fn.metricErrors({ period: PERIOD, label: fn.service }));
    const throttles = (period: Duration) => props.functions.map((fn) => fn.metricThrottles({ period, label: fn.service }));
    const deadLetters = (label?: string) =>
      props.compactionDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', ...(label ? { label } : {}) });
    const exportLag = own(METRIC.exportLag, s.compactor, 'Maximum');
    const api5xx = new Metric({ namespace: 'AWS/ApiGateway', metricName: '5xx', dimensionsMap: { ApiId: props.api.apiId }, statistic: 'Sum', period: PERIOD });
    const api4xx = new Metric({ namespace: 'AWS/ApiGateway', metricName: '4xx', dimensionsMap: { ApiId: props.api.apiId }, statistic: 'Sum', period: PERIOD, label: '4xx' });
    const latency = (statistic: string) =>
      new Metric({ namespace: 'AWS/ApiGateway', metricName: 'Latency', dimensionsMap: { ApiId: props.api.apiId }, statistic, period: PERIOD, label: `latency ${statistic}` });
    const tableThrottles = props.tables.flatMap((table) => ['ReadThrottleEvents', 'WriteThrottleEvents'].map((name) =>
      table.metric(name, { statistic: 'Sum', period: PERIOD, label: `${table.node.id} ${name}` })));

    const alarm = (name: string, description: string, metric: IMetric, threshold: number, evaluationPeriods: number, datapointsToAlarm = evaluationPeriods) => {
      this.alarms[name] = new Alarm(this, name, {
        alarmDescription: `${description} (README, Operations: ${name})`,
        metric, threshold, evaluationPeriods, datapointsToAlarm,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    };
    // An alarm's metric math takes at most ten metrics: one alarm per ten functions (FunctionErrors, FunctionErrors2, …).
    perTenFunctions((part, suffix) => {
      alarm(`FunctionErrors${suffix}`, 'A function failed in 3 of the last 5 minutes', sum('function errors', part.map((i) => errors[i]!)), 1, 5, 3);
      const partThrottles = throttles(Duration.minutes(5));
      alarm(`FunctionThrottles${suffix}`, 'Functions were throttled 10 times or more in 5 minutes', sum('function throttles', part.map((i) => partThrottles[i]!), Duration.minutes(5)), 10, 1);
    }, props.functions.length);
    alarm('FailedBatchRecords', 'Stream records were given up on and written to the on-failure destination', sum('failed-batch records', failedBatchRecords), 1, 1);
    alarm('CompactionDeadLetters', 'A compaction task is in the dead-letter queue: a window partition was not exported', deadLetters(), 1, 1);
    alarm('ExportLag', `Export files came more than ${props.exportLagThreshold.toSeconds()} s after their window began`, own(METRIC.exportLag, s.compactor, 'Maximum', false), props.exportLagThreshold.toSeconds(), 3, 2);
    alarm('Api5xx', 'The HTTP API answered 5xx 5 times or more in 5 minutes', api5xx.with({ period: Duration.minutes(5) }), 5, 1);
    alarm('DynamoDbThrottles', 'DynamoDB throttled requests in 3 of the last 5 minutes', sum('DynamoDB throttles', tableThrottles), 1, 5, 3);

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) => new GraphWidget({ title, left, right, width: 12, height: 6 });
    this.dashboard.addWidgets(
      new TextWidget({ markdown: `# ${stack.stackName}\nThe README's **Operations** section explains each alarm and what to do.`, width: 24, height: 2 }),
    );
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: [...Object.values(this.alarms), ...this.stackAlarms()], width: 24, height: 3 }));
    this.dashboard.addWidgets(
      graph('Stream iterator age (ms, max)', iteratorAge),
      graph('Failed-batch records and compaction dead letters', [...failedBatchRecords, deadLetters('compaction dead-letter queue')],
        [own(METRIC.stagingFailures, s.exporter), own(METRIC.logWriteFailures, s.datapointLogger), own(METRIC.compactionFailures, s.compactor)]),
    );
    this.dashboard.addWidgets(graph('Function errors', errors), graph('Function throttles', throttles(PERIOD)));
    this.dashboard.addWidgets(
      graph('Export: events', [own(METRIC.eventsStaged, s.exporter), own(METRIC.eventsExported, s.compactor), own(METRIC.eventsRejected, s.exporter), own(METRIC.duplicatesDropped, s.compactor)]),
      graph('Export: files and lag (s, max)', [own(METRIC.filesWritten, s.compactor), own(METRIC.windowsPlanned, s.planner), own(METRIC.compactionTasks, s.planner)], [exportLag]),
    );
    this.dashboard.addWidgets(
      graph('Datapoint logs: values', [own(METRIC.valuesLogged, s.datapointLogger), own(METRIC.valuesSkipped, s.datapointLogger), own(METRIC.valuesRejected, s.datapointLogger)]),
      graph('Export credentials', [own(METRIC.credentialsServed, s.credentials), own(METRIC.credentialsRotated, s.credentials), own(METRIC.credentialsFailed, s.credentials)]),
    );
    this.dashboard.addWidgets(graph('HTTP API: 4xx and 5xx', [api4xx, api5xx]), graph('HTTP API: latency (ms)', [latency('p50'), latency('p99')]));
    this.dashboard.addWidgets(graph('DynamoDB throttled requests', tableThrottles));

    const action = new SnsAction(this.topic);
    for (const a of [...Object.values(this.alarms), ...this.stackAlarms()]) {
      a.addAlarmAction(action);
      a.addOkAction(action);
    }
  }

  /** The stack's alarms made elsewhere (the consumers' iterator age). */
  private stackAlarms(): Alarm[] {
    const mine = new Set<Alarm>(Object.values(this.alarms));
    return Stack.of(this).node.findAll().filter((c): c is Alarm => c instanceof Alarm && !mine.has(c));
  }
}

/** Calls `each` with the indexes of every run of ten functions and the alarm name suffix ('', '2', …). */
function perTenFunctions(each: (indexes: number[], suffix: string) => void, count: number): void {
  for (let start = 0; start < count; start += MAX_ALARM_METRICS) {
    const indexes = Array.from({ length: Math.min(MAX_ALARM_METRICS, count - start) }, (_, i) => start + i);
    each(indexes, start === 0 ? '' : String(start / MAX_ALARM_METRICS + 1));
  }
}

/** CloudWatch: an alarm's metric math expression may use at most ten metrics. */
const MAX_ALARM_METRICS = 10;

/** Every PipelineFunction of `scope`'s stack. */
export function pipelineFunctions(scope: Construct): PipelineFunction[] {
  return Stack.of(scope).node.findAll().filter((c): c is PipelineFunction => c instanceof PipelineFunction);
}
