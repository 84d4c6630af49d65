/**
 * EventBridge schedule expressions, parsed and evaluated (pure; times are epoch ms):
 *
 * - `rate(value unit)`: unit `minute|hour|day` when the value is 1, `minutes|hours|days` above. A rate
 *   schedule fires on the multiples of its period since the epoch, so `rate(1 minute)` at :00 of every
 *   minute and `rate(1 hour)` on the hour, as EventBridge's rate schedules do in practice.
 * - `cron(minutes hours day-of-month month day-of-week year)` as EventBridge defines it: `, - * /` in
 *   every field, `?` in one of the two day fields (exactly one of them must be `?`), `L` and `W` (`15W`,
 *   `LW`) in day-of-month, `L` (`6L`: the last Friday) and `#` (`3#2`: the second Tuesday) in
 *   day-of-week, months `1-12` or `JAN-DEC`, days of the week `1-7` or `SUN-SAT` (1 is Sunday), years
 *   1970-2199. Evaluated in UTC, or in an IANA time zone (EventBridge Scheduler's
 *   `ScheduleExpressionTimezone`): a local time that a daylight-saving change skips does not fire.
 * - `at(yyyy-mm-ddThh:mm:ss)`: one time (EventBridge Scheduler only), in the same time zone.
 */

export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

interface CronFields {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  months: ReadonlySet<number>;
  years: ReadonlySet<number>;
  /** Whether a day (UTC calendar date of the schedule's wall clock) is in the schedule. */
  day: (year: number, month: number, day: number) => boolean;
}

export type ScheduleExpression =
  | { kind: 'rate'; expression: string; periodMs: number }
  | { kind: 'cron'; expression: string; timezone: string; fields: CronFields }
  | { kind: 'at'; expression: string; timeMs: number };

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const RATE_UNITS: Record<string, number> = { minute: MINUTE_MS, hour: 3_600_000, day: DAY_MS };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const FIRST_YEAR = 1970;
const LAST_YEAR = 2199;

export interface ParseOptions {
  /** IANA time zone of cron and at expressions (default UTC). */
  timezone?: string;
  /** Accept `at(…)` (EventBridge Scheduler); EventBridge rules do not. */
  allowAt?: boolean;
}

export function parseScheduleExpression(expression: string, options: ParseOptions = {}): ScheduleExpression {
  const text = expression.trim();
  const timezone = options.timezone ?? 'UTC';
  checkTimezone(timezone);
  const rate = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/.exec(text);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit;
    const base = RATE_UNITS[singular];
    if (base === undefined || value < 1 || (value === 1) !== (unit === singular)) {
      throw new ScheduleExpressionError(`${expression}: a rate is a positive number and minute(s), hour(s) or day(s); the unit is singular for 1 and plural above`);
    }
    return { kind: 'rate', expression: text, periodMs: value * base };
  }
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron) return { kind: 'cron', expression: text, timezone, fields: parseCron(cron[1]!.trim(), expression) };
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(text);
  if (at && options.allowAt) {
    const [y, mo, d, h, mi, s] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    const wall = Date.UTC(y, mo - 1, d, h, mi, s);
    const asWall = new Date(wall);
    if (asWall.getUTCMonth() !== mo - 1 || asWall.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw new ScheduleExpressionError(`${expression}: not a valid date and time`);
    const timeMs = wallToUtc(wall, timezone) ?? wallToUtc(wall + 3_600_000, timezone);
    if (timeMs === undefined) throw new ScheduleExpressionError(`${expression}: not a time in ${timezone}`);
    return { kind: 'at', expression: text, timeMs };
  }
  throw new ScheduleExpressionError(`${expression}: not a ${options.allowAt ? 'rate(…), cron(…) or at(…)' : 'rate(…) or cron(…)'} expression`);
}

/** The first time after `afterMs` (strictly) the schedule fires; undefined when it never does again. */
export function nextFireTime(schedule: ScheduleExpression, afterMs: number): number | undefined {
  switch (schedule.kind) {
    case 'rate':
      return (Math.floor(afterMs / schedule.periodMs) + 1) * schedule.periodMs;
    case 'at':
      return schedule.timeMs > afterMs ? schedule.timeMs : undefined;
    case 'cron':
      return nextCronTime(schedule.fields, schedule.timezone, afterMs);
  }
}

// ---- cron ------------------------------------------------------------------------------------------

function parseCron(body: string, expression: string): CronFields {
  const parts = body.split(/\s+/);
  const fail = (why: string): never => {
    throw new ScheduleExpressionError(`${expression}: ${why}`);
  };
  if (parts.length !== 6) fail('a cron expression has six fields: minutes hours day-of-month month day-of-week year');
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [string, string, string, string, string, string];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) fail('one of day-of-month and day-of-week must be ?, and only one');
  try {
    return {
      minutes: parseField(minutes, 0, 59),
      hours: parseField(hours, 0, 23),
      months: parseField(month, 1, 12, MONTHS),
      years: parseField(year, FIRST_YEAR, LAST_YEAR),
      day: dayOfMonth === '?' ? parseDayOfWeek(dayOfWeek) : parseDayOfMonth(dayOfMonth),
    };
  } catch (error) {
    return fail((error as Error).message);
  }
}

/** `*`, `a`, `a-b` (wrapping past the end: `FRI-MON`), each with an optional `/step`, comma-separated. */
function parseField(text: string, min: number, max: number, names?: readonly string[]): Set<number> {
  const out = new Set<number>();
  const value = (token: string): number => {
    const named = names?.indexOf(token.toUpperCase()) ?? -1;
    const n = named >= 0 ? named + min : /^\d+$/.test(token) ? Number(token) : Number.NaN;
    if (!(n >= min && n <= max)) throw new Error(`${token} is not a value from ${min} to ${max}${names ? ` or ${names[0]}-${names[names.length - 1]}` : ''}`);
    return n;
  };
  for (const item of text.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(item);
    if (!m) throw new Error(`${item} is not a field value`);
    const start = m[1] === '*' ? min : value(m[1]!);
    const end = m[2] !== undefined ? value(m[2]) : m[1] === '*' || m[3] !== undefined ? max : start;
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (step < 1) throw new Error(`${item}: the step must be at least 1`);
    const span = end >= start ? end - start : end - start + (max - min + 1);
    for (let offset = 0; offset <= span; offset += step) out.add(min + ((start - min + offset) % (max - min + 1)));
  }
  return out;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** 1 (Sunday) to 7 (Saturday), as cron counts them. */
function weekday(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

/** The weekday (Monday to Friday) nearest to `target` in the same month (`15W`). */
function nearestWeekday(year: number, month: number, target: number): number {
  const last = daysInMonth(year, month);
  const day = target;
  const dow = weekday(year, month, day);
  if (dow === 7) return day === 1 ? 3 : day - 1; // Saturday: Friday before, or Monday after on the 1st
  if (dow === 1) return day === last ? day - 2 : day + 1; // Sunday: Monday after, or Friday before on the last
  return day;
}

function parseDayOfMonth(text: string): CronFields['day'] {
  const tests: Array<(y: number, m: number, d: number) => boolean> = [];
  const plain: string[] = [];
  for (const item of text.split(',')) {
    if (item === 'L') tests.push((y, m, d) => d === daysInMonth(y, m));
    else if (item === 'LW') tests.push((y, m, d) => d === nearestWeekday(y, m, daysInMonth(y, m)));
    else if (/^\d+W$/.test(item)) {
      const target = Number(item.slice(0, -1));
      if (target < 1 || target > 31) throw new Error(`${item}: W needs a day from 1 to 31`);
      // A day the month does not have (31W in April) does not fire.
      tests.push((y, m, d) => target <= daysInMonth(y, m) && d === nearestWeekday(y, m, target));
    } else plain.push(item);
  }
  if (plain.length > 0) {
    const days = parseField(plain.join(','), 1, 31);
    tests.push((_y, _m, d) => days.has(d));
  }
  return (y, m, d) => tests.some((test) => test(y, m, d));
}

function parseDayOfWeek(text: string): CronFields['day'] {
  const day = (token: string): number => [...parseField(token, 1, 7, WEEKDAYS)][0]!;
  const nth = /^([A-Za-z0-9]+)#([1-5])$/.exec(text);
  if (text.includes('#')) {
    // EventBridge: a `#` expression stands alone in the field.
    if (!nth) throw new Error(`${text}: # takes one day of the week and an occurrence from 1 to 5 (3#2), alone in the field`);
    const dow = day(nth[1]!);
    const occurrence = Number(nth[2]);
    return (y, m, d) => weekday(y, m, d) === dow && Math.ceil(d / 7) === occurrence;
  }
  const tests: Array<(y: number, m: number, d: number) => boolean> = [];
  const plain: string[] = [];
  for (const item of text.split(',')) {
    if (item === 'L') tests.push((y, m, d) => weekday(y, m, d) === 7); // L alone: the last day of the week
    else if (/^[A-Za-z0-9]+L$/.test(item)) {
      const dow = day(item.slice(0, -1));
      tests.push((y, m, d) => weekday(y, m, d) === dow && d + 7 > daysInMonth(y, m));
    } else plain.push(item);
  }
  if (plain.length > 0) {
    const days = parseField(plain.join(','), 1, 7, WEEKDAYS);
    tests.push((y, m, d) => days.has(weekday(y, m, d)));
  }
  return (y, m, d) => tests.some((test) => test(y, m, d));
}

function nextCronTime(fields: CronFields, timezone: string, afterMs: number): number | undefined {
  // Walk the schedule's wall clock (expressed as UTC ms) day by day from the minute after `afterMs`.
  const startWall = Math.floor(utcToWall(afterMs, timezone) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  const hours = [...fields.hours].sort((a, b) => a - b);
  const minutes = [...fields.minutes].sort((a, b) => a - b);
  let dayStart = Math.floor(startWall / DAY_MS) * DAY_MS;
  for (let guard = 0; guard < 400 * 366; guard++) {
    const date = new Date(dayStart);
    const y = date.getUTCFullYear();
    const m = date.getUTCMonth() + 1;
    const d = date.getUTCDate();
    if (y > LAST_YEAR) return undefined;
    if (!fields.years.has(y)) {
      dayStart = Date.UTC(y + 1, 0, 1);
      continue;
    }
    if (!fields.months.has(m)) {
      dayStart = Date.UTC(y, m, 1);
      continue;
    }
    if (fields.day(y, m, d)) {
      for (const h of hours) {
        for (const mi of minutes) {
          const wall = dayStart + h * 3_600_000 + mi * MINUTE_MS;
          if (wall < startWall) continue;
          const utc = wallToUtc(wall, timezone);
          if (utc !== undefined && utc > afterMs) return utc;
        }
      }
    }
    dayStart += DAY_MS;
  }
  return undefined;
}

// ---- time zones ------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let found = formatters.get(timezone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timezone, found);
  }
  return found;
}

function checkTimezone(timezone: string): void {
  try {
    formatter(timezone);
  } catch {
    throw new ScheduleExpressionError(`${timezone} is not an IANA time zone`);
  }
}

/** The wall-clock time of an instant in a time zone, expressed as UTC ms. */
function utcToWall(utc: number, timezone: string): number {
  if (timezone === 'UTC') return utc;
  const parts = Object.fromEntries(formatter(timezone).formatToParts(new Date(utc)).map((p) => [p.type, Number(p.value)]));
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + (utc % 1000);
}

/** The instant a wall-clock time names in a time zone; undefined for a time a DST change skips. */
function wallToUtc(wall: number, timezone: string): number | undefined {
  if (timezone === 'UTC') return wall;
  let guess = wall - (utcToWall(wall, timezone) - wall);
  guess = wall - (utcToWall(guess, timezone) - guess);
  return utcToWall(guess, timezone) === wall ? guess : undefined;
}
