/**
 * Device event shapes on the Kinesis stream (Ayla Datastream / DSS shape), as fixed by DESIGN.md §3.
 *
 * One record = one event, UTF-8 JSON, partition key = `metadata.dsn`. The union is discriminated on
 * `metadata.event_type`; each type carries its body under its own key (see {@link BODY_KEY}).
 */

import {
  BASE_TYPES, BODY_KEY, DEFAULT_BLOCK, DEFAULT_BLOCK_INDEX, EVENT_TYPES, isOemId, OEM_ID_RULE, STRING_LIKE_BASE_TYPES, type BaseType, type EventType,
} from '../../lambdas/domain/device-events';

// The event vocabulary and its rules (OEM ids, the default block) are the pipeline's own, so the
// simulator cannot produce what the pipeline rejects; it adds the full event shapes below.
export {
  BASE_TYPES, BODY_KEY, DEFAULT_BLOCK, DEFAULT_BLOCK_INDEX, EVENT_TYPES, isOemId, OEM_ID_RULE, STRING_LIKE_BASE_TYPES, type BaseType, type EventType,
};

export const NULL_UUID = '00000000-0000-0000-0000-000000000000';

/** Timestamp like `2018-09-24T10:25:14Z` (UTC, seconds precision). */
export type Timestamp = string;

/** Datapoint value: booleans are 0/1, numbers for integer/decimal/float, text for string/message/file. */
export type DatapointValue = number | string;

export interface CommonMetadata {
  oem_id: string;
  oem_model: string;
  dsn: string;
  resource_tags: string[];
}

export interface PropertyMetadata {
  property_name: string;
  display_name: string;
  base_type: BaseType;
  /** IAP block; `device` when absent. */
  block?: string;
  /** IAP block index; `0` when absent. */
  block_index?: number;
}

export interface DatapointMetadata extends CommonMetadata, PropertyMetadata {
  event_type: 'datapoint';
}
export interface DatapointAckMetadata extends CommonMetadata, PropertyMetadata {
  event_type: 'datapointack';
}
export interface ConnectivityMetadata extends CommonMetadata {
  event_type: 'connectivity';
}
export interface LocationMetadata extends CommonMetadata {
  event_type: 'location';
}
export interface RegistrationMetadata extends CommonMetadata {
  event_type: 'registration';
}

export interface DatapointBody {
  id: string;
  created_at_from_device: Timestamp | null;
  updated_at: Timestamp;
  created_at: Timestamp;
  user_uuid: string;
  echo: boolean;
  closed: boolean;
  value: DatapointValue;
  metadata: Record<string, string>;
}

export interface DatapointAckBody extends DatapointBody {
  ack_id: string;
  ack_message: number;
  ack_status: number;
  acked_at: Timestamp;
}

export type ConnectionStatus = 'Online' | 'Offline';

export interface ConnectionBody {
  event_time: Timestamp;
  user_uuid: string;
  status: ConnectionStatus;
}

export interface LocationBody {
  ip: string;
  /** Decimal degrees as text with 6 decimals, e.g. `44.769500`. */
  lat: string;
  /** Decimal degrees as text with 6 decimals, e.g. `-69.428300`. */
  long: string;
  provider: string;
  user_uuid: string;
  created_at: Timestamp;
}

export type RegistrationType = 'AP-Mode' | 'Same-LAN' | 'Button-Push' | 'Display' | 'Dsn' | 'Node';

export interface RegistrationBody {
  registered: boolean;
  registration_type: RegistrationType;
  /** Set when `registered` is false. */
  unregistered_at: Timestamp | null;
  /** The registering user; null when unregistered. */
  user_uuid: string | null;
}

export interface DatapointEvent {
  seq: string;
  metadata: DatapointMetadata;
  datapoint: DatapointBody;
}
export interface DatapointAckEvent {
  seq: string;
  metadata: DatapointAckMetadata;
  datapointack: DatapointAckBody;
}
export interface ConnectivityEvent {
  seq: string;
  metadata: ConnectivityMetadata;
  connection: ConnectionBody;
}
export interface LocationEvent {
  seq: string;
  metadata: LocationMetadata;
  location_event: LocationBody;
}
export interface RegistrationEvent {
  seq: string;
  metadata: RegistrationMetadata;
  registration_event: RegistrationBody;
}

export type DeviceEvent = DatapointEvent | DatapointAckEvent | ConnectivityEvent | LocationEvent | RegistrationEvent;

export type EventOfType<T extends EventType> = Extract<DeviceEvent, { metadata: { event_type: T } }>;

// The shared body keys name each of these shapes' body.
BODY_KEY satisfies { readonly [K in EventType]: Exclude<keyof EventOfType<K>, 'seq' | 'metadata'> };

export type BodyKey = (typeof BODY_KEY)[EventType];

/** Formats a date as `2018-09-24T10:25:14Z` (UTC, seconds precision). */
export function formatTimestamp(date: Date): Timestamp {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('formatTimestamp: invalid date');
  return `${date.toISOString().slice(0, 19)}Z`;
}

/**
 * Narrows an event by type. (TypeScript does not narrow a union on a nested discriminant such as
 * `event.metadata.event_type`, so use this guard to reach the body.)
 */
export function isEventType<T extends EventType>(event: DeviceEvent, type: T): event is EventOfType<T> {
  return event.metadata.event_type === type;
}
