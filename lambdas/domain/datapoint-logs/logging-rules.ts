import type { LevelConfig, LevelNumber, LogConfig } from './log-settings';
import { canonicalJson, isStructured, type JsonValue } from './storable';

/**
 * The logging decision (DESIGN §5 "Levels"), as a pure function over one datapoint's updates.
 *
 * Rules. A level is active when its retention (days) is above 0. An update at event time `t` with
 * value `v` is logged when
 *   (a) `t` is at least `minDeltaTime` seconds after the last logged value (none yet: passes);
 *   (b) `minDeltaValue` passes: `always` = every update; `any` = `v` differs from the last logged
 *       value (none yet: passes); a number `n` = numeric change `|v − last| ≥ n` (none yet: passes);
 *   (c) at least one active level passes its interval: interval 0 = every update that passed (a)
 *       and (b); otherwise at least `interval` seconds since that level last logged (never: passes).
 * The value is tagged `log_level_N` for each active level that passed (c), and only those levels'
 * `levelLastAt` move. Nothing is logged while no level is active (`no-active-level`).
 *
 * Comparing values.
 * - `any`: two values are equal when their canonical JSON texts are (object keys sorted at every
 *   level, so `{"state":1,"value":100}` equals `{"value":100,"state":1}`; `1` and `"1"` differ, `null`
 *   equals `null`, `true` differs from `1`, `[1,2]` differs from `[2,1]`).
 * - A number `n` (minDeltaValue): a value is numeric when it is a finite number, a boolean (false = 0,
 *   true = 1) or a string holding a decimal number (`" 12.5 "`, `"-3"`, `"1e3"`; not `""`, `"0x10"`,
 *   `"Infinity"`). When both values are numeric the update passes when `|v − last| ≥ n`, with a
 *   tolerance of a few units of floating-point rounding, so 20.1 → 20.3 passes n = 0.2 although
 *   `20.3 − 20.1` is 0.19999999999999929 in binary. A structured value (object or list) never passes
 *   a number `n > 0`, not even as the first update: it has no numeric change to measure (configure
 *   `any` or `always` for such datapoints). When either value is otherwise not numeric (null, text)
 *   the update passes when the values differ, as with `any`. `n = 0` (what DELETE of minDeltaValue
 *   sets) passes every update, numeric or not, like `always` (every change is ≥ 0).
 *
 * Which reason a skipped update gets, when several rules fail: `no-active-level`, then
 * `min-delta-time`, then `min-delta-value`, then `interval`.
 *
 * Order and duplicates. Updates are decided in the order given, each against the state left by the
 * previous ones, so deciding a list in one call or split over several calls (passing the state on)
 * gives the same decisions and the same final state.
 * - An update older than the last decided one (`at < lastEventAt`), or whose `at` is not a finite
 *   number, is `out-of-order`: skipped, never logged, state unchanged. Updates that arrive late are
 *   therefore lost rather than logged out of time order.
 * - An update at the same time as the last decided one (`at === lastEventAt`) whose `eventId` is among
 *   the ids already decided at that time (`lastEventIds`) is a `duplicate` (a redelivered event):
 *   skipped, state unchanged.
 * - An update at the same time with a new id, or with no id, is decided normally: timestamps have
 *   second precision, so two distinct updates can share one. Updates without an id are never
 *   duplicates. An id seen before at an earlier time is not a duplicate either.
 * - Every decided update (logged or not) sets `lastEventAt` to its time and records its id in
 *   `lastEventIds`, which holds only ids at that latest time (cleared when time moves on), and at most
 *   the last 100 of them: beyond 100 distinct updates in one timestamp, the oldest ids are forgotten
 *   and a redelivery of one of them would be decided again.
 */

/** What the logger remembers about one datapoint between batches (stored with the datapoint). */
export interface LoggerState {
  /** Event time (epoch ms) of the last update decided (logged or not); undefined before the first. */
  lastEventAt?: number;
  /** Datapoint event ids (DSS `datapoint.id`) already decided at `lastEventAt`: duplicates are skipped. */
  lastEventIds?: string[];
  /** Event time and value of the last logged update. */
  lastLoggedAt?: number;
  lastLoggedValue?: JsonValue;
  /** Per level (index 0-2): event time of the last value logged with that level's tag. */
  levelLastAt: [number | undefined, number | undefined, number | undefined];
  /** Values logged so far for this datapoint: the next logged value gets sequence `logged + 1`. */
  logged: number;
}

/** Before the first update. Frozen: `decide` never modifies the state it is given. */
export const INITIAL_STATE: LoggerState = Object.freeze({
  levelLastAt: Object.freeze([undefined, undefined, undefined] as LoggerState['levelLastAt']),
  logged: 0,
}) as LoggerState;

export interface Update {
  eventId?: string;
  at: number;
  value: JsonValue;
}

export interface LoggedValue {
  /** 1, 2, 3, … per datapoint, increasing in logging order. */
  sequence: number;
  at: number;
  value: Update['value'];
  /** Levels (1-3) whose tag the value carries, ascending. */
  levels: Array<1 | 2 | 3>;
}

export type Skip = 'out-of-order' | 'duplicate' | 'no-active-level' | 'min-delta-time' | 'min-delta-value' | 'interval';

export interface Decision {
  update: Update;
  logged?: LoggedValue;
  skipped?: Skip;
}

/** At most this many event ids are remembered at the latest event time. */
export const MAX_LAST_EVENT_IDS = 100;

const SECOND_MS = 1000;
const DAY_MS = 24 * 3600 * SECOND_MS;
const LEVEL_NUMBERS: readonly LevelNumber[] = [1, 2, 3];

/** Tolerance of a numeric comparison: a few ulps of the largest magnitude involved. */
const ROUNDING = 4 * Number.EPSILON;

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** The number a value stands for under a numeric minDeltaValue, or undefined when it is not numeric. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const text = value.trim();
    if (!DECIMAL.test(text)) return undefined;
    const n = Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Equality for `any`: the canonical JSON texts are equal (object keys in any order). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (!isStructured(a) && !isStructured(b)) return JSON.stringify(a) === JSON.stringify(b);
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * A time from the state: a number, else "never". A state read back from storage may hold `null`
 * where the type says undefined (the datapoint log items store gaps in `levelLastAt` as null); both mean never.
 */
const isTime = (t: number | null | undefined): t is number => typeof t === 'number';

/** Rule (b): does `value` pass minDeltaValue against the last logged value (none: passes)? */
function passesMinDeltaValue(config: LogConfig, state: LoggerState, value: Update['value']): boolean {
  const min = config.minDeltaValue;
  if (min === 'always') return true;
  if (min === 'any') return !isTime(state.lastLoggedAt) || !sameValue(value, state.lastLoggedValue);
  if (!(min > 0)) return true; // 0 (or a stray negative): every change is ≥ it
  if (isStructured(value)) return false; // no numeric change to measure
  if (!isTime(state.lastLoggedAt)) return true;
  const v = numericValue(value);
  const last = numericValue(state.lastLoggedValue);
  if (v === undefined || last === undefined) return !sameValue(value, state.lastLoggedValue);
  const tolerance = ROUNDING * Math.max(Math.abs(v), Math.abs(last), min);
  return Math.abs(v - last) >= min - tolerance;
}

/** A level's time (ms) since it last logged is at least its interval (or it never logged, or interval 0). */
function passesInterval(intervalSeconds: number, lastAt: number | null | undefined, at: number): boolean {
  if (!(intervalSeconds > 0) || !isTime(lastAt)) return true;
  return at - lastAt >= intervalSeconds * SECOND_MS;
}

const levelConfig = (config: LogConfig, level: LevelNumber): LevelConfig => config.levels[(level - 1) as 0 | 1 | 2];
const isActive = (config: LogConfig, level: LevelNumber) => levelConfig(config, level).retention > 0;

/** The state after deciding an update at `at` (not a duplicate, not out of order). */
function afterDecided(state: LoggerState, update: Update): LoggerState {
  const ids = state.lastEventAt === update.at ? [...(state.lastEventIds ?? [])] : [];
  if (update.eventId !== undefined) ids.push(update.eventId);
  const next: LoggerState = { ...state, lastEventAt: update.at, levelLastAt: [...state.levelLastAt] };
  if (ids.length > 0) next.lastEventIds = ids.slice(-MAX_LAST_EVENT_IDS);
  else delete next.lastEventIds;
  return next;
}

function decideOne(config: LogConfig, state: LoggerState, update: Update): { decision: Decision; state: LoggerState } {
  const { at } = update;
  const skip = (skipped: Skip, next: LoggerState) => ({ decision: { update, skipped }, state: next });

  if (!Number.isFinite(at) || (isTime(state.lastEventAt) && at < state.lastEventAt)) return skip('out-of-order', state);
  if (
    state.lastEventAt === at &&
    update.eventId !== undefined &&
    (state.lastEventIds ?? []).includes(update.eventId)
  ) {
    return skip('duplicate', state);
  }

  const decided = afterDecided(state, update);
  const active = LEVEL_NUMBERS.filter((n) => isActive(config, n));
  if (active.length === 0) return skip('no-active-level', decided);
  if (isTime(state.lastLoggedAt) && at - state.lastLoggedAt < config.minDeltaTime * SECOND_MS) {
    return skip('min-delta-time', decided);
  }
  if (!passesMinDeltaValue(config, state, update.value)) return skip('min-delta-value', decided);
  const levels = active.filter((n) => passesInterval(levelConfig(config, n).interval, state.levelLastAt[n - 1], at));
  if (levels.length === 0) return skip('interval', decided);

  const logged: LoggedValue = { sequence: state.logged + 1, at, value: update.value, levels };
  for (const n of levels) decided.levelLastAt[n - 1] = at;
  decided.lastLoggedAt = at;
  decided.lastLoggedValue = update.value;
  decided.logged = logged.sequence;
  return { decision: { update, logged }, state: decided };
}

/**
 * Decides each update in order; returns the decisions (one per update, same order) and the state to
 * store. Pure: neither `state` nor `updates` is modified. See the module comment for the rules.
 */
export function decide(config: LogConfig, state: LoggerState, updates: readonly Update[]): { decisions: Decision[]; state: LoggerState } {
  const decisions: Decision[] = [];
  let current = state;
  for (const update of updates) {
    const out = decideOne(config, current, update);
    decisions.push(out.decision);
    current = out.state;
  }
  return { decisions, state: current === state ? copyState(state) : current };
}

function copyState(state: LoggerState): LoggerState {
  const copy: LoggerState = { ...state, levelLastAt: [...state.levelLastAt] };
  if (state.lastEventIds) copy.lastEventIds = [...state.lastEventIds];
  return copy;
}

/** End (epoch ms, exclusive) of a level's retention window for a value at `at`. */
function windowEnd(at: number, retentionDays: number): number {
  return at + Math.round(retentionDays * DAY_MS);
}

/**
 * When the value may be deleted (epoch ms): the latest `at + retention_N days` over its levels, under
 * `config`. A value with no level expires at its own time.
 */
export function expiresAt(value: LoggedValue, config: LogConfig): number {
  let end = value.at;
  for (const n of value.levels) end = Math.max(end, windowEnd(value.at, levelConfig(config, n).retention));
  return end;
}

/**
 * The levels of a value still visible at `now` under the CURRENT configuration, ascending: those whose
 * retention is above 0 and whose window `[at, at + retention_N days)` has not ended (`now < end`).
 * A value with none must not be returned by reads (a retention shortened later applies at once,
 * whatever the TTL stored when it was logged).
 */
export function visibleLevels(value: { at: number; levels: readonly (1 | 2 | 3)[] }, config: LogConfig, now: number): Array<1 | 2 | 3> {
  return LEVEL_NUMBERS.filter((n) => {
    const retention = levelConfig(config, n).retention;
    return value.levels.includes(n) && retention > 0 && now < windowEnd(value.at, retention);
  });
}

