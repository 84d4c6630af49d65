import type { LocalService, ServiceEnvironment } from '../../service';
import type { LambdaFunctionRuntime } from '../lambda/runtime';
import { schedulesFromTemplate, type RuleDescription } from './deploy';
import { eventsHandler } from './responses';
import { ScheduleRunner } from './runner';

export interface EventsService extends LocalService {
  /** Fires every schedule now; resolves when the invocations (with their retries) are done. */
  runSchedules(): Promise<void>;
}

export interface EventsOptions {
  /** The stack's functions, by ARN. */
  functions: { functionByArn(arn: string): LambdaFunctionRuntime | undefined };
  /** Tests: every recurring schedule (rate and cron) fires at this interval instead of its own. */
  scheduleIntervalMs?: number;
  /** Delay before the first retry of a failed invocation (default 100 ms, doubling). */
  retryBaseDelayMs?: number;
}

/**
 * EventBridge schedules: the template's scheduled rules (`AWS::Events::Rule`) and EventBridge Scheduler
 * schedules (`AWS::Scheduler::Schedule`) invoke their functions on time. On the edge, the rules can be
 * listed and described (`X-Amz-Target: AWSEvents.*`).
 */
export function eventsService(env: ServiceEnvironment, options: EventsOptions): EventsService {
  let runner: ScheduleRunner | undefined;
  let rules: readonly RuleDescription[] = [];
  return {
    name: 'events',
    matcher: { signingName: 'events', targetPrefixes: ['AWSEvents'] },
    handle: eventsHandler(() => rules),
    deploy: async (stack) => {
      const found = schedulesFromTemplate(stack, (arn) => options.functions.functionByArn(arn) !== undefined, env.log);
      rules = found.rules;
      await runner?.stop();
      runner = new ScheduleRunner(found.schedules, {
        invoke: (arn, event) => options.functions.functionByArn(arn)?.invoke(event),
        log: env.log,
        ...(options.scheduleIntervalMs !== undefined ? { intervalMs: options.scheduleIntervalMs } : {}),
        ...(options.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: options.retryBaseDelayMs } : {}),
      });
      runner.start();
    },
    runSchedules: () => runner?.runAll() ?? Promise.resolve(),
    close: () => runner?.stop(),
  };
}
