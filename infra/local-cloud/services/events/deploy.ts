import { randomUUID } from 'node:crypto';
import { nameFromArn, TemplateError, type DeployedStack } from '../../cloudformation/template';
import { parseScheduleExpression, ScheduleExpressionError, type ScheduleExpression } from './schedule-expression';

/** Lambda's asynchronous invocation defaults (`AWS::Lambda::EventInvokeConfig` changes them). */
export const ASYNC_DEFAULT_RETRY_ATTEMPTS = 2;
export const ASYNC_DEFAULT_MAX_EVENT_AGE_SECONDS = 21_600;

/** One function a schedule invokes, and how. */
export interface ScheduleTarget {
  id: string;
  /** Unqualified function ARN. */
  functionArn: string;
  /** The payload for one firing (the same `event` goes to every target of a rule). */
  payload(event: ScheduledEvent): unknown;
  /** Lambda's asynchronous retries of a function error, and the age after which an event is dropped. */
  maxRetryAttempts: number;
  maxEventAgeSeconds: number;
}

/** An enabled `AWS::Events::Rule` with a schedule, or an `AWS::Scheduler::Schedule`. */
export interface Schedule {
  kind: 'rule' | 'schedule';
  name: string;
  arn: string;
  expression: ScheduleExpression;
  /** Scheduler's StartDate and EndDate (epoch ms). */
  startMs?: number;
  endMs?: number;
  targets: ScheduleTarget[];
}

/** What a schedule's firing is: the time it was due and the event's id. */
export interface ScheduledEvent {
  id: string;
  time: Date;
}

/** A rule as ListRules / DescribeRule show it (also rules the local cloud does not run). */
export interface RuleDescription {
  Name: string;
  Arn: string;
  State: string;
  EventBusName: string;
  ScheduleExpression?: string;
  EventPattern?: string;
  Description?: string;
  Targets: Array<{ Id: string; Arn: string; Input?: string; InputPath?: string }>;
}

interface CfnRuleTarget {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: unknown;
}

/** `time` as EventBridge writes it: ISO 8601 to the second. */
export function eventTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/**
 * The template's schedules: `AWS::Events::Rule` with a `ScheduleExpression` and `AWS::Scheduler::Schedule`,
 * enabled, with their Lambda targets. An invalid expression fails the deployment, as in CloudFormation;
 * targets that are not functions of the stack are logged and left out.
 */
export function schedulesFromTemplate(
  stack: DeployedStack,
  isFunction: (functionArn: string) => boolean,
  log: (line: string) => void,
): { schedules: Schedule[]; rules: RuleDescription[] } {
  const { region, accountId } = stack.env;
  const retries = asyncInvokeConfigs(stack);
  const retryOf = (functionArn: string) => retries.get(nameFromArn(functionArn)) ?? {
    maxRetryAttempts: ASYNC_DEFAULT_RETRY_ATTEMPTS, maxEventAgeSeconds: ASYNC_DEFAULT_MAX_EVENT_AGE_SECONDS,
  };
  const schedules: Schedule[] = [];
  const rules: RuleDescription[] = [];

  for (const [id, resource] of stack.resourcesOfType('AWS::Events::Rule')) {
    const p = stack.resolve(resource.Properties ?? {}) as {
      ScheduleExpression?: string; EventPattern?: unknown; State?: string; Description?: string; EventBusName?: string; Targets?: CfnRuleTarget[];
    };
    const name = stack.ref(id).split('|').pop()!;
    const arn = stack.getAtt(id, 'Arn');
    const state = p.State ?? 'ENABLED';
    const bus = p.EventBusName ? nameFromArn(p.EventBusName) : 'default';
    rules.push({
      Name: name, Arn: arn, State: state, EventBusName: bus,
      ...(p.ScheduleExpression ? { ScheduleExpression: p.ScheduleExpression } : {}),
      ...(p.EventPattern ? { EventPattern: JSON.stringify(p.EventPattern) } : {}),
      ...(p.Description ? { Description: p.Description } : {}),
      Targets: (p.Targets ?? []).map((t) => ({ Id: t.Id, Arn: t.Arn, ...(t.Input ? { Input: t.Input } : {}), ...(t.InputPath ? { InputPath: t.InputPath } : {}) })),
    });
    if (!p.ScheduleExpression) {
      if (p.EventPattern) log(`rule ${name}: event patterns are not run locally, skipped`);
      continue;
    }
    const expression = parsed(`rule ${name}`, () => parseScheduleExpression(p.ScheduleExpression!));
    if (state === 'DISABLED') continue;
    const targets: ScheduleTarget[] = [];
    for (const target of p.Targets ?? []) {
      const functionArn = unqualified(target.Arn);
      if (!functionArn || !isFunction(functionArn)) {
        log(`rule ${name}: target ${target.Id} (${target.Arn}) is not a function of the stack, skipped`);
        continue;
      }
      if (target.InputTransformer) {
        log(`rule ${name}: target ${target.Id} uses an InputTransformer, which the local cloud does not apply, skipped`);
        continue;
      }
      const scheduledEvent = (event: ScheduledEvent) => ({
        version: '0',
        id: event.id,
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: accountId,
        time: eventTime(event.time),
        region,
        resources: [arn],
        detail: {},
      });
      const constant = target.Input === undefined ? undefined : parsed(`rule ${name} target ${target.Id} Input`, () => JSON.parse(target.Input!) as unknown);
      const path = target.InputPath;
      if (path) parsed(`rule ${name} target ${target.Id} InputPath`, () => jsonPath({}, path));
      targets.push({
        id: target.Id,
        functionArn,
        payload: constant !== undefined ? () => constant : path ? (event) => jsonPath(scheduledEvent(event), path) : scheduledEvent,
        ...retryOf(functionArn),
      });
    }
    schedules.push({ kind: 'rule', name, arn, expression, targets });
  }

  for (const [id, resource] of stack.resourcesOfType('AWS::Scheduler::Schedule')) {
    const p = stack.resolve(resource.Properties ?? {}) as {
      ScheduleExpression: string; ScheduleExpressionTimezone?: string; State?: string; StartDate?: string; EndDate?: string;
      Target: { Arn: string; Input?: string };
    };
    const name = stack.ref(id);
    const arn = stack.getAtt(id, 'Arn');
    const expression = parsed(`schedule ${name}`, () => parseScheduleExpression(p.ScheduleExpression, { allowAt: true, ...(p.ScheduleExpressionTimezone ? { timezone: p.ScheduleExpressionTimezone } : {}) }));
    if (p.State === 'DISABLED') continue;
    const functionArn = unqualified(p.Target.Arn);
    if (!functionArn || !isFunction(functionArn)) {
      log(`schedule ${name}: target ${p.Target.Arn} is not a function of the stack, skipped`);
      continue;
    }
    const input = p.Target.Input;
    const payload = (event: ScheduledEvent): unknown => {
      if (input === undefined) {
        // Scheduler's default notification: a Scheduled Event whose detail is the string "{}".
        return { version: '0', id: event.id, 'detail-type': 'Scheduled Event', source: 'aws.scheduler', account: accountId, time: eventTime(event.time), region, resources: [arn], detail: '{}' };
      }
      // Scheduler fills in its context attributes, then Lambda gets the JSON.
      const filled = input
        .replaceAll('<aws.scheduler.schedule-arn>', arn)
        .replaceAll('<aws.scheduler.scheduled-time>', eventTime(event.time))
        .replaceAll('<aws.scheduler.execution-id>', event.id)
        .replaceAll('<aws.scheduler.attempt-number>', '1');
      return JSON.parse(filled) as unknown;
    };
    if (input !== undefined) parsed(`schedule ${name} Input`, () => payload({ id: randomUUID(), time: new Date() }));
    schedules.push({
      kind: 'schedule', name, arn, expression,
      ...(p.StartDate ? { startMs: Date.parse(p.StartDate) } : {}),
      ...(p.EndDate ? { endMs: Date.parse(p.EndDate) } : {}),
      targets: [{ id: 'Target', functionArn, payload, ...retryOf(functionArn) }],
    });
  }
  return { schedules, rules };
}

/** `AWS::Lambda::EventInvokeConfig` by function name: the asynchronous retries a function allows. */
function asyncInvokeConfigs(stack: DeployedStack): Map<string, { maxRetryAttempts: number; maxEventAgeSeconds: number }> {
  const out = new Map<string, { maxRetryAttempts: number; maxEventAgeSeconds: number }>();
  for (const [, resource] of stack.resourcesOfType('AWS::Lambda::EventInvokeConfig')) {
    const p = stack.resolve(resource.Properties ?? {}) as { FunctionName: string; Qualifier?: string; MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
    if (p.Qualifier !== undefined && p.Qualifier !== '$LATEST') continue;
    out.set(nameFromArn(unqualified(p.FunctionName) ?? p.FunctionName), {
      maxRetryAttempts: p.MaximumRetryAttempts ?? ASYNC_DEFAULT_RETRY_ATTEMPTS,
      maxEventAgeSeconds: p.MaximumEventAgeInSeconds ?? ASYNC_DEFAULT_MAX_EVENT_AGE_SECONDS,
    });
  }
  return out;
}

/** `arn:aws:lambda:r:a:function:name[:qualifier]` → the ARN without the qualifier; undefined if not a function. */
function unqualified(arn: string): string | undefined {
  const parts = arn.split(':');
  if (parts[2] !== 'lambda' || parts[5] !== 'function' || !parts[6]) return undefined;
  return parts.slice(0, 7).join(':');
}

/** `$` or `$.a.b`: the part of the event an InputPath names. */
function jsonPath(value: unknown, path: string): unknown {
  if (!/^\$(\.[A-Za-z0-9_-]+)*$/.test(path)) throw new TemplateError(`only $ and $.a.b paths are supported locally, not ${path}`);
  return path.split('.').slice(1).reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), value);
}

function parsed<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ScheduleExpressionError || error instanceof SyntaxError || error instanceof TemplateError) throw new TemplateError(`${what}: ${error.message}`);
    throw error;
  }
}
