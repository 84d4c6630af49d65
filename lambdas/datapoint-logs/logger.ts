import type { DeviceEvent } from '../shared/device-events';
import { refId, type DatapointRef } from './keys';
import { decide, expiresAt, INITIAL_STATE, type LoggerState, type Update } from './logging-rules';
import { datapointRefOf, registryUpdate } from './registry';
import type { DatapointLogStore, DeviceHealth, DeviceRecord, DeviceState } from './store';
import { valueId, type StoredValue, type ValueStore } from './values';
import { isTimeZone, zoneForLongitude } from './time-format';

export interface BatchEvent {
  event: DeviceEvent;
  arrivalMs: number;
}

export interface OemBatchOutcome {
  datapoints: number;
  devices: number;
  logged: number;
  skipped: number;
}

type DeviceFact = { at: number } & ({ state: DeviceState } | { health: DeviceHealth } | { timeZone: string });

const HEALTH: Record<string, DeviceHealth> = { online: 'normal', offline: 'down', suspect: 'suspect', nascent: 'nascent' };

/** What each event says about its device, in event time order, to know a device's state at a moment. */
function deviceFacts(events: readonly BatchEvent[]): Map<string, DeviceFact[]> {
  const facts = new Map<string, DeviceFact[]>();
  const add = (dsn: string, fact: DeviceFact) => {
    let list = facts.get(dsn);
    if (!list) facts.set(dsn, (list = []));
    list.push(fact);
  };
  for (const { event, arrivalMs } of events) {
    const time = (text: string | null | undefined) => (text ? Date.parse(text) || arrivalMs : arrivalMs);
    const { dsn } = event.metadata;
    if ('registration_event' in event) add(dsn, { at: time(event.registration_event.unregistered_at), state: event.registration_event.registered ? 'provisioned' : 'unprovisioned' });
    else if ('connection' in event) {
      const health = HEALTH[event.connection.status.toLowerCase()];
      if (health) add(dsn, { at: time(event.connection.event_time), health });
    } else if ('location_event' in event) {
      const body = event.location_event as Record<string, unknown> & { created_at: string };
      const zone = typeof body.time_zone === 'string' && isTimeZone(body.time_zone) ? body.time_zone : zoneForLongitude(Number(body.long));
      if (zone) add(dsn, { at: time(body.created_at), timeZone: zone });
    }
  }
  for (const list of facts.values()) list.sort((a, b) => a.at - b.at);
  return facts;
}

/** The device as it was at `at`: its stored record, then this batch's facts up to that time. */
function deviceAt(stored: DeviceRecord, facts: readonly DeviceFact[] | undefined, at: number): DeviceRecord {
  const device = { ...stored };
  for (const fact of facts ?? []) {
    if (fact.at > at) break;
    if ('state' in fact) device.state = fact.state;
    else if ('health' in fact) device.health = fact.health;
    else device.timeZone = fact.timeZone;
  }
  return device;
}

/** The updates of each datapoint in the batch, in stream order. */
function updatesByDatapoint(events: readonly BatchEvent[]): Map<string, { ref: DatapointRef; updates: Update[] }> {
  const byRef = new Map<string, { ref: DatapointRef; updates: Update[] }>();
  for (const { event, arrivalMs } of events) {
    const ref = datapointRefOf(event);
    if (!ref || !('datapoint' in event)) continue;
    const body = event.datapoint;
    const id = refId(ref);
    let entry = byRef.get(id);
    if (!entry) byRef.set(id, (entry = { ref, updates: [] }));
    entry.updates.push({
      ...(body.id ? { eventId: body.id } : {}),
      at: Date.parse(body.updated_at ?? body.created_at ?? '') || arrivalMs,
      value: body.value,
    });
  }
  return byRef;
}

/**
 * One OEM's part of a batch: the registry (datapoints, devices) and the datapoint logs. Reads the
 * datapoints (configuration and logger state) and their devices once; writes one item per logged
 * value, then one state per datapoint whose state changed. Values are written before the state, and
 * a value's key depends only on the value: a retry after a failure in between writes the same items.
 */
export async function logOemBatch(
  oemId: string,
  events: readonly BatchEvent[],
  stores: { registry: DatapointLogStore; values: ValueStore },
  now: number,
): Promise<OemBatchOutcome> {
  const registry = registryUpdate(events);
  const datapoints = await stores.registry.registerDatapoints(oemId, registry.datapoints, now);
  const updates = updatesByDatapoint(events);
  const devices = await stores.registry.getDevices(oemId, [...updates.values()].map((u) => u.ref.dsn));
  await Promise.all([...registry.devices].map(([dsn, change]) => stores.registry.updateDevice(oemId, dsn, change)));

  const facts = deviceFacts(events);
  const values: Array<{ ref: DatapointRef; value: StoredValue }> = [];
  const states: Array<{ ref: DatapointRef; state: LoggerState }> = [];
  let skipped = 0;
  for (const [id, { ref, updates: list }] of updates) {
    const datapoint = datapoints.get(id);
    if (!datapoint) continue;
    const before = datapoint.logger ?? INITIAL_STATE;
    const { decisions, state } = decide(datapoint.config, before, list);
    for (const decision of decisions) {
      const logged = decision.logged;
      if (!logged) {
        skipped++;
        continue;
      }
      const device = deviceAt(devices.get(ref.dsn)!, facts.get(ref.dsn), logged.at);
      values.push({
        ref,
        value: {
          id: valueId(datapoint.id, logged.sequence),
          sequence: logged.sequence,
          at: logged.at,
          value: logged.value,
          levels: logged.levels,
          deviceState: device.state,
          deviceHealth: device.health,
          ...(device.timeZone ? { timeZone: device.timeZone } : {}),
          expiresAt: Math.ceil(expiresAt(logged, datapoint.config) / 1000),
        },
      });
    }
    if (JSON.stringify(state) !== JSON.stringify(before)) states.push({ ref, state });
  }
  await stores.values.putValues(oemId, values);
  await Promise.all(states.map(({ ref, state }) => stores.values.saveLoggerState(oemId, ref, state)));
  return { datapoints: registry.datapoints.length, devices: registry.devices.size, logged: values.length, skipped };
}
