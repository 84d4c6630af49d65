import { DEFAULT_BLOCK, DEFAULT_BLOCK_INDEX, type DeviceEvent } from '../device-events';
import { refId } from './keys';
import type { DatapointRef, DeviceChange, DeviceHealth, DeviceState } from './records';
import { isTimeZone, zoneForLongitude } from './time-format';

/** The datapoint of a datapoint event: its block is `metadata.block` / `metadata.block_index`, else the default block. */
export function datapointRefOf(event: DeviceEvent): DatapointRef | undefined {
  if (event.metadata.event_type !== 'datapoint') return undefined;
  const { dsn, block, block_index: blockIndex, property_name: name } = event.metadata;
  return { dsn, block: block ?? DEFAULT_BLOCK, blockIndex: blockIndex ?? DEFAULT_BLOCK_INDEX, name };
}

const HEALTH: Record<string, DeviceHealth> = { online: 'normal', offline: 'down', suspect: 'suspect', nascent: 'nascent' };

const timeOf = (text: string | null | undefined, fallback: number) => (text ? Date.parse(text) || fallback : fallback);

/** A longitude given as a number or numeric text; nothing for null, empty or other text. */
function longitudeOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** What one event says about its device at a moment: its state, health or time zone. */
export type DeviceFact = { at: number } & ({ state: DeviceState } | { health: DeviceHealth } | { timeZone: string });

/**
 * What an event says about its device: registration events its state (`provisioned` /
 * `unprovisioned`), connectivity events its health (`Online` → `normal`, `Offline` → `down`), location
 * events its time zone (an IANA `time_zone` the device reports, else the nautical zone of its
 * longitude; a location without either says nothing).
 */
export function deviceFactOf(event: DeviceEvent, arrivalMs: number): DeviceFact | undefined {
  if ('registration_event' in event) {
    const body = event.registration_event;
    return { at: timeOf(body.unregistered_at, arrivalMs), state: body.registered ? 'provisioned' : 'unprovisioned' };
  }
  if ('connection' in event) {
    const health = HEALTH[event.connection.status.toLowerCase()];
    return health ? { at: timeOf(event.connection.event_time, arrivalMs), health } : undefined;
  }
  if ('location_event' in event) {
    const body = event.location_event as Record<string, unknown> & { created_at: string };
    const reported = typeof body.time_zone === 'string' && isTimeZone(body.time_zone) ? body.time_zone : undefined;
    const longitude = longitudeOf(body.long);
    const zone = reported ?? (longitude === undefined ? undefined : zoneForLongitude(longitude));
    return zone ? { at: timeOf(body.created_at, arrivalMs), timeZone: zone } : undefined;
  }
  return undefined;
}

/** Each device's facts in a batch, in event time order. */
export function deviceFacts(events: ReadonlyArray<{ event: DeviceEvent; arrivalMs: number }>): Map<string, DeviceFact[]> {
  const facts = new Map<string, DeviceFact[]>();
  for (const { event, arrivalMs } of events) {
    const fact = deviceFactOf(event, arrivalMs);
    if (!fact) continue;
    let list = facts.get(event.metadata.dsn);
    if (!list) facts.set(event.metadata.dsn, (list = []));
    list.push(fact);
  }
  for (const list of facts.values()) list.sort((a, b) => a.at - b.at);
  return facts;
}

/** What a batch tells about an OEM's registry: the datapoints it has, and its devices' changes. */
export interface RegistryUpdate {
  datapoints: DatapointRef[];
  devices: Map<string, DeviceChange>;
}

/**
 * The registry changes in a batch of one OEM's events: datapoint events register their datapoint;
 * device facts change the device, the latest event time winning for each attribute.
 */
export function registryUpdate(events: ReadonlyArray<{ event: DeviceEvent; arrivalMs: number }>): RegistryUpdate {
  const datapoints = new Map<string, DatapointRef>();
  for (const { event } of events) {
    const ref = datapointRefOf(event);
    if (ref) datapoints.set(refId(ref), ref);
  }
  const devices = new Map<string, DeviceChange>();
  for (const [dsn, facts] of deviceFacts(events)) {
    const change: DeviceChange = {};
    // Facts are in time order: the last of each kind is the latest.
    for (const fact of facts) {
      if ('state' in fact) change.state = { value: fact.state, at: fact.at };
      else if ('health' in fact) change.health = { value: fact.health, at: fact.at };
      else change.timeZone = { value: fact.timeZone, at: fact.at };
    }
    devices.set(dsn, change);
  }
  return { datapoints: [...datapoints.values()], devices };
}
