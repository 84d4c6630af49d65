import { chooseLevel, describeSeconds, MIN_POINTS, presetRange } from '../../../console/src/lib/levels';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-02T00:00:00Z');
/** The seed's set-up: 5 minutes for a week, hourly for six months, daily for five years. */
const SEED = { 1: { interval: 300, retention: 7 }, 2: { interval: 3600, retention: 183 }, 3: { interval: 86_400, retention: 1827 } };
const OFF = { interval: 0, retention: 0 };

const levelFor = (levels: Parameters<typeof chooseLevel>[0], name: 'week' | 'six-months' | 'five-years') => {
  const { from, to } = presetRange(name, NOW);
  return chooseLevel(levels, from, to, NOW)?.level;
};

describe('the level a trend chart reads', () => {
  it('is 5-minute for a week, hourly for six months, daily for five years', () => {
    expect(levelFor(SEED, 'week')).toBe(1);
    expect(levelFor(SEED, 'six-months')).toBe(2);
    expect(levelFor(SEED, 'five-years')).toBe(3);
  });

  it('is picked by the configured interval, not by the level number', () => {
    const swapped = { 1: SEED[3], 2: SEED[1], 3: SEED[2] };
    expect(levelFor(swapped, 'week')).toBe(2);
    expect(levelFor(swapped, 'six-months')).toBe(3);
    expect(levelFor(swapped, 'five-years')).toBe(1);
  });

  it('needs enough points over the range and values back to its start', () => {
    // Two days: the 5-minute level gives 576 points (≥ MIN_POINTS), the hourly one 48.
    expect(MIN_POINTS).toBeLessThanOrEqual(576);
    expect(chooseLevel(SEED, NOW - 2 * DAY, NOW, NOW)?.level).toBe(1);
    // Thirty days: the 5-minute level keeps only a week, so the hourly one.
    expect(chooseLevel(SEED, NOW - 30 * DAY, NOW, NOW)?.level).toBe(2);
    // A week a year ago: only the daily level still has it.
    expect(chooseLevel(SEED, NOW - 372 * DAY, NOW - 365 * DAY, NOW)?.level).toBe(3);
  });

  it('falls back to the finest level that reaches back, then to the one that keeps values longest, and ignores inactive levels', () => {
    // An hour: no level gives 500 points; the finest that reaches back is the 5-minute one.
    expect(chooseLevel(SEED, NOW - 3_600_000, NOW, NOW)?.level).toBe(1);
    // Ten years: none reaches back; the daily level keeps the longest.
    expect(chooseLevel(SEED, NOW - 3650 * DAY, NOW, NOW)?.level).toBe(3);
    expect(chooseLevel({ 1: OFF, 2: { interval: 0, retention: 2 }, 3: OFF }, NOW - DAY, NOW, NOW)).toMatchObject({ level: 2, interval: 0 });
    expect(chooseLevel({ 1: OFF, 2: OFF, 3: OFF }, NOW - DAY, NOW, NOW)).toBeUndefined();
  });

  it('describes intervals in the unit that fits', () => {
    expect([0, 45, 300, 3600, 86_400, 172_800, 5400].map(describeSeconds)).toEqual(['every update', '45 s', '5 min', '1 h', '1 day', '2 days', '90 min']);
  });
});
