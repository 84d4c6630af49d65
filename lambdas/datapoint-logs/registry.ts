import type { DeviceEvent } from '../shared/device-events';
import type { DatapointRef } from './keys';
import { refId } from './keys';
import type { DeviceChange, DeviceHealth } from './store';
import { isTimeZone, zoneForLongitude } from './time-format';

/** IAP block of a datapoint event: `metadata.block` / `metadata.block_index`, else `device` / `0`. */
export const DEFAULT_BLOCK = 'device';
export const DEFAULT_BLOCK_INDEX = 0;

export function datapointRefOf(event: DeviceEvent): DatapointRef | undefined {
  if (event.metadata.event_type !== 'datapoint') return undefined;
  const { dsn, block, block_index: blockIndex, property_name: name } = event.metadata;
  return { dsn, block: block ?? DEFAULT_BLOCK, blockIndex: blockIndex ?? DEFAULT_BLOCK_INDEX, name };
}

const HEALTH: Record<string, DeviceHealth> = { online: 'normal', offline: 'down', suspect: 'suspect', nascent: 'nascent' };

const timeOf = (text: string | null | undefined, fallback: number) => (text ? Date.parse(text) || fallback : fallback);

/** What a batch tells about an OEM's registry: the datapoints it has, and its devices' changes. */
export interface RegistryUpdate {
  datapoints: DatapointRef[];
  devices: Map<string, DeviceChange>;
}

/**
 * The registry changes in a batch of one OEM's events (in stream order): datapoint events register
 * their datapoint; registration events set the device state, connectivity events its health, location
 * events its time zone (an IANA `time_zone` the device reports, else the nautical zone of its longitude).
 * For each device attribute the latest event time wins.
 */
export function registryUpdate(events: ReadonlyArray<{ event: DeviceEvent; arrivalMs: number }>): RegistryUpdate {
  const datapoints = new Map<string, DatapointRef>();
  const devices = new Map<string, DeviceChange>();
  const change = (dsn: string) => {
    let c = devices.get(dsn);
    if (!c) devices.set(dsn, (c = {}));
    return c;
  };
  const newer = <T>(current: { value: T; at: number } | undefined, value: T, at: number) =>
    !current || current.at <= at ? { value, at } : current;

  for (const { event, arrivalMs } of events) {
    const { dsn } = event.metadata;
    switch (event.metadata.event_type) {
      case 'datapoint': {
        const ref = datapointRefOf(event)!;
        datapoints.set(refId(ref), ref);
        break;
      }
      case 'registration': {
        const body = (event as Extract<DeviceEvent, { registration_event: unknown }>).registration_event;
        const at = timeOf(body.unregistered_at, arrivalMs);
        const c = change(dsn);
        c.state = newer(c.state, body.registered ? 'provisioned' : 'unprovisioned', at);
        break;
      }
      case 'connectivity': {
        const body = (event as Extract<DeviceEvent, { connection: unknown }>).connection;
        const health = HEALTH[body.status.toLowerCase()];
        if (!health) break;
        const c = change(dsn);
        c.health = newer(c.health, health, timeOf(body.event_time, arrivalMs));
        break;
      }
      case 'location': {
        const body = (event as Extract<DeviceEvent, { location_event: unknown }>).location_event as Record<string, unknown> & { created_at: string; long?: unknown };
        const reported = typeof body.time_zone === 'string' && isTimeZone(body.time_zone) ? body.time_zone : undefined;
        const zone = reported ?? zoneForLongitude(Number(body.long));
        if (!zone) break;
        const c = change(dsn);
        c.timeZone = newer(c.timeZone, zone, timeOf(body.created_at, arrivalMs));
        break;
      }
      default:
        break;
    }
  }
  return { datapoints: [...datapoints.values()], devices };
}
