import type { DeployedStack } from '../../cloudformation/template';

/** An `AWS::CloudWatch::Alarm` as the local cloud records it (alarms are not evaluated locally). */
export interface RecordedAlarm {
  name: string;
  description?: string;
  /** `namespace/metric` of a single-metric alarm, or `math` for a metric-math one. */
  metric: string;
  threshold?: number;
  comparisonOperator?: string;
  /** ARNs the alarm notifies (its AlarmActions). */
  actions: string[];
}

export interface RecordedDashboard {
  name: string;
  /** Titles of the dashboard's widgets (text widgets have none). */
  widgetTitles: string[];
}

export interface CloudWatchRecord {
  alarms: RecordedAlarm[];
  dashboards: RecordedDashboard[];
}

const asStrings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

/**
 * `AWS::CloudWatch::Alarm` and `AWS::CloudWatch::Dashboard`: recorded, so that a template with them deploys
 * and tests can see what would be watched, but never evaluated: the local cloud keeps no metrics (the
 * functions' EMF lines are in their logs).
 */
export function recordCloudWatch(stack: DeployedStack): CloudWatchRecord {
  const alarms = stack.resourcesOfType('AWS::CloudWatch::Alarm').map(([id, resource]): RecordedAlarm => {
    const props = stack.resolve(resource.Properties ?? {}) as Record<string, unknown>;
    const alarm: RecordedAlarm = {
      name: stack.ref(id),
      metric: props.Metrics !== undefined ? 'math' : `${String(props.Namespace)}/${String(props.MetricName)}`,
      actions: asStrings(props.AlarmActions),
    };
    if (typeof props.AlarmDescription === 'string') alarm.description = props.AlarmDescription;
    if (props.Threshold !== undefined) alarm.threshold = Number(props.Threshold);
    if (typeof props.ComparisonOperator === 'string') alarm.comparisonOperator = props.ComparisonOperator;
    return alarm;
  });
  const dashboards = stack.resourcesOfType('AWS::CloudWatch::Dashboard').map(([id, resource]): RecordedDashboard => {
    const props = stack.resolve(resource.Properties ?? {}) as Record<string, unknown>;
    let widgetTitles: string[] = [];
    try {
      const body = JSON.parse(String(props.DashboardBody ?? '{}')) as { widgets?: Array<{ properties?: { title?: unknown } }> };
      widgetTitles = (body.widgets ?? []).flatMap((w) => (typeof w.properties?.title === 'string' ? [w.properties.title] : []));
    } catch {
      // A body CloudFormation would refuse: recorded without its widgets.
    }
    return { name: stack.ref(id), widgetTitles };
  });
  return { alarms, dashboards };
}
