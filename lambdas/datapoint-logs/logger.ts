import type { DeviceEvent } from '../shared/device-events';
import { datapointKeyFits, refId, type DatapointRef } from './keys';
import { decide, expiresAt, INITIAL_STATE, type LoggerState, type Update } from './logging-rules';
import { datapointRefOf, deviceFacts, registryUpdate, type DeviceFact } from './registry';
import type { DatapointLogStore, DeviceRecord } from './store';
import { valueId, type StoredValue, type ValueStore } from './values';

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
  // A datapoint whose key cannot be stored (names near the 256-character limit, escaped or multi-byte)
  // is not logged; its updates are counted as skipped, and the rest of the batch goes on.
  const storable = registry.datapoints.filter(datapointKeyFits);
  const datapoints = await stores.registry.registerDatapoints(oemId, storable, now);
  const updates = updatesByDatapoint(events);
  const devices = await stores.registry.getDevices(oemId, [...updates.values()].map((u) => u.ref.dsn));
  await Promise.all([...registry.devices].map(([dsn, change]) => stores.registry.updateDevice(oemId, dsn, change)));

  const facts = deviceFacts(events);
  const values: Array<{ ref: DatapointRef; value: StoredValue }> = [];
  const states: Array<{ ref: DatapointRef; state: LoggerState }> = [];
  let skipped = 0;
  for (const [id, { ref, updates: list }] of updates) {
    const datapoint = datapoints.get(id);
    if (!datapoint) {
      skipped += list.length;
      continue;
    }
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
