import { randomUUID } from 'node:crypto';
import type { InvocationResult } from '../lambda/runtime';
import type { Schedule, ScheduledEvent, ScheduleTarget } from './deploy';
import { nextFireTime } from './schedule-expression';

export interface RunnerDependencies {
  /** Invokes a function of the stack; undefined when there is none of that ARN. */
  invoke(functionArn: string, event: unknown): Promise<InvocationResult> | undefined;
  log: (line: string) => void;
  /** Tests: every recurring schedule (rate and cron; a one-time `at` keeps its time) fires at this interval instead. */
  intervalMs?: number;
  /** Delay before the first retry of a failed invocation (doubling after). */
  retryBaseDelayMs?: number;
}

/** Node's timers take at most ~24.8 days; a later fire time is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Fires the schedules on time and delivers each firing as EventBridge does to Lambda: an asynchronous
 * invocation, whose function error Lambda retries (`MaximumRetryAttempts`, 2 by default, after a
 * growing delay) before it drops the event. Firings do not wait for each other: a slow function is
 * invoked again on the next tick, as on AWS.
 */
export class ScheduleRunner {
  private readonly timers = new Map<Schedule, NodeJS.Timeout>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly sleepers = new Set<() => void>();
  private stopped = false;

  constructor(
    readonly schedules: readonly Schedule[],
    private readonly deps: RunnerDependencies,
  ) {}

  start(): void {
    for (const schedule of this.schedules) this.arm(schedule, Date.now());
  }

  /** Fires every schedule now; resolves when the invocations (with their retries) are done. */
  async runAll(): Promise<void> {
    const now = new Date();
    await Promise.all(this.schedules.map((schedule) => this.fire(schedule, now)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const wake of [...this.sleepers]) wake();
    await Promise.all([...this.deliveries]);
  }

  /** The next time a schedule fires after `after`, within its start and end dates. */
  nextFire(schedule: Schedule, after: number): number | undefined {
    if (this.deps.intervalMs !== undefined && schedule.expression.kind !== 'at') return after + this.deps.intervalMs;
    const from = schedule.startMs !== undefined ? Math.max(after, schedule.startMs - 1) : after;
    const next = nextFireTime(schedule.expression, from);
    return next !== undefined && (schedule.endMs === undefined || next <= schedule.endMs) ? next : undefined;
  }

  private arm(schedule: Schedule, after: number): void {
    if (this.stopped) return;
    const due = this.nextFire(schedule, after);
    if (due === undefined) return; // a one-time schedule that has fired, or past its end date
    const wait = (): void => {
      const remaining = due - Date.now();
      if (remaining > 0) {
        this.timers.set(schedule, setTimeout(wait, Math.min(remaining, MAX_TIMER_MS)));
        return;
      }
      void this.fire(schedule, new Date(due));
      // The next one counts from this one's due time, so a late timer neither skips nor repeats a firing.
      this.arm(schedule, due);
    };
    this.timers.set(schedule, setTimeout(wait, Math.min(Math.max(due - Date.now(), 0), MAX_TIMER_MS)));
  }

  private fire(schedule: Schedule, time: Date): Promise<void> {
    const event: ScheduledEvent = { id: randomUUID(), time };
    const delivery = Promise.all(schedule.targets.map((target) => this.deliver(schedule, target, event))).then(() => undefined);
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
    return delivery;
  }

  private async deliver(schedule: Schedule, target: ScheduleTarget, event: ScheduledEvent): Promise<void> {
    const label = `${schedule.kind} ${schedule.name} → ${target.functionArn.split(':').pop()}`;
    let payload: unknown;
    try {
      payload = target.payload(event);
    } catch (error) {
      this.deps.log(`${label}: no payload (${(error as Error).message}), event dropped`);
      return;
    }
    const base = this.deps.retryBaseDelayMs ?? 100;
    for (let attempt = 0; !this.stopped; attempt++) {
      const invocation = this.deps.invoke(target.functionArn, payload);
      if (!invocation) {
        this.deps.log(`${label}: the function is gone, event dropped`);
        return;
      }
      const result = await invocation;
      if (result.ok) return;
      const expired = Date.now() - event.time.getTime() > target.maxEventAgeSeconds * 1000;
      const last = attempt >= target.maxRetryAttempts || expired;
      this.deps.log(`${label}: ${result.error.errorType}: ${result.error.errorMessage}${last ? `; event dropped after ${attempt + 1} attempt(s)` : ', retrying'}`);
      if (last) return;
      await this.sleep(base * 2 ** attempt);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }
}
