import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeployedStack, TemplateError, type CfnResource } from '../../../../../infra/local-cloud/cloudformation/template';
import { startEdge, type EdgeEndpoint } from '../../../../../infra/local-cloud/edge';
import { ServiceRegistry } from '../../../../../infra/local-cloud/registry';
import { schedulesFromTemplate, type Schedule } from '../../../../../infra/local-cloud/services/events/deploy';
import { ScheduleRunner } from '../../../../../infra/local-cloud/services/events/runner';
import { eventsService } from '../../../../../infra/local-cloud/services/events/service';
import type { InvocationResult, LambdaFunctionRuntime } from '../../../../../infra/local-cloud/services/lambda/runtime';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const ok: InvocationResult = { ok: true, payload: null, requestId: 'r' };
const failure: InvocationResult = { ok: false, error: { errorType: 'Error', errorMessage: 'planner failed', trace: [] }, requestId: 'r' };
const fnArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

/** The export's scheduled planner as CDK synthesizes it, plus the other shapes the local cloud must read. */
function template(extra: Record<string, CfnResource> = {}): Record<string, CfnResource> {
  return {
    Planner: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'planner' } },
    Other: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'other' } },
    PlannerSchedule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          { Id: 'Target0', Arn: { 'Fn::GetAtt': ['Planner', 'Arn'] } },
          { Id: 'Target1', Arn: { 'Fn::GetAtt': ['Other', 'Arn'] }, Input: '{"fixed":true}' },
          { Id: 'Target2', Arn: { 'Fn::GetAtt': ['Other', 'Arn'] }, InputPath: '$.detail-type' },
          { Id: 'Queue', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:q` },
        ],
      },
    },
    OtherRetries: { Type: 'AWS::Lambda::EventInvokeConfig', Properties: { FunctionName: { Ref: 'Other' }, Qualifier: '$LATEST', MaximumRetryAttempts: 0 } },
    Nightly: { Type: 'AWS::Events::Rule', Properties: { Name: 'nightly', ScheduleExpression: 'cron(0 2 * * ? *)', State: 'DISABLED', Targets: [{ Id: 'T', Arn: { 'Fn::GetAtt': ['Planner', 'Arn'] } }] } },
    OnUpload: { Type: 'AWS::Events::Rule', Properties: { Name: 'on-upload', EventPattern: { source: ['aws.s3'] }, Targets: [{ Id: 'T', Arn: { 'Fn::GetAtt': ['Planner', 'Arn'] } }] } },
    Reminder: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: 'reminder',
        ScheduleExpression: 'cron(0 9 ? * MON-FRI *)',
        ScheduleExpressionTimezone: 'Europe/Berlin',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: { 'Fn::GetAtt': ['Other', 'Arn'] }, RoleArn: 'arn:aws:iam::000000000000:role/r', Input: '{"at":"<aws.scheduler.scheduled-time>","schedule":"<aws.scheduler.schedule-arn>"}' },
      },
    },
    Plain: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: { ScheduleExpression: 'rate(5 minutes)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: { 'Fn::GetAtt': ['Planner', 'Arn'] }, RoleArn: 'r' } },
    },
    ...extra,
  };
}

const stackOf = (resources: Record<string, CfnResource>) =>
  new DeployedStack({ Resources: resources }, { stackName: 'DevicePipeline', region: REGION, accountId: ACCOUNT, apiEndpoint: '' });
const isStackFunction = (arn: string) => [fnArn('planner'), fnArn('other')].includes(arn);

describe('schedules from the template', () => {
  it('reads enabled scheduled rules and Scheduler schedules with their Lambda targets and retry settings', () => {
    const stack = stackOf(template());
    const logs: string[] = [];
    const { schedules, rules } = schedulesFromTemplate(stack, isStackFunction, (l) => logs.push(l));
    const ruleName = stack.ref('PlannerSchedule');
    expect(ruleName).toMatch(/^DevicePipeline-PlannerSchedule-[A-Z0-9]{12}$/);
    expect(schedules.map((s) => [s.kind, s.name, s.expression.expression, s.targets.map((t) => [t.id, t.functionArn.split(':').pop(), t.maxRetryAttempts])])).toEqual([
      ['rule', ruleName, 'rate(1 minute)', [['Target0', 'planner', 2], ['Target1', 'other', 0], ['Target2', 'other', 0]]],
      ['schedule', 'reminder', 'cron(0 9 ? * MON-FRI *)', [['Target', 'other', 0]]],
      ['schedule', stack.ref('Plain'), 'rate(5 minutes)', [['Target', 'planner', 2]]],
    ]);
    expect(schedules[0]!.arn).toBe(`arn:aws:events:${REGION}:${ACCOUNT}:rule/${ruleName}`);
    expect(schedules[1]!.arn).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/reminder`);
    expect(logs).toEqual([
      `rule ${ruleName}: target Queue (arn:aws:sqs:${REGION}:${ACCOUNT}:q) is not a function of the stack, skipped`,
      'rule on-upload: event patterns are not run locally, skipped',
    ]);
    expect(rules.map((r) => [r.Name, r.State, r.ScheduleExpression ?? r.EventPattern])).toEqual([
      [ruleName, 'ENABLED', 'rate(1 minute)'], ['nightly', 'DISABLED', 'cron(0 2 * * ? *)'], ['on-upload', 'ENABLED', '{"source":["aws.s3"]}'],
    ]);
  });

  it('builds the payloads EventBridge and Scheduler send', () => {
    const stack = stackOf(template());
    const { schedules } = schedulesFromTemplate(stack, isStackFunction, () => undefined);
    const event = { id: '7bf73129-1428-4cd3-a780-95db273d1602', time: new Date('2026-12-02T10:01:00.000Z') };
    const [rule, reminder, plain] = schedules as [Schedule, Schedule, Schedule];
    expect(rule.targets[0]!.payload(event)).toEqual({
      version: '0',
      id: event.id,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: '2026-12-02T10:01:00Z',
      region: REGION,
      resources: [rule.arn],
      detail: {},
    });
    expect(rule.targets[1]!.payload(event)).toEqual({ fixed: true });
    expect(rule.targets[2]!.payload(event)).toBe('Scheduled Event');
    expect(reminder.targets[0]!.payload(event)).toEqual({ at: '2026-12-02T10:01:00Z', schedule: reminder.arn });
    expect(plain.targets[0]!.payload(event)).toEqual({
      version: '0', id: event.id, 'detail-type': 'Scheduled Event', source: 'aws.scheduler', account: ACCOUNT,
      time: '2026-12-02T10:01:00Z', region: REGION, resources: [plain.arn], detail: '{}',
    });
  });

  it('fails the deployment on an invalid expression or input, as CloudFormation does', () => {
    const bad = (props: Record<string, unknown>) => () =>
      schedulesFromTemplate(stackOf({ ...template(), Bad: { Type: 'AWS::Events::Rule', Properties: { Name: 'bad', ...props } } }), isStackFunction, () => undefined);
    expect(bad({ ScheduleExpression: 'rate(1 minutes)' })).toThrow(TemplateError);
    expect(bad({ ScheduleExpression: 'cron(0 10 * * * *)' })).toThrow(/^rule bad: cron\(0 10 \* \* \* \*\): one of day-of-month and day-of-week must be \?/);
    expect(bad({ ScheduleExpression: 'rate(1 minute)', Targets: [{ Id: 'T', Arn: fnArn('planner'), Input: '{not json' }] })).toThrow(/^rule bad target T Input:/);
    expect(bad({ ScheduleExpression: 'rate(1 minute)', Targets: [{ Id: 'T', Arn: fnArn('planner'), InputPath: '$.a[0]' }] })).toThrow(/InputPath: only \$ and \$\.a\.b paths/);
  });
});

describe('ScheduleRunner', () => {
  const rule = (expression: string, targets: Array<Partial<Schedule['targets'][number]>>): Schedule => {
    const stack = stackOf({
      Planner: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'planner' } },
      R: { Type: 'AWS::Events::Rule', Properties: { Name: 'r', ScheduleExpression: expression, Targets: [{ Id: 'T', Arn: fnArn('planner') }] } },
    });
    const [schedule] = schedulesFromTemplate(stack, isStackFunction, () => undefined).schedules;
    return { ...schedule!, targets: targets.map((t) => ({ ...schedule!.targets[0]!, ...t })) };
  };

  it('invokes every target when asked, and retries a function error twice before dropping the event', async () => {
    const calls: Array<[string, unknown]> = [];
    const logs: string[] = [];
    const runner = new ScheduleRunner([rule('cron(0 2 1 1 ? *)', [{}, { id: 'other', functionArn: fnArn('other') }])], {
      invoke: (arn, event) => {
        calls.push([arn, event]);
        return Promise.resolve(arn === fnArn('other') ? failure : ok);
      },
      log: (l) => logs.push(l),
      retryBaseDelayMs: 5,
    });
    await runner.runAll();
    expect(calls.map(([arn]) => arn.split(':').pop())).toEqual(['planner', 'other', 'other', 'other']);
    const events = calls.map(([, e]) => e as { id: string; source: string });
    expect(new Set(events.map((e) => e.id)).size).toBe(1); // one event per firing, whichever target and attempt
    expect(logs).toEqual([
      'rule r → other: Error: planner failed, retrying',
      'rule r → other: Error: planner failed, retrying',
      'rule r → other: Error: planner failed; event dropped after 3 attempt(s)',
    ]);
    await runner.stop();
  });

  it('stops retrying once the invocation succeeds, and honours MaximumRetryAttempts', async () => {
    let attempts = 0;
    const flaky = new ScheduleRunner([rule('rate(1 hour)', [{}])], { invoke: () => Promise.resolve(++attempts < 2 ? failure : ok), log: () => undefined, retryBaseDelayMs: 1 });
    await flaky.runAll();
    expect(attempts).toBe(2);
    attempts = 0;
    const noRetries = new ScheduleRunner([rule('rate(1 hour)', [{ maxRetryAttempts: 0 }])], { invoke: () => Promise.resolve((attempts++, failure)), log: () => undefined });
    await noRetries.runAll();
    expect(attempts).toBe(1);
  });

  it('fires recurring schedules, rate and cron, at the test interval, with the due time in the event', async () => {
    const times: string[] = [];
    const crons: string[] = [];
    const runner = new ScheduleRunner([rule('rate(1 minute)', [{}]), rule('cron(0 2 1 1 ? *)', [{ functionArn: fnArn('other') }])], {
      invoke: (arn, event) => {
        (arn === fnArn('other') ? crons : times).push((event as { time: string }).time);
        return Promise.resolve(ok);
      },
      log: () => undefined,
      intervalMs: 40,
    });
    runner.start();
    await new Promise((r) => setTimeout(r, 230));
    await runner.stop();
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(times.length).toBeLessThanOrEqual(6);
    expect(crons.length).toBeGreaterThanOrEqual(3); // once a year on its own clock, at the interval here
    for (const time of times) expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it('fires a schedule on its own clock when no test interval is set (here a one-time schedule due shortly)', async () => {
    const fired: number[] = [];
    const due = Date.now() + 150;
    const once: Schedule = { ...rule('rate(1 hour)', [{}]), expression: { kind: 'at', expression: 'at(soon)', timeMs: due } };
    const runner = new ScheduleRunner([once], { invoke: () => (fired.push(Date.now()), Promise.resolve(ok)), log: () => undefined });
    runner.start();
    await new Promise((r) => setTimeout(r, 400));
    await runner.stop();
    expect(fired).toHaveLength(1);
    expect(fired[0]!).toBeGreaterThanOrEqual(due);
  });

  it('keeps to a Scheduler schedule\'s start and end dates', () => {
    const runner = new ScheduleRunner([], { invoke: () => undefined, log: () => undefined });
    const schedule: Schedule = { ...rule('rate(1 hour)', [{}]), startMs: Date.parse('2026-12-02T12:30:00Z'), endMs: Date.parse('2026-12-02T14:00:00Z') };
    const fire = (after: string) => {
      const t = runner.nextFire(schedule, Date.parse(after));
      return t === undefined ? undefined : new Date(t).toISOString();
    };
    expect(fire('2026-12-02T08:00:00Z')).toBe('2026-12-02T13:00:00.000Z');
    expect(fire('2026-12-02T13:00:00Z')).toBe('2026-12-02T14:00:00.000Z');
    expect(fire('2026-12-02T14:00:00Z')).toBeUndefined();
  });

  it('cancels pending retries when stopped', async () => {
    const runner = new ScheduleRunner([rule('rate(1 hour)', [{}])], { invoke: () => Promise.resolve(failure), log: () => undefined, retryBaseDelayMs: 60_000 });
    const run = runner.runAll();
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await runner.stop();
    await run;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('EventBridge service', () => {
  let dir: string;
  let edge: EdgeEndpoint | undefined;
  const invoked: Array<[string, unknown]> = [];
  const functions = {
    functionByArn: (arn: string) => (isStackFunction(arn)
      ? ({ invoke: (event: unknown) => (invoked.push([arn, event]), Promise.resolve(ok)) } as unknown as LambdaFunctionRuntime)
      : undefined),
  };
  const env = () => ({ dataDir: dir, stateDir: dir, region: REGION, accountId: ACCOUNT, log: () => undefined });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'events-'));
    invoked.length = 0;
  });
  afterEach(async () => {
    await edge?.close();
    edge = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('deploys the schedules and fires them all on runSchedules()', async () => {
    const service = eventsService(env(), { functions });
    await service.deploy!(stackOf(template()), { client: { region: REGION, endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }, assemblyDir: dir, log: () => undefined });
    await service.runSchedules();
    expect(invoked.map(([arn]) => arn.split(':').pop()).sort()).toEqual(['other', 'other', 'other', 'planner', 'planner']);
    await service.close!();
  });

  it('lists and describes the template\'s rules on the edge (AWSEvents.*)', async () => {
    const service = eventsService(env(), { functions });
    const started = await startEdge(0, new ServiceRegistry([service]), () => undefined);
    edge = started;
    const stack = stackOf(template());
    await service.deploy!(stack, { client: { region: REGION, endpoint: started.url, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } }, assemblyDir: dir, log: () => undefined });
    const call = async (operation: string, body: unknown) => {
      const response = await fetch(started.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `AWSEvents.${operation}`,
          authorization: 'AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/events/aws4_request, SignedHeaders=host, Signature=x',
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() as Record<string, unknown> };
    };
    const listed = await call('ListRules', { NamePrefix: 'n' });
    expect(listed).toEqual({ status: 200, body: { Rules: [{ Name: 'nightly', Arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/nightly`, State: 'DISABLED', EventBusName: 'default', ScheduleExpression: 'cron(0 2 * * ? *)' }] } });
    expect((await call('ListRules', {})).body.Rules).toHaveLength(3);
    const name = stack.ref('PlannerSchedule');
    expect((await call('DescribeRule', { Name: name })).body).toMatchObject({ Name: name, ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect((await call('ListTargetsByRule', { Rule: name })).body.Targets).toEqual([
      { Id: 'Target0', Arn: fnArn('planner') },
      { Id: 'Target1', Arn: fnArn('other'), Input: '{"fixed":true}' },
      { Id: 'Target2', Arn: fnArn('other'), InputPath: '$.detail-type' },
      { Id: 'Queue', Arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:q` },
    ]);
    expect(await call('DescribeRule', { Name: 'nope' })).toEqual({ status: 400, body: { __type: 'ResourceNotFoundException', message: 'Rule nope does not exist on EventBus default.' } });
    expect((await call('PutEvents', { Entries: [] })).body.__type).toBe('UnknownOperationException');
    await service.close!();
  });
});
