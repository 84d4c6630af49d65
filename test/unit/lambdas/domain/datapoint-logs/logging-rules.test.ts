import fc from 'fast-check';
import { DEFAULT_CONFIG, type LogConfig, type MinDeltaValue } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import {
  decide,
  expiresAt,
  INITIAL_STATE,
  MAX_LAST_EVENT_IDS,
  numericValue,
  visibleLevels,
  type Decision,
  type LoggedValue,
  type LoggerState,
  type Skip,
  type Update,
} from '../../../../../lambdas/domain/datapoint-logs/logging-rules';

const T0 = Date.UTC(2024, 0, 1);
const S = 1000;
const DAY = 24 * 3600 * S;

type Level = [interval: number, retention: number];
const OFF: Level = [0, 0];

function config(l1: Level, l2: Level = OFF, l3: Level = OFF, minDeltaTime = 0, minDeltaValue: MinDeltaValue = 'always'): LogConfig {
  const level = ([interval, retention]: Level) => ({ interval, retention, logMultiple: null });
  return { levels: [level(l1), level(l2), level(l3)], minDeltaTime, minDeltaValue };
}

/** One update at `T0 + seconds`. */
const u = (seconds: number, value: Update['value'], eventId?: string): Update =>
  eventId === undefined ? { at: T0 + seconds * S, value } : { at: T0 + seconds * S, value, eventId };

/** A decision in a table: the logged value's levels as digits ('12' = log_level_1 and log_level_2), or the skip reason. */
type Out = Skip | '1' | '2' | '3' | '12' | '13' | '23' | '123';
const out = (d: Decision): Out => (d.logged ? (d.logged.levels.join('') as Out) : (d.skipped ?? ('?' as Out)));
const outs = (cfg: LogConfig, updates: readonly Update[], state: LoggerState = INITIAL_STATE) => decide(cfg, state, updates).decisions.map(out);

const ONE = config([0, 1]); // level 1 only, every update, minDeltaValue always

describe('decide: shape', () => {
  it('gives one decision per update, in order, each with its update, exactly one of logged / skipped', () => {
    const updates = [u(0, 1), u(1, 1), u(-5, 2)];
    const { decisions } = decide(config([0, 1], OFF, OFF, 0, 'any'), INITIAL_STATE, updates);
    expect(decisions.map((d) => d.update)).toEqual(updates);
    for (const d of decisions) expect(Number(d.logged !== undefined) + Number(d.skipped !== undefined)).toBe(1);
    expect(decisions[0]?.logged).toEqual({ sequence: 1, at: T0, value: 1, levels: [1] });
  });

  it('is pure: the state and the updates given are not modified, INITIAL_STATE stays initial', () => {
    const state = decide(ONE, INITIAL_STATE, [u(0, 1, 'a')]).state;
    const before = structuredClone(state);
    const updates = [u(0, 2, 'b'), u(1, 3, 'c')];
    const updatesBefore = structuredClone(updates);
    const after = decide(config([0, 1], [10, 1], [20, 1]), state, updates).state;
    expect(state).toEqual(before);
    expect(updates).toEqual(updatesBefore);
    expect(after).not.toBe(state);
    expect(INITIAL_STATE).toEqual({ levelLastAt: [undefined, undefined, undefined], logged: 0 });
    expect(decide(ONE, INITIAL_STATE, []).state).toEqual(INITIAL_STATE);
  });

  it('logs nothing under the default configuration (all retentions 0) but still advances the event time', () => {
    const { decisions, state } = decide(DEFAULT_CONFIG, INITIAL_STATE, [u(0, 1), u(10, 2)]);
    expect(decisions.map(out)).toEqual(['no-active-level', 'no-active-level']);
    expect(state).toEqual({ lastEventAt: T0 + 10 * S, levelLastAt: [undefined, undefined, undefined], logged: 0 });
  });
});

describe('(a) minDeltaTime', () => {
  it.each<[string, number, Array<[number, Out]>]>([
    ['30 s, updates at uneven times', 30, [[0, '1'], [10, 'min-delta-time'], [29, 'min-delta-time'], [30, '1'], [31, 'min-delta-time'], [59, 'min-delta-time'], [60, '1'], [61, 'min-delta-time'], [100, '1']]],
    ['25 s, every 10 s: counted from the last LOGGED value', 25, [[0, '1'], [10, 'min-delta-time'], [20, 'min-delta-time'], [30, '1'], [40, 'min-delta-time'], [50, 'min-delta-time'], [60, '1']]],
    ['0 = no throttle, even within one second', 0, [[0, '1'], [0, '1'], [0.001, '1'], [1, '1']]],
    ['1.5 s (fractional)', 1.5, [[0, '1'], [1, 'min-delta-time'], [1.499, 'min-delta-time'], [1.5, '1'], [3, '1']]],
  ])('%s', (_, minDeltaTime, rows) => {
    const cfg = config([0, 1], OFF, OFF, minDeltaTime, 'always');
    expect(outs(cfg, rows.map(([t], i) => u(t, i)))).toEqual(rows.map(([, o]) => o));
  });

  it('is measured to the millisecond: 29.999 s is too early for 30 s', () => {
    const cfg = config([0, 1], OFF, OFF, 30);
    expect(outs(cfg, [{ at: T0, value: 1 }, { at: T0 + 29_999, value: 2 }, { at: T0 + 30_000, value: 3 }])).toEqual(['1', 'min-delta-time', '1']);
  });

  it('an update skipped for its value does not restart the throttle', () => {
    const cfg = config([0, 1], OFF, OFF, 30, 'any');
    expect(outs(cfg, [u(0, 'a'), u(40, 'a'), u(45, 'b')])).toEqual(['1', 'min-delta-value', '1']);
  });
});

describe('(b) minDeltaValue', () => {
  // Updates one second apart, level 1 logs every qualifying update, no time throttle.
  it.each<[string, MinDeltaValue, Array<[Update['value'], Out]>]>([
    ['any: integers', 'any', [[1, '1'], [1, 'min-delta-value'], [2, '1'], [2, 'min-delta-value'], [1, '1']]],
    ['any: decimals', 'any', [[20.1, '1'], [20.1, 'min-delta-value'], [20.10000001, '1']]],
    ['any: strings, case-sensitive', 'any', [['a', '1'], ['a', 'min-delta-value'], ['b', '1'], ['A', '1'], ['A', 'min-delta-value']]],
    ['any: JSON equality across types', 'any', [[1, '1'], ['1', '1'], [true, '1'], [1, '1'], [null, '1'], [null, 'min-delta-value'], ['null', '1'], [false, '1'], [0, '1'], ['', '1']]],
    ['any: booleans', 'any', [[true, '1'], [true, 'min-delta-value'], [false, '1']]],
    ['any: first value null is logged', 'any', [[null, '1'], [null, 'min-delta-value']]],
    ['always: repeats of every type', 'always', [[1, '1'], [1, '1'], [null, '1'], [null, '1'], ['x', '1'], ['x', '1'], [true, '1'], [true, '1']]],
    ['2: integers, |Δ| from the last LOGGED value', 2, [[10, '1'], [11, 'min-delta-value'], [12, '1'], [13, 'min-delta-value'], [14, '1'], [9, '1'], [8, 'min-delta-value'], [7, '1'], [-100, '1']]],
    ['0.2: decimals, exactly 0.2 passes despite binary rounding', 0.2, [[20.1, '1'], [20.2, 'min-delta-value'], [20.3, '1'], [20.45, 'min-delta-value'], [20.5, '1'], [20.1, '1']]],
    ['0.2: just below the threshold fails', 0.2, [[20.1, '1'], [20.2999, 'min-delta-value'], [19.9001, 'min-delta-value'], [20.3, '1']]],
    ['0.1: 0.1 → 0.2 → 0.3 all pass', 0.1, [[0.1, '1'], [0.2, '1'], [0.3, '1'], [0.35, 'min-delta-value'], [0.4, '1']]],
    ['1: booleans count as 0/1', 1, [[false, '1'], [true, '1'], [true, 'min-delta-value'], [false, '1'], [1, '1'], [true, 'min-delta-value'], [0.5, 'min-delta-value']]],
    ['2: booleans never change by 2', 2, [[false, '1'], [true, 'min-delta-value'], [false, 'min-delta-value'], [3, '1'], [true, '1']]],
    ['5: numeric strings count as numbers', 5, [['10', '1'], ['12', 'min-delta-value'], [' 15 ', '1'], [15, 'min-delta-value'], ['1e1', '1'], ['-1.5e1', '1'], [-12, 'min-delta-value']]],
    ['5: non-numeric values pass when they differ', 5, [['abc', '1'], ['abc', 'min-delta-value'], ['xyz', '1'], [3, '1'], [4, 'min-delta-value'], ['0x10', '1'], ['0x10', 'min-delta-value'], ['16', '1'], ['', '1'], ['', 'min-delta-value'], [16, '1']]],
    ['5: null is not numeric', 5, [[null, '1'], [null, 'min-delta-value'], [1, '1'], [2, 'min-delta-value'], [null, '1'], [0, '1'], [3, 'min-delta-value']]],
    ['5: 5 and "5" are the same number', 5, [[5, '1'], ['5', 'min-delta-value'], [' 5.0 ', 'min-delta-value']]],
    ['0 (what DELETE sets): every update, like always', 0, [[1, '1'], [1, '1'], [null, '1'], [null, '1'], ['a', '1'], ['a', '1'], [true, '1']]],
  ])('%s', (_, minDeltaValue, rows) => {
    const cfg = config([0, 1], OFF, OFF, 0, minDeltaValue);
    expect(outs(cfg, rows.map(([v], i) => u(i, v)))).toEqual(rows.map(([, o]) => o));
  });

  it('any: a structured value (as DSS may send, e.g. {"state":1,"value":100}) compares by its canonical JSON text (keys in any order)', () => {
    const cfg = config([0, 1], OFF, OFF, 0, 'any');
    const lamp = (state: number, value: number): Update['value'] => ({ state, value });
    expect(outs(cfg, [u(0, lamp(1, 100)), u(1, lamp(1, 100)), u(2, lamp(1, 50))])).toEqual(['1', 'min-delta-value', '1']);
    expect(outs(cfg, [u(0, { state: 1, value: 100 }), u(1, { value: 100, state: 1 }), u(2, { value: 100, state: 1, x: [] })])).toEqual(['1', 'min-delta-value', '1']);
    expect(outs(cfg, [u(0, [1, 2]), u(1, [2, 1]), u(2, [2, 1]), u(3, { 0: 2, 1: 1 })])).toEqual(['1', '1', 'min-delta-value', '1']);
  });

  it('a number: a structured value never passes (it has no numeric change to measure), not even the first; 0 passes it', () => {
    const lamp = (state: number, value: number): Update['value'] => ({ state, value });
    expect(outs(config([0, 1], OFF, OFF, 0, 5), [u(0, lamp(1, 100)), u(1, lamp(1, 100)), u(2, lamp(1, 99))])).toEqual(['min-delta-value', 'min-delta-value', 'min-delta-value']);
    expect(outs(config([0, 1], OFF, OFF, 0, 5), [u(0, 10), u(1, [20]), u(2, 20)])).toEqual(['1', 'min-delta-value', '1']);
    expect(outs(config([0, 1], OFF, OFF, 0, 0), [u(0, lamp(1, 100)), u(1, lamp(1, 100))])).toEqual(['1', '1']);
  });

  it.each<[unknown, number | undefined]>([
    [3, 3], [-2.5, -2.5], [true, 1], [false, 0], ['12', 12], [' -1.5 ', -1.5], ['1e3', 1000], ['.5', 0.5], ['5.', 5],
    ['', undefined], ['  ', undefined], ['abc', undefined], ['0x10', undefined], ['Infinity', undefined], ['1e999', undefined],
    [null, undefined], [Number.NaN, undefined], [Number.POSITIVE_INFINITY, undefined], [{}, undefined],
  ])('numericValue(%p) = %p', (value, expected) => {
    expect(numericValue(value)).toBe(expected);
  });
});

describe('(c) intervals across levels', () => {
  const hour = Array.from({ length: 361 }, (_, i) => u(i * 10, i)); // every 10 s from 0 to 3600 s inclusive

  function perLevel(values: LoggedValue[]) {
    return [1, 2, 3].map((n) => values.filter((v) => v.levels.includes(n as 1 | 2 | 3)).map((v) => (v.at - T0) / S));
  }
  const loggedOf = (decisions: Decision[]) => decisions.flatMap((d) => (d.logged ? [d.logged] : []));

  it('level1 every update (1 d), level2 each minute (30 d), level3 each hour (365 d) over an hour of updates every 10 s', () => {
    const cfg = config([0, 1], [60, 30], [3600, 365]);
    const { decisions, state } = decide(cfg, INITIAL_STATE, hour);
    const logged = loggedOf(decisions);
    expect(logged).toHaveLength(361);
    const [l1, l2, l3] = perLevel(logged);
    expect(l1).toHaveLength(361);
    expect(l2).toEqual(Array.from({ length: 61 }, (_, i) => i * 60));
    expect(l3).toEqual([0, 3600]);
    expect(logged.slice(0, 8).map((v) => v.levels.join(''))).toEqual(['123', '1', '1', '1', '1', '1', '12', '1']);
    expect(logged[360]?.levels).toEqual([1, 2, 3]);
    expect(logged.map((v) => v.sequence)).toEqual(Array.from({ length: 361 }, (_, i) => i + 1));
    expect(state).toEqual({
      lastEventAt: T0 + 3600 * S,
      lastLoggedAt: T0 + 3600 * S,
      lastLoggedValue: 360,
      levelLastAt: [T0 + 3600 * S, T0 + 3600 * S, T0 + 3600 * S],
      logged: 361,
    });
  });

  it('without level 1, only the levels with intervals log; the rest is skipped for interval', () => {
    const cfg = config(OFF, [60, 30], [3600, 365]);
    const { decisions, state } = decide(cfg, INITIAL_STATE, hour);
    const logged = loggedOf(decisions);
    expect(logged.map((v) => (v.at - T0) / S)).toEqual(Array.from({ length: 61 }, (_, i) => i * 60));
    expect(perLevel(logged)).toEqual([[], logged.map((v) => (v.at - T0) / S), [0, 3600]]);
    expect(decisions.filter((d) => d.skipped).every((d) => d.skipped === 'interval')).toBe(true);
    expect(decisions.filter((d) => d.skipped)).toHaveLength(300);
    expect(state.levelLastAt).toEqual([undefined, T0 + 3600 * S, T0 + 3600 * S]);
  });

  it('an interval counts from the level\'s last logged value, not a fixed grid (updates every 25 s, interval 60 s)', () => {
    const cfg = config([60, 1]);
    expect(outs(cfg, [0, 25, 50, 75, 100, 125, 150, 175, 200, 225].map((t) => u(t, t)))).toEqual(
      ['1', 'interval', 'interval', '1', 'interval', 'interval', '1', 'interval', 'interval', '1'],
    );
  });

  it('each level keeps its own clock: levelLastAt moves only for the levels that tagged the value', () => {
    const cfg = config([0, 1], [60, 1], OFF, 0, 'any');
    const { decisions, state } = decide(cfg, INITIAL_STATE, [u(0, 'a'), u(30, 'b'), u(60, 'b'), u(70, 'c'), u(80, 'd')]);
    expect(decisions.map(out)).toEqual(['12', '1', 'min-delta-value', '12', '1']);
    expect(state.levelLastAt).toEqual([T0 + 80 * S, T0 + 70 * S, undefined]);
  });

  it('a level passes exactly at its interval and not a millisecond before', () => {
    const cfg = config([60, 1]);
    expect(outs(cfg, [{ at: T0, value: 0 }, { at: T0 + 59_999, value: 1 }, { at: T0 + 60_000, value: 2 }])).toEqual(['1', 'interval', '1']);
  });

  it('two levels with intervals tag together only when both are due', () => {
    const cfg = config([20, 1], [30, 1]);
    expect(outs(cfg, [0, 10, 20, 30, 40, 50, 60].map((t) => u(t, t)))).toEqual(['12', 'interval', '1', '2', '1', 'interval', '12']);
  });
});

describe('inactive levels (retention 0) are ignored', () => {
  it.each<[string, LogConfig, Array<[number, Out]>]>([
    ['all inactive, whatever their intervals', config([0, 0], [60, 0], [3600, 0]), [[0, 'no-active-level'], [60, 'no-active-level'], [3600, 'no-active-level']]],
    ['an inactive level with interval 0 does not log every update', config([0, 0], [60, 1]), [[0, '2'], [10, 'interval'], [60, '2'], [70, 'interval']]],
    ['an inactive level never appears in the tags', config([60, 1], OFF, [0, 0]), [[0, '1'], [30, 'interval'], [60, '1']]],
    ['only level 3 active', config(OFF, OFF, [0, 0.5]), [[0, '3'], [1, '3']]],
  ])('%s', (_, cfg, rows) => {
    expect(outs(cfg, rows.map(([t], i) => u(t, i)))).toEqual(rows.map(([, o]) => o));
  });

  it('a level turned on later with an old levelLastAt is due; one turned off keeps its levelLastAt', () => {
    const first = decide(config([0, 1], [0, 1]), INITIAL_STATE, [u(0, 1)]).state;
    const second = decide(config([0, 1], [60, 0]), first, [u(10, 2)]);
    expect(second.decisions.map(out)).toEqual(['1']);
    expect(second.state.levelLastAt).toEqual([T0 + 10 * S, T0, undefined]);
    expect(decide(config([0, 1], [60, 1]), second.state, [u(30, 3), u(60, 4)]).decisions.map(out)).toEqual(['1', '12']);
  });
});

describe('rules combined', () => {
  it.each<[string, LogConfig, Array<[number, Update['value'], Out]>]>([
    ['minDeltaTime 20 s + minDeltaValue 1 + level1 every update + level2 each minute', config([0, 1], [60, 7], OFF, 20, 1), [
      [0, 10, '12'],
      [10, 20, 'min-delta-time'],
      [20, 10.5, 'min-delta-value'],
      [30, 11, '1'],
      [45, 13, 'min-delta-time'],
      [50, 13, '1'],
      [60, 14, 'min-delta-time'],
      [75, 13.5, 'min-delta-value'],
      [80, 15, '12'],
      [90, 15, 'min-delta-time'], // fails time and value: the time is reported
    ]],
    ['minDeltaValue any + a level interval: an update skipped for interval does not become the "last value"', config([120, 1], OFF, OFF, 0, 'any'), [
      [0, 'a', '1'],
      [60, 'b', 'interval'],
      [120, 'b', '1'],
      [130, 'b', 'min-delta-value'],
      [240, 'b', 'min-delta-value'],
      [250, 'a', '1'],
    ]],
    ['minDeltaTime 30 s + intervals 0 / 60 / 90 s', config([0, 1], [60, 1], [90, 1], 30, 'always'), [
      [0, 0, '123'],
      [20, 0, 'min-delta-time'],
      [30, 0, '1'],
      [60, 0, '12'],
      [80, 0, 'min-delta-time'],
      [90, 0, '13'],
      [120, 0, '12'],
      [150, 0, '1'],
      [180, 0, '123'],
    ]],
    ['no active level wins over every other reason', config([60, 0], OFF, OFF, 100, 5), [[0, 1, 'no-active-level'], [1, 1, 'no-active-level']]],
    ['value checked before interval', config([60, 1], OFF, OFF, 0, 2), [[0, 1, '1'], [10, 2, 'min-delta-value'], [20, 5, 'interval'], [60, 2, 'min-delta-value'], [61, 5, '1']]],
  ])('%s', (_, cfg, rows) => {
    expect(outs(cfg, rows.map(([t, v]) => u(t, v)))).toEqual(rows.map(([, , o]) => o));
  });
});

describe('order and duplicates', () => {
  it('an update older than the last decided one is out-of-order: skipped, state unchanged', () => {
    const first = decide(ONE, INITIAL_STATE, [u(10, 'a', 'e1')]);
    const second = decide(ONE, first.state, [u(5, 'b', 'e0'), u(9.999, 'c')]);
    expect(second.decisions.map(out)).toEqual(['out-of-order', 'out-of-order']);
    expect(second.state).toEqual(first.state);
  });

  it('an update skipped by a rule still advances the event time (later ones before it are out-of-order)', () => {
    const cfg = config([0, 1], OFF, OFF, 0, 'any');
    const { decisions, state } = decide(cfg, INITIAL_STATE, [u(10, 'a', 'e1'), u(20, 'a', 'e2'), u(15, 'b', 'e3'), u(20, 'b', 'e4')]);
    expect(decisions.map(out)).toEqual(['1', 'min-delta-value', 'out-of-order', '1']);
    expect(state.lastEventAt).toBe(T0 + 20 * S);
    expect(state.lastEventIds).toEqual(['e2', 'e4']);
  });

  it('even with no active level the event time advances and out-of-order is detected', () => {
    expect(outs(DEFAULT_CONFIG, [u(10, 1), u(5, 1)])).toEqual(['no-active-level', 'out-of-order']);
  });

  it('an update whose time is not a finite number is out-of-order and changes nothing', () => {
    const { decisions, state } = decide(ONE, INITIAL_STATE, [{ at: Number.NaN, value: 1 }, { at: Number.POSITIVE_INFINITY, value: 1 }, u(0, 1)]);
    expect(decisions.map(out)).toEqual(['out-of-order', 'out-of-order', '1']);
    expect(state.lastEventAt).toBe(T0);
  });

  it.each<[string, Array<[number, string | undefined, Out]>]>([
    ['same time, same id: duplicate', [[10, 'e1', '1'], [10, 'e1', 'duplicate']]],
    ['same second, distinct ids: both decided', [[10, 'e1', '1'], [10, 'e2', '1'], [10, 'e1', 'duplicate'], [10, 'e2', 'duplicate'], [10, 'e3', '1']]],
    ['no id: never a duplicate', [[10, undefined, '1'], [10, undefined, '1'], [10, 'e1', '1'], [10, undefined, '1'], [10, 'e1', 'duplicate']]],
    ['same id at a later time: not a duplicate', [[10, 'e1', '1'], [11, 'e1', '1'], [11, 'e1', 'duplicate']]],
    ['ids are forgotten when time moves on', [[10, 'e1', '1'], [11, 'e2', '1'], [10, 'e1', 'out-of-order'], [11, 'e1', '1']]],
  ])('%s', (_, rows) => {
    expect(outs(ONE, rows.map(([t, id], i) => u(t, i, id)))).toEqual(rows.map(([, , o]) => o));
  });

  it('a duplicate across two calls is skipped and leaves the state as it was', () => {
    const first = decide(ONE, INITIAL_STATE, [u(10, 'a', 'e1'), u(10, 'b', 'e2')]);
    expect(first.state.lastEventIds).toEqual(['e1', 'e2']);
    const second = decide(ONE, first.state, [u(10, 'a', 'e1')]);
    expect(second.decisions.map(out)).toEqual(['duplicate']);
    expect(second.state).toEqual(first.state);
  });

  it('a duplicate of an update that was decided but not logged is still a duplicate', () => {
    const cfg = config([0, 1], OFF, OFF, 0, 'any');
    expect(outs(cfg, [u(10, 'a', 'e1'), u(10, 'a', 'e2'), u(10, 'a', 'e2')])).toEqual(['1', 'min-delta-value', 'duplicate']);
  });

  it(`keeps at most ${MAX_LAST_EVENT_IDS} ids, the latest, and only at the latest time`, () => {
    const same = Array.from({ length: 150 }, (_, i) => u(10, i, `e${i}`));
    const { decisions, state } = decide(ONE, INITIAL_STATE, same);
    expect(decisions.every((d) => d.logged)).toBe(true);
    expect(state.lastEventIds).toEqual(Array.from({ length: 100 }, (_, i) => `e${i + 50}`));
    expect(outs(ONE, [u(10, 0, 'e149'), u(10, 0, 'e50'), u(10, 0, 'e49')], state)).toEqual(['duplicate', 'duplicate', '1']);
    const later = decide(ONE, state, [u(11, 0)]).state;
    expect(later.lastEventIds).toBeUndefined();
    expect(decide(ONE, state, [u(11, 0, 'x')]).state.lastEventIds).toEqual(['x']);
  });
});

describe('sequence numbers', () => {
  it('continue from the state\'s `logged`, one per logged value, skips use none', () => {
    const start: LoggerState = { ...INITIAL_STATE, levelLastAt: [undefined, undefined, undefined], logged: 41 };
    const cfg = config([0, 1], OFF, OFF, 0, 'any');
    const { decisions, state } = decide(cfg, start, [u(0, 1), u(1, 1), u(2, 2), u(1, 3), u(3, 3)]);
    expect(decisions.map((d) => d.logged?.sequence)).toEqual([42, undefined, 43, undefined, 44]);
    expect(state.logged).toBe(44);
    expect(decide(cfg, state, [u(4, 4)]).decisions[0]?.logged?.sequence).toBe(45);
  });
});

/** A state as the datapoint log items store it: through JSON, undefined written as null (so `levelLastAt` keeps its 3 slots). */
const throughStorage = (state: LoggerState): LoggerState =>
  JSON.parse(JSON.stringify(state, (_, v: unknown) => (v === undefined ? null : v))) as LoggerState;

describe('a state read back from storage, with null for "never"', () => {
  it('null in levelLastAt means never logged at that level', () => {
    const state = { levelLastAt: [null, T0, null], logged: 1 } as unknown as LoggerState;
    expect(outs(config([60, 1], [60, 1], [60, 1]), [u(10, 1)], state)).toEqual(['13']);
  });

  it('null lastLoggedAt / lastLoggedValue / lastEventAt mean nothing logged or decided yet: a first null value is logged', () => {
    const state = throughStorage(INITIAL_STATE);
    expect(state).toEqual({ levelLastAt: [null, null, null], logged: 0 });
    const raw = { ...state, lastEventAt: null, lastLoggedAt: null, lastLoggedValue: null } as unknown as LoggerState;
    // Epoch 5 s: a null lastLoggedAt read as 0 would fail minDeltaTime 30 s; a null lastEventAt read as 0 is harmless.
    const early = [{ at: 5_000, value: null }, { at: 40_000, value: null }, { at: 80_000, value: 1 }];
    expect(outs(config([0, 1], OFF, OFF, 30, 'any'), early, raw)).toEqual(['1', 'min-delta-value', '1']);
  });

  it('"no previous logged value" is told by lastLoggedAt, not by lastLoggedValue (which may be a logged null)', () => {
    const neverLogged = { lastLoggedValue: null, levelLastAt: [undefined, undefined, undefined], logged: 0 } as LoggerState;
    expect(outs(config([0, 1], OFF, OFF, 0, 'any'), [u(0, null)], neverLogged)).toEqual(['1']);
    const loggedNull = decide(config([0, 1], OFF, OFF, 0, 'any'), INITIAL_STATE, [u(0, null)]).state;
    expect(loggedNull.lastLoggedValue).toBeNull();
    expect(outs(config([0, 1], OFF, OFF, 0, 'any'), [u(1, null), u(2, 0)], throughStorage(loggedNull))).toEqual(['min-delta-value', '1']);
  });
});

// ---- properties over random configurations and updates ----

const levelArb = fc.tuple(fc.constantFrom(0, 10, 30, 60), fc.constantFrom(0, 0, 0.5, 1, 30)).map(([interval, retention]) => ({ interval, retention, logMultiple: null }));
const configArb: fc.Arbitrary<LogConfig> = fc.record({
  levels: fc.tuple(levelArb, levelArb, levelArb),
  minDeltaTime: fc.constantFrom(0, 0, 5, 20, 0.5),
  minDeltaValue: fc.constantFrom<MinDeltaValue>('any', 'always', 0, 1, 2.5, 0.1),
});
const valueArb: fc.Arbitrary<Update['value']> = fc.oneof(
  fc.integer({ min: -4, max: 4 }),
  fc.constantFrom(0.1, 0.2, 0.3, 2.6, -1.5),
  fc.boolean(),
  fc.constantFrom('x', 'y', '3', ' 4 ', ''),
  fc.constant(null),
);
/** Steps in seconds (negative: out of order, 0: same second), a few ids (repeats: duplicates), values. */
const updatesArb: fc.Arbitrary<Update[]> = fc
  .array(fc.record({
    step: fc.oneof(fc.integer({ min: -5, max: 30 }), fc.constant(0), fc.constantFrom(0.25, 59.999)),
    eventId: fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }),
    value: valueArb,
  }), { maxLength: 40 })
  .map((steps) => {
    let at = T0;
    return steps.map(({ step, eventId, value }) => {
      at += Math.round(step * S);
      return eventId === undefined ? { at, value } : { at, value, eventId };
    });
  });

describe('properties', () => {
  it('carrying the state across two calls equals one call with all updates, split at every point', () => {
    fc.assert(fc.property(configArb, updatesArb, (cfg, updates) => {
      const whole = decide(cfg, INITIAL_STATE, updates);
      for (let k = 0; k <= updates.length; k++) {
        const first = decide(cfg, INITIAL_STATE, updates.slice(0, k));
        const second = decide(cfg, first.state, updates.slice(k));
        expect([...first.decisions, ...second.decisions]).toEqual(whole.decisions);
        expect(second.state).toEqual(whole.state);
      }
    }), { numRuns: 300 });
  });

  it('the same holds when the state goes through storage (JSON, undefined stored as null) between calls', () => {
    fc.assert(fc.property(configArb, updatesArb, fc.nat(), (cfg, updates, at) => {
      const k = updates.length === 0 ? 0 : at % (updates.length + 1);
      const whole = decide(cfg, INITIAL_STATE, updates);
      const first = decide(cfg, INITIAL_STATE, updates.slice(0, k));
      const second = decide(cfg, throughStorage(first.state), updates.slice(k));
      expect([...first.decisions, ...second.decisions]).toEqual(whole.decisions);
      expect(throughStorage(second.state)).toEqual(throughStorage(whole.state));
    }), { numRuns: 300 });
  });

  /**
   * Every decision checked against the rules, one by one, from the state before it (an independent
   * restatement of DESIGN §5, kept deliberately plain).
   */
  it('every decision follows the rules from the state before it', () => {
    fc.assert(fc.property(configArb, updatesArb, (cfg, updates) => {
      const active = ([1, 2, 3] as const).filter((n) => cfg.levels[n - 1]!.retention > 0);
      let state = INITIAL_STATE;
      for (const update of updates) {
        const { decisions: [d], state: next } = decide(cfg, state, [update]);
        const v = update.value;
        const last = state.lastLoggedValue;
        const first = state.lastLoggedAt === undefined;
        const timeOk = first || update.at - state.lastLoggedAt! >= cfg.minDeltaTime * S;
        const differ = JSON.stringify(v) !== JSON.stringify(last);
        let valueOk: boolean;
        if (first || cfg.minDeltaValue === 'always' || cfg.minDeltaValue === 0) valueOk = true;
        else if (cfg.minDeltaValue === 'any') valueOk = differ;
        else {
          const a = numericValue(v);
          const b = numericValue(last);
          valueOk = a === undefined || b === undefined ? differ : Math.abs(a - b) >= cfg.minDeltaValue - 1e-9;
        }
        const due = active.filter((n) => {
          const interval = cfg.levels[n - 1]!.interval;
          const lastAt = state.levelLastAt[n - 1];
          return interval === 0 || lastAt === undefined || update.at - lastAt >= interval * S;
        });
        let expected: Skip | Array<1 | 2 | 3>;
        if (state.lastEventAt !== undefined && update.at < state.lastEventAt) expected = 'out-of-order';
        else if (state.lastEventAt === update.at && update.eventId !== undefined && state.lastEventIds?.includes(update.eventId)) expected = 'duplicate';
        else if (active.length === 0) expected = 'no-active-level';
        else if (!timeOk) expected = 'min-delta-time';
        else if (!valueOk) expected = 'min-delta-value';
        else if (due.length === 0) expected = 'interval';
        else expected = due;

        if (Array.isArray(expected)) {
          expect(d?.logged).toEqual({ sequence: state.logged + 1, at: update.at, value: v, levels: expected });
          expect(next.lastLoggedAt).toBe(update.at);
          expect(next.lastLoggedValue).toEqual(v);
          expect(next.logged).toBe(state.logged + 1);
          expect(next.levelLastAt).toEqual(state.levelLastAt.map((t, i) => (expected.includes((i + 1) as 1 | 2 | 3) ? update.at : t)));
        } else {
          expect(d?.skipped).toBe(expected);
          expect(d?.logged).toBeUndefined();
          expect(next.logged).toBe(state.logged);
          expect(next.lastLoggedAt).toBe(state.lastLoggedAt);
          expect(next.levelLastAt).toEqual(state.levelLastAt);
        }
        if (expected === 'out-of-order' || expected === 'duplicate') expect(next).toEqual(state);
        else {
          expect(next.lastEventAt).toBe(update.at);
          if (update.eventId !== undefined) expect(next.lastEventIds).toContain(update.eventId);
        }
        state = next;
      }
    }), { numRuns: 500 });
  });

  it('logged values: consecutive sequences, time order, minDeltaTime and per-level intervals respected, only active levels', () => {
    fc.assert(fc.property(configArb, updatesArb, (cfg, updates) => {
      const logged = decide(cfg, INITIAL_STATE, updates).decisions.flatMap((d) => (d.logged ? [d.logged] : []));
      logged.forEach((v, i) => {
        expect(v.sequence).toBe(i + 1);
        expect(v.levels.length).toBeGreaterThan(0);
        expect([...v.levels].sort()).toEqual(v.levels);
        for (const n of v.levels) expect(cfg.levels[n - 1]!.retention).toBeGreaterThan(0);
        const prev = logged[i - 1];
        if (prev) expect(v.at - prev.at).toBeGreaterThanOrEqual(cfg.minDeltaTime * S);
        if (prev && cfg.minDeltaValue === 'any') expect(JSON.stringify(v.value)).not.toBe(JSON.stringify(prev.value));
      });
      for (const n of [1, 2, 3] as const) {
        const times = logged.filter((v) => v.levels.includes(n)).map((v) => v.at);
        for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(cfg.levels[n - 1]!.interval * S);
      }
    }), { numRuns: 300 });
  });
});

describe('expiresAt and visibleLevels', () => {
  const cfg = config([0, 1], [60, 30], [3600, 365]);
  const value = (levels: Array<1 | 2 | 3>): LoggedValue => ({ sequence: 1, at: T0, value: 1, levels });

  it.each<[Array<1 | 2 | 3>, number]>([
    [[1], T0 + DAY],
    [[2], T0 + 30 * DAY],
    [[1, 2], T0 + 30 * DAY],
    [[1, 3], T0 + 365 * DAY],
    [[1, 2, 3], T0 + 365 * DAY],
    [[], T0],
  ])('expiresAt of a value tagged %p', (levels, expected) => {
    expect(expiresAt(value(levels), cfg)).toBe(expected);
  });

  it('expiresAt with fractional days, and under the configuration given', () => {
    expect(expiresAt(value([1]), config([0, 0.5]))).toBe(T0 + 12 * 3600 * S);
    expect(expiresAt(value([1, 2]), config([0, 2], [0, 0]))).toBe(T0 + 2 * DAY);
  });

  it.each<[string, number, Array<1 | 2 | 3>]>([
    ['at logging time', T0, [1, 2, 3]],
    ['a millisecond before level 1 ends', T0 + DAY - 1, [1, 2, 3]],
    ['when level 1 ends', T0 + DAY, [2, 3]],
    ['when level 2 ends', T0 + 30 * DAY, [3]],
    ['a millisecond before level 3 ends', T0 + 365 * DAY - 1, [3]],
    ['when level 3 ends', T0 + 365 * DAY, []],
  ])('visibleLevels %s', (_, now, expected) => {
    expect(visibleLevels(value([1, 2, 3]), cfg, now)).toEqual(expected);
  });

  it('only the value\'s own levels, ascending', () => {
    expect(visibleLevels({ at: T0, levels: [2] }, cfg, T0)).toEqual([2]);
    expect(visibleLevels({ at: T0, levels: [3, 1] }, cfg, T0)).toEqual([1, 3]);
    expect(visibleLevels({ at: T0, levels: [] }, cfg, T0)).toEqual([]);
  });

  it('a retention shortened later applies at once, whatever expiresAt was stored', () => {
    const v = value([1, 2]);
    const stored = expiresAt(v, cfg);
    expect(stored).toBe(T0 + 30 * DAY);
    const shortened = config([0, 1], [60, 7], [3600, 365]);
    expect(visibleLevels(v, shortened, T0 + 8 * DAY)).toEqual([]);
    expect(visibleLevels(v, shortened, T0 + 6 * DAY)).toEqual([2]);
    expect(visibleLevels(value([1]), config([0, 0.5]), T0 + 13 * 3600 * S)).toEqual([]);
  });

  it('a level switched off (retention 0) hides its values at once, even values in the future', () => {
    const off = config([0, 1], [60, 0], [3600, 365]);
    expect(visibleLevels(value([2]), off, T0)).toEqual([]);
    expect(visibleLevels(value([2]), off, T0 - DAY)).toEqual([]);
    expect(visibleLevels(value([1, 2]), off, T0)).toEqual([1]);
  });

  it('a retention lengthened later makes the value visible longer (if the TTL has not removed it yet)', () => {
    const longer = config([0, 10]);
    expect(visibleLevels(value([1]), longer, T0 + 5 * DAY)).toEqual([1]);
  });
});
