import { DEFAULT_CONFIG, type ConfigPatch, type LogConfig, type MinDeltaValue } from '../../domain/datapoint-logs/log-settings';
import type { LoggerState } from '../../domain/datapoint-logs/logging-rules';
import {
  DEFAULT_DEVICE, type DatapointRecord, type DeviceHealth, type DeviceRecord, type DeviceState, type StoredValue,
} from '../../domain/datapoint-logs/records';
import type { JsonValue } from '../../domain/datapoint-logs/storable';

/**
 * The datapoint log table's items and the records they hold, both ways: the one place that knows the
 * attribute names (`l1i`, `mdv`, `logger`, …). Both stores use it.
 */

/** A DynamoDB item as the document client reads and writes it. */
export type Item = Record<string, unknown>;

function configFromItem(item: Item): LogConfig {
  const level = (n: 1 | 2 | 3) => ({
    interval: (item[`l${n}i`] as number | undefined) ?? 0,
    retention: (item[`l${n}r`] as number | undefined) ?? 0,
    logMultiple: (item[`l${n}m`] as number | null | undefined) ?? null,
  });
  return {
    levels: [level(1), level(2), level(3)],
    minDeltaTime: (item.mdt as number | undefined) ?? DEFAULT_CONFIG.minDeltaTime,
    minDeltaValue: (item.mdv as MinDeltaValue | undefined) ?? DEFAULT_CONFIG.minDeltaValue,
  };
}

/** Item attributes of a configuration change: `l<level><i|r|m>`, `mdt`, `mdv`. */
export function patchAttributes(patch: ConfigPatch): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [level, fields] of Object.entries(patch.levels ?? {})) {
    if (fields.interval !== undefined) attributes[`l${level}i`] = fields.interval;
    if (fields.retention !== undefined) attributes[`l${level}r`] = fields.retention;
    if (fields.logMultiple !== undefined) attributes[`l${level}m`] = fields.logMultiple;
  }
  if (patch.minDeltaTime !== undefined) attributes.mdt = patch.minDeltaTime;
  if (patch.minDeltaValue !== undefined) attributes.mdv = patch.minDeltaValue;
  return attributes;
}

/** A datapoint item's attributes that {@link datapointFromItem} reads, but the logger's state (`logger`). */
export const SELECTION_ATTRIBUTES = [
  'dsn', 'block', 'blockIndex', 'name', 'id', 'registeredAt', 'configuredAt', 'l1i', 'l1r', 'l1m', 'l2i', 'l2r', 'l2m', 'l3i', 'l3r', 'l3m', 'mdt', 'mdv',
] as const;

export function datapointFromItem(item: Item): DatapointRecord {
  return {
    dsn: item.dsn as string,
    block: item.block as string,
    blockIndex: item.blockIndex as number,
    name: item.name as string,
    id: item.id as number,
    registeredAt: item.registeredAt as number,
    ...(item.configuredAt !== undefined ? { configuredAt: item.configuredAt as number } : {}),
    config: configFromItem(item),
    ...(item.logger ? { logger: loggerStateFromItem(item.logger as Record<string, unknown>) } : {}),
    ...(typeof item.seqFloor === 'number' ? { sequenceFloor: item.seqFloor } : {}),
  };
}

export function deviceFromItem(dsn: string, item: Item | undefined): DeviceRecord {
  return {
    dsn,
    state: (item?.state as DeviceState | undefined) ?? DEFAULT_DEVICE.state,
    health: (item?.health as DeviceHealth | undefined) ?? DEFAULT_DEVICE.health,
    ...(item?.timeZone ? { timeZone: item.timeZone as string } : {}),
  };
}

/**
 * A datapoint value as item attributes. Scalars are kept as they are (`value`: string, boolean, null,
 * or a number the SDK reads back exactly); structured values and numbers beyond ±2^53 as their JSON
 * text (`valueJson`): the document client refuses to write such numbers and cannot read them back as
 * numbers, and a structured value may hold what a DynamoDB map cannot (empty keys, deep nesting).
 */
export function valueAttributes(value: JsonValue): Item {
  const asText = (value !== null && typeof value === 'object') || (typeof value === 'number' && Math.abs(value) > Number.MAX_SAFE_INTEGER);
  return asText ? { valueJson: JSON.stringify(value) } : { value };
}

/** The value of item attributes written by {@link valueAttributes} (`value` absent: null). */
export function valueOfAttributes(item: Item, plain = 'value', json = 'valueJson'): JsonValue {
  const text = item[json];
  if (typeof text === 'string') return JSON.parse(text) as JsonValue;
  return (item[plain] ?? null) as JsonValue;
}

/**
 * A logged value's item attributes (without its keys), with the logger's state after it when given:
 * what of the state is not the value's own (`at`, `value`, `sequence` are the last logged time, value
 * and count) — `ll` the per-level times, `ea` the last decided time when later than the value's, `ei` the
 * event ids decided at that time. The latest value of a datapoint is then all the logger needs to read.
 */
export function valueToItem(stored: StoredValue, state?: LoggerState): Item {
  const { value, ...rest } = stored;
  const item: Item = { ...rest, ...valueAttributes(value) };
  if (state) {
    item.ll = state.levelLastAt.map((t) => t ?? null);
    if (state.lastEventAt !== undefined && state.lastEventAt !== stored.at) item.ea = state.lastEventAt;
    if (state.lastEventIds && state.lastEventIds.length > 0) item.ei = state.lastEventIds;
  }
  return item;
}

/** The logger's state a value item carries ({@link valueToItem}), or undefined when it carries none. */
export function stateFromValueItem(item: Item): LoggerState | undefined {
  if (!Array.isArray(item.ll)) return undefined;
  const levels = item.ll as Array<number | null>;
  const time = (t: number | null | undefined) => (typeof t === 'number' ? t : undefined);
  return {
    lastEventAt: typeof item.ea === 'number' ? item.ea : (item.at as number),
    ...(Array.isArray(item.ei) ? { lastEventIds: item.ei as string[] } : {}),
    lastLoggedAt: item.at as number,
    lastLoggedValue: valueOfAttributes(item),
    levelLastAt: [time(levels[0]), time(levels[1]), time(levels[2])],
    logged: item.sequence as number,
  };
}

export function valueFromItem(item: Item): StoredValue {
  return {
    id: item.id as number,
    sequence: item.sequence as number,
    at: item.at as number,
    value: valueOfAttributes(item),
    levels: item.levels as StoredValue['levels'],
    deviceState: item.deviceState as DeviceState,
    deviceHealth: item.deviceHealth as DeviceHealth,
    ...(item.timeZone ? { timeZone: item.timeZone as string } : {}),
    expiresAt: item.expiresAt as number,
    ...(typeof item.loggedAt === 'number' ? { loggedAt: item.loggedAt } : {}),
  };
}

/**
 * The logger's state as an item attribute: gaps in the per-level list kept as null; the last logged
 * value as {@link valueAttributes} keeps values (`lastLoggedValue` or `lastLoggedJson`).
 */
export function loggerStateToItem(state: LoggerState): Record<string, unknown> {
  const { lastLoggedValue, ...rest } = state;
  const item = JSON.parse(JSON.stringify(rest, (_, v: unknown) => (v === undefined ? null : v))) as Record<string, unknown>;
  if ('lastLoggedValue' in state) {
    const { value, valueJson } = valueAttributes(lastLoggedValue ?? null);
    if (valueJson !== undefined) item.lastLoggedJson = valueJson;
    else item.lastLoggedValue = value;
  }
  return item;
}

export function loggerStateFromItem(item: Record<string, unknown>): LoggerState {
  const orUndefined = <T>(v: unknown) => (v === null || v === undefined ? undefined : (v as T));
  const levels = (item.levelLastAt as unknown[] | undefined) ?? [];
  return {
    ...(orUndefined<number>(item.lastEventAt) !== undefined ? { lastEventAt: item.lastEventAt as number } : {}),
    ...(Array.isArray(item.lastEventIds) ? { lastEventIds: item.lastEventIds as string[] } : {}),
    ...(orUndefined<number>(item.lastLoggedAt) !== undefined ? { lastLoggedAt: item.lastLoggedAt as number } : {}),
    ...('lastLoggedValue' in item || 'lastLoggedJson' in item ? { lastLoggedValue: valueOfAttributes(item, 'lastLoggedValue', 'lastLoggedJson') } : {}),
    levelLastAt: [orUndefined<number>(levels[0]), orUndefined<number>(levels[1]), orUndefined<number>(levels[2])],
    logged: (item.logged as number | undefined) ?? 0,
  };
}
