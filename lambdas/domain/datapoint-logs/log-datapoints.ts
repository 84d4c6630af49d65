import { createHash } from 'node:crypto';
import { decodeEvent, type DeviceEvent } from '../device-events';
import type { StreamRecord } from '../event-stream';
import { datapointKeyFits, refId } from './keys';
import { decide, expiresAt, INITIAL_STATE, type LoggerState, type Update } from './logging-rules';
import type { DatapointLogStores, LoggedEntry } from './ports';
import { datapointRefOf, deviceFacts, registryUpdate, type DeviceFact } from './registry';
import { valueId, type DatapointRecord, type DatapointRef, type DeviceRecord } from './records';
import type { JsonValue } from './storable';
import { isStructured, valueProblem, type ValueProblem } from './storable';

/** Bytes of a value's stored form: its text, or a structured value's JSON text (what the size limit measures). */
const storedBytes = (value: unknown) => Buffer.byteLength(typeof value === 'string' ? value : isStructured(value) ? JSON.stringify(value) : String(value));

export interface BatchEvent {
  event: DeviceEvent;
  arrivalMs: number;
}

/** An update that is not logged because DynamoDB could not store it (its value, or its datapoint's key). */
export interface Rejection {
  ref: DatapointRef;
  /** The DSS datapoint id, when the event has one. */
  eventId?: string;
  reason: ValueProblem | 'key-too-long';
  /** For `value-too-large`: the bytes of the value's stored form (its text, or its JSON text). */
  bytes?: number;
}

/** How many rejections an outcome lists (all are counted): enough to find the datapoints, bounded per batch. */
export const MAX_LISTED_REJECTIONS = 100;

export interface OemBatchOutcome {
  datapoints: number;
  devices: number;
  logged: number;
  /** Updates decided and not logged by the rules (out of order, duplicate, throttled by the configuration). */
  skipped: number;
  /** Updates refused because DynamoDB could not store them; the first {@link MAX_LISTED_REJECTIONS} are in `rejections`. */
  rejected: number;
  /** Of `rejected`, values over {@link MAX_LOGGED_VALUE_BYTES} (`value-too-large`). */
  tooLarge: number;
  rejections: Rejection[];
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

/**
 * Event ids the logger remembers (to skip redelivered updates) are kept short: an id over 64
 * characters is remembered by its SHA-256, so 100 of them always fit the datapoint's item.
 */
const MAX_REMEMBERED_ID_LENGTH = 64;
const rememberedId = (id: string) => (id.length <= MAX_REMEMBERED_ID_LENGTH ? id : `sha256:${createHash('sha256').update(id).digest('base64url')}`);

/**
 * The updates of each datapoint in the batch, in stream order, and the updates whose value DynamoDB
 * could not store (rejected one by one, before any decision: they take no place in the log).
 */
function updatesByDatapoint(events: readonly BatchEvent[]): { byRef: Map<string, { ref: DatapointRef; updates: Update[] }>; rejections: Rejection[] } {
  const byRef = new Map<string, { ref: DatapointRef; updates: Update[] }>();
  const rejections: Rejection[] = [];
  for (const { event, arrivalMs } of events) {
    const ref = datapointRefOf(event);
    if (!ref || !('datapoint' in event)) continue;
    const body = event.datapoint;
    const problem = valueProblem(body.value);
    if (problem) {
      const bytes = problem === 'value-too-large' ? storedBytes(body.value) : undefined;
      rejections.push({ ref, ...(body.id ? { eventId: body.id } : {}), reason: problem, ...(bytes !== undefined ? { bytes } : {}) });
      continue;
    }
    const id = refId(ref);
    let entry = byRef.get(id);
    if (!entry) byRef.set(id, (entry = { ref, updates: [] }));
    entry.updates.push({
      ...(body.id ? { eventId: rememberedId(body.id) } : {}),
      at: Date.parse(body.updated_at ?? body.created_at ?? '') || arrivalMs,
      value: body.value as JsonValue,
    });
  }
  return { byRef, rejections };
}

/** Whether a configuration can log anything (a level is active): a datapoint without one needs no state. */
const logsAnything = (datapoint: DatapointRecord) => datapoint.config.levels.some((level) => level.retention > 0);

/**
 * One OEM's part of a batch: the registry (datapoints, devices) and the datapoint logs. Reads the
 * datapoints (configuration) once, and only for datapoints that can log (an active level) their latest
 * value (the logger's state) and their devices. Writes one item per logged value, carrying the state
 * after it: a datapoint that logs nothing costs no write beyond its registration, once. Values are
 * written before the devices, and a value's key depends only on the value: a retry after a failure in
 * between writes the same items.
 *
 * State that no value carries is not kept: updates decided but not logged after a datapoint's latest
 * value are forgotten between batches (within a batch they count), so across batches an update is out of
 * order or a duplicate against the latest logged one.
 */
export async function logOemBatch(
  oemId: string,
  events: readonly BatchEvent[],
  stores: DatapointLogStores,
  now: number,
): Promise<OemBatchOutcome> {
  const registry = registryUpdate(events);
  // A datapoint whose key cannot be stored (names near the 256-character limit, escaped or multi-byte,
  // or text that is not well-formed) is not logged; its updates are rejected, and the rest of the batch goes on.
  const storable = registry.datapoints.filter(datapointKeyFits);
  const datapoints = await stores.registry.registerDatapoints(oemId, storable, now);
  const { byRef: updates, rejections } = updatesByDatapoint(events);

  let skipped = 0;
  const logging: Array<{ datapoint: DatapointRecord; ref: DatapointRef; updates: Update[] }> = [];
  for (const [id, { ref, updates: list }] of updates) {
    const datapoint = datapoints.get(id);
    if (!datapoint) {
      if (!datapointKeyFits(ref)) {
        rejections.push(...list.map((u) => ({ ref, ...(u.eventId !== undefined ? { eventId: u.eventId } : {}), reason: 'key-too-long' as const })));
      } else skipped += list.length;
    } else if (!logsAnything(datapoint)) skipped += list.length; // no-active-level: nothing to decide against
    else logging.push({ datapoint, ref, updates: list });
  }

  const refs = logging.map((l) => l.ref);
  const [states, devices] = refs.length === 0
    ? [new Map<string, LoggerState>(), new Map<string, DeviceRecord>()]
    : await Promise.all([stores.values.loggerStates(oemId, refs), stores.registry.getDevices(oemId, refs.map((r) => r.dsn))]);
  const facts = deviceFacts(events);
  const values: LoggedEntry[] = [];
  for (const { datapoint, ref, updates: list } of logging) {
    // The latest value's state; a datapoint moved from before values carried it keeps the state it had.
    let state = states.get(refId(ref)) ?? datapoint.logger ?? INITIAL_STATE;
    // Values deleted since (the latest among them, perhaps): sequences go on above the highest deleted.
    if (datapoint.sequenceFloor !== undefined && datapoint.sequenceFloor > state.logged) state = { ...state, logged: datapoint.sequenceFloor };
    let last: LoggedEntry | undefined;
    for (const update of list) {
      const { decisions: [decision], state: after } = decide(datapoint.config, state, [update]);
      state = after;
      const logged = decision!.logged;
      if (!logged) {
        skipped++;
        continue;
      }
      const device = deviceAt(devices.get(ref.dsn)!, facts.get(ref.dsn), logged.at);
      last = {
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
          loggedAt: now,
        },
        state,
      };
      values.push(last);
    }
    // The datapoint's latest value carries the state after the whole batch (later updates decided, not logged).
    if (last) last.state = state;
  }
  // Values, then the devices: a batch retried after a failure before the last step sees the devices as
  // they were before it, and rewrites exactly the same values.
  if (values.length > 0) await stores.values.putValues(oemId, values);
  await Promise.all([...registry.devices].map(([dsn, change]) => stores.registry.updateDevice(oemId, dsn, change)));
  return {
    datapoints: registry.datapoints.length,
    devices: registry.devices.size,
    logged: values.length,
    skipped,
    rejected: rejections.length,
    tooLarge: rejections.filter((r) => r.reason === 'value-too-large').length,
    rejections: rejections.slice(0, MAX_LISTED_REJECTIONS),
  };
}

/** Distinct reasons a batch outcome counts invalid records by; the rest are counted in `invalid` only. */
export const MAX_INVALID_REASONS = 10;

export interface BatchOutcome extends Omit<OemBatchOutcome, 'rejections'> {
  /** The first {@link MAX_LISTED_REJECTIONS} rejections of the batch, each with its OEM. */
  rejections: Array<Rejection & { oemId: string }>;
  records: number;
  /** Records that are not device events: skipped here (the exporter keeps them). */
  invalid: number;
  /** Why, by reason (the first {@link MAX_INVALID_REASONS} reasons, each cut to 200 characters): `metadata.oem_id is missing`, … */
  invalidReasons: Record<string, number>;
  oems: number;
  /** OEMs whose writes failed, each from its first record's sequence number: the batch is retried from the lowest. */
  failures: Array<{ oemId: string; from: string; error: Error }>;
}

/**
 * A batch of stream records → the datapoint registry (devices, datapoints) and the datapoint logs,
 * OEM by OEM and the OEMs at once. An OEM whose writes fail is reported from its first record; its
 * writes are idempotent, so a retry from there loses and doubles nothing.
 */
export async function logBatch(records: readonly StreamRecord[], stores: DatapointLogStores, now: number): Promise<BatchOutcome> {
  const byOem = new Map<string, { events: BatchEvent[]; from: string }>();
  let invalid = 0;
  const invalidReasons: Record<string, number> = {};
  for (const record of records) {
    const decoded = decodeEvent(record.data);
    if (!decoded.ok) {
      invalid++;
      const reason = decoded.reason.slice(0, 200);
      if (reason in invalidReasons || Object.keys(invalidReasons).length < MAX_INVALID_REASONS) invalidReasons[reason] = (invalidReasons[reason] ?? 0) + 1;
      continue;
    }
    const oemId = decoded.event.metadata.oem_id;
    let batch = byOem.get(oemId);
    if (!batch) byOem.set(oemId, (batch = { events: [], from: record.sequenceNumber }));
    batch.events.push({ event: decoded.event, arrivalMs: record.arrivalMs });
  }

  const outcome: BatchOutcome = {
    records: records.length, invalid, invalidReasons, oems: byOem.size, datapoints: 0, devices: 0, logged: 0, skipped: 0, rejected: 0, tooLarge: 0, rejections: [], failures: [],
  };
  await Promise.all([...byOem].map(async ([oemId, batch]) => {
    try {
      const counts = await logOemBatch(oemId, batch.events, stores, now);
      outcome.datapoints += counts.datapoints;
      outcome.devices += counts.devices;
      outcome.logged += counts.logged;
      outcome.skipped += counts.skipped;
      outcome.rejected += counts.rejected;
      outcome.tooLarge += counts.tooLarge;
      outcome.rejections.push(...counts.rejections.slice(0, MAX_LISTED_REJECTIONS - outcome.rejections.length).map((r) => ({ oemId, ...r })));
    } catch (error) {
      outcome.failures.push({ oemId, from: batch.from, error: error as Error });
    }
  }));
  return outcome;
}
