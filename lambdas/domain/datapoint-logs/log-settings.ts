import { BadRequestError, PayloadTooLargeError } from '../../shared/http';
import { isDynamoNumber } from './storable';

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
  // Cut before quoting: a 5 MB string is never copied whole into a message.
  const text = typeof value === 'string' && value.length > 64 ? JSON.stringify(value.slice(0, 64)) : (JSON.stringify(value) ?? String(value));
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

/** Field names a client gave, for an error message: the first three, each cut short, and how many more. */
export function describeFields(keys: readonly string[]): string {
  const shown = keys.slice(0, 3).map(describeValue).join(', ');
  return keys.length > 3 ? `${shown} and ${keys.length - 3} more` : shown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const NUMBER_RANGE_NOTE = '(DynamoDB stores no magnitude between 0 and 1E-130)';

function number(value: unknown, field: string, max: number, integer: boolean): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > max || (integer && !Number.isInteger(n))) {
    throw bad(`${field} must be ${integer ? 'an integer' : 'a number'} from 0 to ${max}, got ${describeValue(value)}`);
  }
  if (!isDynamoNumber(n)) throw bad(`${field} must be 0 or at least 1E-130 ${NUMBER_RANGE_NOTE}, got ${describeValue(value)}`);
  return n;
}

/** The fields of a GET reply entry, taken (and ignored) beside a setting so that what GET answers can be PUT back. */
const REPLY_ENTRY_FIELDS = ['id', 'local', 'utc', 'deviceId', 'deviceName', 'blockName', 'blockIndex', 'datapointName', 'deviceState', 'deviceHealth'];

/** A 400 naming the fields of `body` that are neither `allowed` nor a reply entry's (when those are taken). */
function refuseUnknownFields(body: Record<string, unknown>, where: string, allowed: readonly string[], withReplyFields: boolean): void {
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k) && !(withReplyFields && REPLY_ENTRY_FIELDS.includes(k)));
  if (unknown.length) throw bad(`${where}unknown field ${describeFields(unknown)} (expected ${allowed.join(', ')})`);
}

function parseLevelFields(body: unknown, where: string): Partial<LevelConfig> {
  if (!isRecord(body)) throw bad(`${where} must be an object like {"interval": 60, "retention": 7, "logMultiple": null}`);
  refuseUnknownFields(body, `${where}: `, ['interval', 'retention', 'logMultiple'], false);
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
  } catch (error) {
    const tiny = error instanceof BadRequestError && error.message.includes(NUMBER_RANGE_NOTE);
    throw bad(`minDeltaValue must be "any", "always" or a number ≥ 0${tiny ? ` that is 0 or at least 1E-130 ${NUMBER_RANGE_NOTE}` : ''}, got ${describeValue(value)}`);
  }
}

export function parseMinDeltaTime(value: unknown): number {
  return number(value, 'minDeltaTime (seconds)', MAX_MIN_DELTA_TIME_SECONDS, false);
}

/**
 * The largest request body the configuration routes read: their documents are a few hundred bytes;
 * anything much larger is a mistake and is refused before it is parsed.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** A JSON request body, or a 400 saying why it is not one. */
export function parseJsonBody(body: string | undefined, isBase64Encoded = false): unknown {
  if (body === undefined || body.trim() === '') throw bad('the request needs a JSON body');
  // Base64 holds 3 bytes in 4 characters; the check comes before decoding or parsing anything.
  const bytes = isBase64Encoded ? Math.floor((body.length * 3) / 4) : Buffer.byteLength(body);
  if (bytes > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`the body is larger than the ${MAX_BODY_BYTES} bytes a logs configuration may have`, 'BodyTooLarge');
  }
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
      return { minDeltaValue: parseMinDeltaValue(wrapped(body, 'minDeltaValue')) };
    case 'minDeltaTime':
      return { minDeltaTime: parseMinDeltaTime(wrapped(body, 'minDeltaTime')) };
  }
}

/** The bare value, or the value of `{"<setting>": value}` (beside it only a GET reply entry's fields). */
function wrapped(body: unknown, setting: 'minDeltaValue' | 'minDeltaTime'): unknown {
  if (!isRecord(body) || !(setting in body)) return body;
  refuseUnknownFields(body, '', [setting], true);
  return body[setting];
}

const ROOT_FIELDS = ['level1', 'level2', 'level3', 'minDeltaTime', 'minDeltaValue'];

/** The body of a PUT `…/logs`: the `root` shape of a GET reply (or the object inside `root`), any part of it. */
export function parseRootBody(body: unknown): ConfigPatch {
  const isWrapped = isRecord(body) && isRecord(body.root);
  if (isWrapped) refuseUnknownFields(body, '', ['root'], true);
  const root = isWrapped ? body.root : body;
  if (!isRecord(root)) throw bad('the body must be the "root" object: {"level1": {...}, "level2": {...}, "level3": {...}, "minDeltaTime": 0, "minDeltaValue": "any"}');
  refuseUnknownFields(root, isWrapped ? 'root: ' : '', ROOT_FIELDS, false);
  const patch: ConfigPatch = {};
  for (const [key, value] of Object.entries(root)) {
    const level = /^level([123])$/.exec(key)?.[1];
    if (level) (patch.levels ??= {})[Number(level) as LevelNumber] = parseLevelFields(value, key);
    else if (key === 'minDeltaTime') patch.minDeltaTime = parseMinDeltaTime(value);
    else if (key === 'minDeltaValue') patch.minDeltaValue = parseMinDeltaValue(value);
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
