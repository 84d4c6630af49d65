import { nextFireTime, parseScheduleExpression, ScheduleExpressionError } from '../../../../../infra/local-cloud/services/events/schedule-expression';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const next = (expression: string, after: string, timezone?: string) =>
  iso(nextFireTime(parseScheduleExpression(expression, { allowAt: true, ...(timezone ? { timezone } : {}) }), at(after)));
/** The next `count` fire times, each after the one before. */
const series = (expression: string, after: string, count: number, timezone?: string) => {
  const schedule = parseScheduleExpression(expression, { ...(timezone ? { timezone } : {}) });
  const out: string[] = [];
  let t = at(after);
  for (let i = 0; i < count; i++) {
    t = nextFireTime(schedule, t)!;
    out.push(new Date(t).toISOString());
  }
  return out;
};

describe('rate expressions', () => {
  it('fire on the multiples of their period: rate(1 minute) at :00 of every minute', () => {
    expect(next('rate(1 minute)', '2026-12-02T10:00:00.000Z')).toBe('2026-12-02T10:01:00.000Z');
    expect(next('rate(1 minute)', '2026-12-02T10:00:59.999Z')).toBe('2026-12-02T10:01:00.000Z');
    expect(series('rate(1 minute)', '2026-12-02T10:00:30Z', 3)).toEqual(['2026-12-02T10:01:00.000Z', '2026-12-02T10:02:00.000Z', '2026-12-02T10:03:00.000Z']);
    expect(next('rate(5 minutes)', '2026-12-02T10:02:00Z')).toBe('2026-12-02T10:05:00.000Z');
    expect(next('rate(1 hour)', '2026-12-02T10:02:00Z')).toBe('2026-12-02T11:00:00.000Z');
    expect(next('rate(12 hours)', '2026-12-02T10:02:00Z')).toBe('2026-12-02T12:00:00.000Z');
    expect(next('rate(1 day)', '2026-12-02T10:02:00Z')).toBe('2026-12-03T00:00:00.000Z');
  });

  it('take a singular unit for 1 and a plural one above, as EventBridge requires', () => {
    for (const bad of ['rate(1 minutes)', 'rate(5 minute)', 'rate(0 minutes)', 'rate(2 weeks)', 'rate(-1 minutes)', 'rate(1.5 hours)', 'rate(minute)']) {
      expect(() => parseScheduleExpression(bad)).toThrow(ScheduleExpressionError);
    }
    expect(parseScheduleExpression(' rate(10  minutes) ')).toMatchObject({ kind: 'rate', periodMs: 600_000 });
  });
});

describe('cron expressions', () => {
  it('fire at the listed minutes and hours, strictly after the given time', () => {
    expect(next('cron(0 10 * * ? *)', '2026-12-02T09:59:30Z')).toBe('2026-12-02T10:00:00.000Z');
    expect(next('cron(0 10 * * ? *)', '2026-12-02T10:00:00Z')).toBe('2026-12-03T10:00:00.000Z');
    expect(series('cron(0/15 * * * ? *)', '2026-12-02T10:07:00Z', 4)).toEqual([
      '2026-12-02T10:15:00.000Z', '2026-12-02T10:30:00.000Z', '2026-12-02T10:45:00.000Z', '2026-12-02T11:00:00.000Z',
    ]);
    expect(series('cron(*/20 8-9 * * ? *)', '2026-12-02T09:30:00Z', 3)).toEqual(['2026-12-02T09:40:00.000Z', '2026-12-03T08:00:00.000Z', '2026-12-03T08:20:00.000Z']);
    expect(series('cron(5,35 1 * * ? *)', '2026-12-02T00:00:00Z', 3)).toEqual(['2026-12-02T01:05:00.000Z', '2026-12-02T01:35:00.000Z', '2026-12-03T01:05:00.000Z']);
    expect(next('cron(* * * * ? *)', '2026-12-02T10:00:10Z')).toBe('2026-12-02T10:01:00.000Z');
  });

  it('reads months and days of the week by number or name (1 is Sunday), ranges wrapping past the end', () => {
    // 2026-12-05 is a Saturday.
    expect(next('cron(0 8 ? * MON-FRI *)', '2026-12-05T12:00:00Z')).toBe('2026-12-07T08:00:00.000Z');
    expect(next('cron(0 8 ? * 2-6 *)', '2026-12-05T12:00:00Z')).toBe('2026-12-07T08:00:00.000Z');
    expect(series('cron(0 9 ? * FRI-MON *)', '2026-12-03T12:00:00Z', 4)).toEqual([
      '2026-12-04T09:00:00.000Z', '2026-12-05T09:00:00.000Z', '2026-12-06T09:00:00.000Z', '2026-12-07T09:00:00.000Z',
    ]);
    expect(next('cron(0 0 1 JAN,JUL ? *)', '2026-12-02T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('cron(0 0 1 7 ? *)', '2026-12-02T00:00:00Z')).toBe('2027-07-01T00:00:00.000Z');
  });

  it('supports L, W and # as EventBridge defines them', () => {
    expect(next('cron(0 0 L * ? *)', '2028-02-10T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z'); // leap year
    expect(next('cron(0 0 L * ? *)', '2027-02-10T00:00:00Z')).toBe('2027-02-28T00:00:00.000Z');
    // 15W: the weekday nearest the 15th (Saturday 2026-08-15 → Friday 14th; Sunday 2026-11-15 → Monday 16th).
    expect(next('cron(0 0 15W * ? *)', '2026-08-01T00:00:00Z')).toBe('2026-08-14T00:00:00.000Z');
    expect(next('cron(0 0 15W * ? *)', '2026-11-01T00:00:00Z')).toBe('2026-11-16T00:00:00.000Z');
    // 1W never leaves the month: Saturday the 1st → Monday the 3rd.
    expect(next('cron(0 0 1W * ? *)', '2026-07-31T00:00:00Z')).toBe('2026-08-03T00:00:00.000Z');
    // LW: the last weekday (Saturday 2027-07-31 → Friday 30th).
    expect(next('cron(0 0 LW * ? *)', '2027-07-01T00:00:00Z')).toBe('2027-07-30T00:00:00.000Z');
    // 6L: the last Friday of the month; 3#2: the second Tuesday.
    expect(next('cron(15 10 ? * 6L *)', '2026-12-02T00:00:00Z')).toBe('2026-12-25T10:15:00.000Z');
    expect(next('cron(0 12 ? * 3#2 *)', '2026-12-02T00:00:00Z')).toBe('2026-12-08T12:00:00.000Z');
    expect(next('cron(0 12 ? * TUE#2 *)', '2026-12-09T00:00:00Z')).toBe('2027-01-12T12:00:00.000Z');
    // 31 does not exist in every month.
    expect(series('cron(0 0 31 * ? *)', '2026-12-02T00:00:00Z', 3)).toEqual(['2026-12-31T00:00:00.000Z', '2027-01-31T00:00:00.000Z', '2027-03-31T00:00:00.000Z']);
  });

  it('honours the year field, and stops when no year is left', () => {
    expect(next('cron(0 0 29 2 ? *)', '2026-12-02T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('cron(0 0 1 1 ? 2030-2031)', '2026-12-02T00:00:00Z')).toBe('2030-01-01T00:00:00.000Z');
    expect(next('cron(0 0 1 1 ? 2020)', '2026-12-02T00:00:00Z')).toBeUndefined();
    expect(next('cron(0 0 1 1 ? *)', '2199-06-01T00:00:00Z')).toBeUndefined();
  });

  it('evaluates in a time zone, skipping local times a daylight-saving change leaves out', () => {
    expect(next('cron(0 9 * * ? *)', '2026-12-02T00:00:00Z', 'Europe/Berlin')).toBe('2026-12-02T08:00:00.000Z'); // CET
    expect(next('cron(0 9 * * ? *)', '2027-06-02T00:00:00Z', 'Europe/Berlin')).toBe('2027-06-02T07:00:00.000Z'); // CEST
    // 02:30 does not exist in Berlin on 2027-03-28 (clocks go from 02:00 to 03:00).
    expect(series('cron(30 2 * * ? *)', '2027-03-27T00:00:00Z', 2, 'Europe/Berlin')).toEqual(['2027-03-27T01:30:00.000Z', '2027-03-29T00:30:00.000Z']);
    expect(next('cron(0 0 ? * MON *)', '2026-12-02T00:00:00Z', 'America/New_York')).toBe('2026-12-07T05:00:00.000Z');
  });

  it('refuses expressions EventBridge refuses', () => {
    for (const bad of [
      'cron(0 10 * * * *)', // * in both day fields
      'cron(0 10 ? * ? *)', // ? in both
      'cron(0 10 * * ?)', // five fields
      'cron(60 * * * ? *)',
      'cron(0 24 * * ? *)',
      'cron(0 0 32 * ? *)',
      'cron(0 0 ? 13 MON *)',
      'cron(0 0 ? * 8 *)',
      'cron(0 0 ? * 3#1,6#3 *)', // # stands alone
      'cron(0 0 ? * 3#6 *)',
      'cron(0 0 * * ? 1969)',
      'cron(0/0 * * * ? *)',
      'cron(a * * * ? *)',
      'every minute',
      'at(2027-01-01T00:00:00)', // rules have no one-time schedules
    ]) {
      expect(() => parseScheduleExpression(bad)).toThrow(ScheduleExpressionError);
    }
    expect(() => parseScheduleExpression('rate(1 minute)', { timezone: 'Mars/Olympus' })).toThrow('Mars/Olympus is not an IANA time zone');
  });
});

describe('at expressions (EventBridge Scheduler)', () => {
  it('fire once, at the local time of the schedule\'s time zone', () => {
    expect(next('at(2027-01-15T09:30:00)', '2026-12-02T00:00:00Z')).toBe('2027-01-15T09:30:00.000Z');
    expect(next('at(2027-01-15T09:30:00)', '2026-12-02T00:00:00Z', 'Asia/Tokyo')).toBe('2027-01-15T00:30:00.000Z');
    expect(next('at(2027-01-15T09:30:00)', '2027-01-15T09:30:00Z')).toBeUndefined();
    expect(() => parseScheduleExpression('at(2027-02-30T00:00:00)', { allowAt: true })).toThrow(ScheduleExpressionError);
  });
});
