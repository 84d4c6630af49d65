import type { LogConfig } from './log-settings';
import type { LoggerState } from './logging-rules';
import type { JsonValue } from './storable';

/**
 * What the datapoint logs know: datapoints (with their log configuration and the logger's state),
 * their devices, and logged values. Stores keep them (see `ports.ts`); the rules read them.
 */


/** A datapoint's place: device, IAP block and index, and name. */
export interface DatapointRef {
  dsn: string;
  block: string;
  blockIndex: number;
  name: string;
}

export type DeviceState = 'provisioned' | 'unprovisioned';
export type DeviceHealth = 'normal' | 'suspect' | 'down' | 'nascent';

export interface DeviceRecord {
  dsn: string;
  state: DeviceState;
  health: DeviceHealth;
  timeZone?: string;
}

/** Until a registration or connectivity event says otherwise. */
export const DEFAULT_DEVICE: Omit<DeviceRecord, 'dsn'> = { state: 'provisioned', health: 'normal' };

export interface DatapointRecord extends DatapointRef {
  /** Unique per OEM, assigned when the datapoint is first seen or configured. */
  id: number;
  registeredAt: number;
  configuredAt?: number;
  config: LogConfig;
  /**
   * What the logger remembered of the datapoint's updates when its state was kept on the datapoint (a
   * registry moved from before its state rode on its latest value); absent otherwise.
   */
  logger?: LoggerState;
  /** The highest sequence of its values ever deleted: the next value logged gets a higher one (ids are never reused). */
  sequenceFloor?: number;
}

/** A change of one device attribute, as of an event time (older changes never overwrite newer ones). */
export interface DeviceChange {
  state?: { value: DeviceState; at: number };
  health?: { value: DeviceHealth; at: number };
  timeZone?: { value: string; at: number };
}

/** What a datapoint query can narrow with keys; the rest is filtered by the caller. */
export interface DatapointScope {
  dsn?: string;
  block?: string;
  blockIndex?: number;
  name?: string;
}

/** A logged value of a datapoint, with the device's state, health and time zone when it was logged. */
export interface StoredValue {
  /** Unique in the OEM: the datapoint's id × 10⁹ + the value's sequence ({@link valueId}). */
  id: number;
  sequence: number;
  at: number;
  value: JsonValue;
  levels: Array<1 | 2 | 3>;
  deviceState: DeviceState;
  deviceHealth: DeviceHealth;
  timeZone?: string;
  /** TTL (epoch seconds): the latest retention end of its levels when it was logged. */
  expiresAt: number;
  /** When the logger wrote it (epoch ms): paging snapshots leave out what was logged after them. */
  loggedAt?: number;
}

const SEQUENCE_SPAN = 1_000_000_000;

export const valueId = (datapointId: number, sequence: number) => datapointId * SEQUENCE_SPAN + sequence;

/** Inclusive time bounds (epoch ms) of a value query. */
export interface TimeRange {
  from?: number;
  to?: number;
}
