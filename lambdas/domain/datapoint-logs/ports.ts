import type { LoggerState } from './logging-rules';
import type { ConfigPatch } from './log-settings';
import type {
  DatapointRecord, DatapointRef, DatapointScope, DeviceChange, DeviceRecord, StoredValue, TimeRange,
} from './records';

/**
 * The stores the datapoint log rules use, as ports: the DynamoDB adapters implement them, tests fake
 * them. Every call is scoped to one OEM.
 */

/** The registry: datapoints with their log configuration and logger state, and devices. */
export interface DatapointRegistry {
  /** The OEM's datapoints within `scope`, read as the caller consumes them. */
  queryDatapoints(oemId: string, scope: DatapointScope): AsyncIterable<DatapointRecord>;
  /** Each of `dsns`' device, defaults for a device never heard of. */
  getDevices(oemId: string, dsns: readonly string[]): Promise<Map<string, DeviceRecord>>;
  /** Registers the datapoints not known yet; returns every ref's record by `refId`. */
  registerDatapoints(oemId: string, refs: readonly DatapointRef[], now: number): Promise<Map<string, DatapointRecord>>;
  /** Applies a configuration change to an existing datapoint; returns it as it is now. */
  updateConfig(oemId: string, ref: DatapointRef, patch: ConfigPatch, now: number): Promise<DatapointRecord>;
  /** Records device state, health and time zone, each only if newer than what is stored. */
  updateDevice(oemId: string, dsn: string, change: DeviceChange): Promise<void>;
}

/** One query's worth of a datapoint's values. */
export interface ValuePage {
  /** In time order (then sequence). */
  values: StoredValue[];
  /** Where the next query starts (after this sort key); absent when the range has been read to its end. */
  next?: string;
}

/** A value to log, with the logger's state after it when it is the datapoint's latest (or any value the logger writes). */
export interface LoggedEntry {
  ref: DatapointRef;
  value: StoredValue;
  state?: LoggerState;
}

/** The logged values, and the logger's state that decides what is logged next (carried by each datapoint's latest value). */
export interface ValueLog {
  putValues(oemId: string, entries: readonly LoggedEntry[]): Promise<void>;
  deleteValues(oemId: string, entries: ReadonlyArray<{ ref: DatapointRef; value: StoredValue }>): Promise<void>;
  /**
   * One query: up to `limit` of a datapoint's values within `range` (a key range; it must not be
   * empty), after the sort key `after` when given (a previous page's `next`).
   */
  valuePage(oemId: string, ref: DatapointRef, range: TimeRange, limit: number, after?: string): Promise<ValuePage>;
  /** The logger's state of each of `refs` (by `refId`), from its latest value; absent when it has none. */
  loggerStates(oemId: string, refs: readonly DatapointRef[]): Promise<Map<string, LoggerState>>;
}

/** Both stores, as the logger and the value routes take them. */
export interface DatapointLogStores {
  registry: DatapointRegistry;
  values: ValueLog;
}
