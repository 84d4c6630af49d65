import { BadRequestError } from '../../shared/http';

/** One of the three log levels: a level is active when its retention (days) is above 0. */
export interface LevelConfig {
  /** Seconds; 0 = every qualifying update. */
  interval: number;
  /** Days. */
  retention: number;
  /** Stored and returned as given (the IAP field has no logging effect here). */
  logMultiple: number | null;
}

/** `any` = the value changed, `always` = every update, a number = at least that numeric change. */
export type MinDeltaValue = 'any' | 'always' | number;

export interface LogConfig {
  levels: [LevelConfig, LevelConfig, LevelConfig];
  /** Seconds between logged values; 0 = no throttle. */
  minDeltaTime: number;
  minDeltaValue: MinDeltaValue;
}

export type LevelNumber = 1 | 2 | 3;

export const DEFAULT_LEVEL: LevelConfig = { interval: 0, retention: 0, logMultiple: null };
export const DEFAULT_CONFIG: LogConfig = {
  levels: [{ ...DEFAULT_LEVEL }, { ...DEFAULT_LEVEL }, { ...DEFAULT_LEVEL }],
  minDeltaTime: 0,
  minDeltaValue: 'any',
};

export const MAX_INTERVAL_SECONDS = 366 * 24 * 3600;
export const MAX_RETENTION_DAYS = 36_500;
export const MAX_MIN_DELTA_TIME_SECONDS = MAX_INTERVAL_SECONDS;

/** A change to a datapoint's configuration: only the fields given are set. */
export interface ConfigPatch {
  levels?: Partial<Record<LevelNumber, Partial<LevelConfig>>>;
  minDeltaTime?: number;
  minDeltaValue?: MinDeltaValue;
}

const bad = (message: string) => new BadRequestError(message, 'BadBody');

/** A client's value for an error message: short, and never the whole of a deep or large structure. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function number(value: unknown, field: string, max: number, integer: boolean): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > max || (integer && !Number.isInteger(n))) {
    throw bad(`${field} must be ${integer ? 'an integer' : 'a number'} from 0 to ${max}, got ${describeValue(value)}`);
  }
  return n;
}

function parseLevelFields(body: unknown, where: string): Partial<LevelConfig> {
  if (!isRecord(body)) throw bad(`${where} must be an object like {"interval": 60, "retention": 7, "logMultiple": null}`);
  const unknown = Object.keys(body).filter((k) => !['interval', 'retention', 'logMultiple'].includes(k));
  if (unknown.length) throw bad(`${where}: unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected interval, retention, logMultiple)`);
  const patch: Partial<LevelConfig> = {};
  if (body.interval !== undefined) patch.interval = number(body.interval, `${where}.interval (seconds)`, MAX_INTERVAL_SECONDS, true);
  if (body.retention !== undefined) patch.retention = number(body.retention, `${where}.retention (days)`, MAX_RETENTION_DAYS, false);
  if (body.logMultiple !== undefined) {
    patch.logMultiple = body.logMultiple === null ? null : number(body.logMultiple, `${where}.logMultiple`, 1_000_000, true);
  }
  if (Object.keys(patch).length === 0) throw bad(`${where} sets nothing: give interval, retention or logMultiple`);
  return patch;
}

export function parseMinDeltaValue(value: unknown): MinDeltaValue {
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (word === 'any' || word === 'always') return word;
  }
  try {
    return number(value, 'minDeltaValue', Number.MAX_SAFE_INTEGER, false);
  } catch {
    throw bad(`minDeltaValue must be "any", "always" or a number ≥ 0, got ${describeValue(value)}`);
  }
}

export function parseMinDeltaTime(value: unknown): number {
  return number(value, 'minDeltaTime (seconds)', MAX_MIN_DELTA_TIME_SECONDS, false);
}

/** A JSON request body, or a 400 saying why it is not one. */
export function parseJsonBody(body: string | undefined, isBase64Encoded = false): unknown {
  if (body === undefined || body.trim() === '') throw bad('the request needs a JSON body');
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw bad('the body is not valid JSON');
  }
}

/** The body of a PUT `…/logs/{setting}`: a level's fields, or the bare value (or `{setting: value}`). */
export function parseSettingBody(setting: 'level' | 'minDeltaValue' | 'minDeltaTime', body: unknown, level?: LevelNumber): ConfigPatch {
  switch (setting) {
    case 'level':
      return { levels: { [level!]: parseLevelFields(body, `level${level}`) } };
    case 'minDeltaValue':
      return { minDeltaValue: parseMinDeltaValue(isRecord(body) && 'minDeltaValue' in body ? body.minDeltaValue : body) };
    case 'minDeltaTime':
      return { minDeltaTime: parseMinDeltaTime(isRecord(body) && 'minDeltaTime' in body ? body.minDeltaTime : body) };
  }
}

/** The body of a PUT `…/logs`: the `root` shape of a GET reply (or the object inside `root`), any part of it. */
export function parseRootBody(body: unknown): ConfigPatch {
  const root = isRecord(body) && isRecord(body.root) ? body.root : body;
  if (!isRecord(root)) throw bad('the body must be the "root" object: {"level1": {...}, "level2": {...}, "level3": {...}, "minDeltaTime": 0, "minDeltaValue": "any"}');
  const patch: ConfigPatch = {};
  for (const [key, value] of Object.entries(root)) {
    const level = /^level([123])$/.exec(key)?.[1];
    if (level) (patch.levels ??= {})[Number(level) as LevelNumber] = parseLevelFields(value, key);
    else if (key === 'minDeltaTime') patch.minDeltaTime = parseMinDeltaTime(value);
    else if (key === 'minDeltaValue') patch.minDeltaValue = parseMinDeltaValue(value);
    else throw bad(`unknown field ${JSON.stringify(key)} (expected level1, level2, level3, minDeltaTime, minDeltaValue)`);
  }
  if (Object.keys(patch).length === 0) throw bad('the body sets nothing');
  return patch;
}

/** DELETE `…/logs/{setting}`: a level's interval and retention to 0; minDeltaValue / minDeltaTime to 0. */
export function resetPatch(setting: 'level' | 'minDeltaValue' | 'minDeltaTime', level?: LevelNumber): ConfigPatch {
  if (setting === 'level') return { levels: { [level!]: { interval: 0, retention: 0 } } };
  return setting === 'minDeltaValue' ? { minDeltaValue: 0 } : { minDeltaTime: 0 };
}

export function applyPatch(config: LogConfig, patch: ConfigPatch): LogConfig {
  const levels = config.levels.map((l, i) => ({ ...l, ...patch.levels?.[(i + 1) as LevelNumber] })) as LogConfig['levels'];
  return {
    levels,
    minDeltaTime: patch.minDeltaTime ?? config.minDeltaTime,
    minDeltaValue: patch.minDeltaValue ?? config.minDeltaValue,
  };
}

/** How IAP shows minDeltaValue: `ANY`, `ALWAYS` or the number. */
export function minDeltaValueReply(value: MinDeltaValue): string | number {
  return typeof value === 'number' ? value : value.toUpperCase();
}

/** The `root` object of a GET `…/logs` reply. */
export function rootReply(config: LogConfig): Record<string, unknown> {
  return {
    level1: { ...config.levels[0] },
    level2: { ...config.levels[1] },
    level3: { ...config.levels[2] },
    minDeltaTime: config.minDeltaTime,
    minDeltaValue: minDeltaValueReply(config.minDeltaValue),
  };
}
