/**
 * Which log level a trend chart reads for a time range. Pure: no DOM, unit-tested.
 *
 * The levels are the datapoint's own configuration (DESIGN §5): level N keeps a value at most every
 * `interval` seconds for `retention` days. The usual set-up is 5 minutes for a week, hourly for six months and
 * daily for five years, so a chart of a range reads the coarsest level that still gives enough points over
 * it and keeps values back to the range's start.
 */

export interface LevelSetting {
  interval: number;
  retention: number;
}

export interface LevelChoice {
  level: 1 | 2 | 3;
  interval: number;
  retention: number;
  /** Why this level: shown beside the chart. */
  reason: string;
}

/** A chart wants at least this many points over its range: a week at 5 minutes is 2,016, 5 years daily 1,826. */
export const MIN_POINTS = 500;

const DAY = 86_400;

/**
 * The level for [from, to] (ms since the epoch) seen at `now`: among active levels (retention > 0), those whose
 * retention reaches back to `from` and whose interval gives at least {@link MIN_POINTS} points over the range;
 * of those the coarsest (largest interval). When none fits, the finest level that still reaches back to `from`,
 * else the one that keeps values longest. Undefined when no level is active (nothing is logged).
 */
export function chooseLevel(levels: Readonly<Record<1 | 2 | 3, LevelSetting>>, from: number, to: number, now: number): LevelChoice | undefined {
  const rangeSeconds = Math.max(0, (to - from) / 1000);
  const ageDays = Math.max(0, (now - from) / 1000 / DAY);
  const active = ([1, 2, 3] as const)
    .map((level) => ({ level, ...levels[level] }))
    .filter((l) => l.retention > 0);
  if (active.length === 0) return undefined;
  const reaches = active.filter((l) => l.retention >= ageDays);
  const fits = reaches.filter((l) => l.interval === 0 || rangeSeconds / l.interval >= MIN_POINTS);
  if (fits.length > 0) {
    const best = fits.reduce((a, b) => (b.interval > a.interval || (b.interval === a.interval && b.retention > a.retention) ? b : a));
    return { ...best, reason: `its interval (${describeSeconds(best.interval)}) gives enough points over the range` };
  }
  if (reaches.length > 0) {
    const best = reaches.reduce((a, b) => (b.interval < a.interval ? b : a));
    return { ...best, reason: `the finest level that keeps values back to the range's start (interval ${describeSeconds(best.interval)})` };
  }
  const best = active.reduce((a, b) => (b.retention > a.retention ? b : a));
  return { ...best, reason: `no level keeps values back to the range's start; this one keeps them longest (${best.retention} days)` };
}

/** `every update`, `5 min`, `1 h`, `1 day`, `90 s`. */
export function describeSeconds(seconds: number): string {
  if (seconds === 0) return 'every update';
  if (seconds % DAY === 0) return seconds === DAY ? '1 day' : `${seconds / DAY} days`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export type RangeName = 'week' | 'six-months' | 'five-years' | 'custom';

/** The preset ranges, ending at `now`. */
export function presetRange(name: Exclude<RangeName, 'custom'>, now: number): { from: number; to: number } {
  const days = name === 'week' ? 7 : name === 'six-months' ? 182 : 5 * 365 + 1;
  return { from: now - days * DAY * 1000, to: now };
}
