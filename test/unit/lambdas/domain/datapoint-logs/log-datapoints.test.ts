import { DEFAULT_CONFIG, type LogConfig, type MinDeltaValue } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import { datapointKeyFits, refId } from '../../../../../lambdas/domain/datapoint-logs/keys';
import { logOemBatch, type BatchEvent } from '../../../../../lambdas/domain/datapoint-logs/log-datapoints';
import { MAX_LOGGED_VALUE_BYTES } from '../../../../../lambdas/domain/datapoint-logs/storable';
import { INITIAL_STATE, type LoggerState } from '../../../../../lambdas/domain/datapoint-logs/logging-rules';
import type { DatapointRegistry, LoggedEntry, ValueLog } from '../../../../../lambdas/domain/datapoint-logs/ports';
import { valueId, type DatapointRecord, type DatapointRef, type DeviceChange, type DeviceRecord, type StoredValue } from '../../../../../lambdas/domain/datapoint-logs/records';
import { validateEvent, type DeviceEvent } from '../../../../../lambdas/domain/device-events';

/**
 * logOemBatch (one OEM's part of a logger batch) against small hand-written stores that record
 * every call: how often it reads and writes, what it writes, and the device facts each value gets.
 */

const OEM = 'oem-unit';
const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const S = 1000;
const DAY = 24 * 3600 * S;
const NULL_UUID = '00000000-0000-0000-0000-000000000000';
const iso = (ms: number) => new Date(ms).toISOString();

// ---- events (checked by the stream's schema, so only events the logger can get) -----------------

function valid(value: unknown): DeviceEvent {
  const result = validateEvent(value);
  if (!result.ok) throw new Error(result.reason);
  return result.event;
}

let eventCounter = 0;
function update(dsn: string, name: string, value: unknown, at: number, options: { block?: string; blockIndex?: number; id?: string } = {}): DeviceEvent {
  return valid({
    seq: '1',
    metadata: {
      oem_id: OEM, oem_model: 'm', dsn, resource_tags: [], event_type: 'datapoint', property_name: name, display_name: name, base_type: 'integer',
      ...(options.block !== undefined ? { block: options.block } : {}),
      ...(options.blockIndex !== undefined ? { block_index: options.blockIndex } : {}),
    },
    datapoint: {
      id: options.id ?? `ev-${++eventCounter}`, created_at_from_device: null, updated_at: iso(at), created_at: iso(at), user_uuid: NULL_UUID,
      echo: true, closed: false, value, metadata: {},
    },
  });
}

const connectivity = (dsn: string, status: 'Online' | 'Offline', at: number) => valid({
  seq: '1', metadata: { oem_id: OEM, oem_model: 'm', dsn, resource_tags: [], event_type: 'connectivity' },
  connection: { event_time: iso(at), user_uuid: NULL_UUID, status },
});

const registration = (dsn: string, registered: boolean, at: number) => valid({
  seq: '1', metadata: { oem_id: OEM, oem_model: 'm', dsn, resource_tags: [], event_type: 'registration' },
  registration_event: { registered, registration_type: 'AP-Mode', unregistered_at: registered ? null : iso(at), user_uuid: null },
});

const location = (dsn: string, timeZone: string, at: number) => valid({
  seq: '1', metadata: { oem_id: OEM, oem_model: 'm', dsn, resource_tags: [], event_type: 'location' },
  location_event: { created_at: iso(at), ip: '192.0.2.1', provider: 'ip-based', user_uuid: NULL_UUID, time_zone: timeZone },
});

/** A batch in stream order; arrival a little after the last event, as the stream would stamp it. */
const batch = (...events: DeviceEvent[]): BatchEvent[] => events.map((event) => ({ event, arrivalMs: T0 + 3600 * S }));

// ---- configurations -----------------------------------------------------------------------------

type Level = [interval: number, retention: number];
const OFF: Level = [0, 0];
function config(l1: Level, l2: Level = OFF, l3: Level = OFF, minDeltaValue: MinDeltaValue = 'always', minDeltaTime = 0): LogConfig {
  const level = ([interval, retention]: Level) => ({ interval, retention, logMultiple: null });
  return { levels: [level(l1), level(l2), level(l3)], minDeltaTime, minDeltaValue };
}
const EVERY = config([0, 1]);

const ref = (dsn: string, name: string, block = 'device', blockIndex = 0): DatapointRef => ({ dsn, block, blockIndex, name });

// ---- fake stores ----------------------------------------------------------------------------------

interface Calls {
  registerDatapoints: Array<{ oemId: string; refs: DatapointRef[]; now: number }>;
  getDevices: Array<{ oemId: string; dsns: string[] }>;
  updateDevice: Array<{ oemId: string; dsn: string; change: DeviceChange }>;
  putValues: Array<{ oemId: string; entries: LoggedEntry[] }>;
  loggerStates: Array<{ oemId: string; refs: DatapointRef[] }>;
  /** Every call's name, in the order made. */
  order: string[];
}

/**
 * A registry and a value store in memory. Datapoints are created on registration with the
 * configuration `configs` gives for them (default: none configured); devices keep what
 * `updateDevice` sets, newest event time winning, as the real store does.
 */
function fakeStores(options: {
  configs?: Record<string, LogConfig>;
  devices?: Record<string, Omit<DeviceRecord, 'dsn'>>;
  failPutValues?: number;
} = {}) {
  const calls: Calls = { registerDatapoints: [], getDevices: [], updateDevice: [], putValues: [], loggerStates: [], order: [] };
  const datapoints = new Map<string, DatapointRecord>();
  const devices = new Map<string, DeviceRecord & { at: Partial<Record<'state' | 'health' | 'timeZone', number>> }>(
    Object.entries(options.devices ?? {}).map(([dsn, d]) => [dsn, { dsn, ...d, at: {} }]),
  );
  const stored = new Map<string, StoredValue>();
  /** The state the latest value of each datapoint carries, as the value store keeps it. */
  const latest = new Map<string, { sequence: number; state?: LoggerState }>();
  let nextId = 100;
  let putFailures = options.failPutValues ?? 0;

  const registry = {
    async registerDatapoints(oemId: string, refs: readonly DatapointRef[], now: number) {
      calls.order.push('registerDatapoints');
      calls.registerDatapoints.push({ oemId, refs: [...refs], now });
      const out = new Map<string, DatapointRecord>();
      for (const r of refs) {
        let record = datapoints.get(refId(r));
        if (!record) {
          record = { ...r, id: ++nextId, registeredAt: now, config: options.configs?.[r.name] ?? DEFAULT_CONFIG };
          datapoints.set(refId(r), record);
        }
        out.set(refId(r), structuredClone(record));
      }
      return out;
    },
    async getDevices(oemId: string, dsns: readonly string[]) {
      calls.order.push('getDevices');
      calls.getDevices.push({ oemId, dsns: [...dsns] });
      return new Map(dsns.map((dsn) => {
        const d = devices.get(dsn);
        const record: DeviceRecord = d
          ? { dsn, state: d.state, health: d.health, ...(d.timeZone ? { timeZone: d.timeZone } : {}) }
          : { dsn, state: 'provisioned', health: 'normal' };
        return [dsn, record];
      }));
    },
    async updateDevice(oemId: string, dsn: string, change: DeviceChange) {
      calls.order.push('updateDevice');
      calls.updateDevice.push({ oemId, dsn, change: structuredClone(change) });
      const d = devices.get(dsn) ?? { dsn, state: 'provisioned' as const, health: 'normal' as const, at: {} };
      if (change.state && (d.at.state ?? -Infinity) <= change.state.at) (d.state = change.state.value), (d.at.state = change.state.at);
      if (change.health && (d.at.health ?? -Infinity) <= change.health.at) (d.health = change.health.value), (d.at.health = change.health.at);
      if (change.timeZone && (d.at.timeZone ?? -Infinity) <= change.timeZone.at) (d.timeZone = change.timeZone.value), (d.at.timeZone = change.timeZone.at);
      devices.set(dsn, d);
    },
  };
  const values = {
    async putValues(oemId: string, entries: readonly LoggedEntry[]) {
      calls.order.push('putValues');
      calls.putValues.push({ oemId, entries: structuredClone([...entries]) });
      // DynamoDB refuses the whole BatchWriteItem when one item holds a number it cannot store.
      for (const { value } of entries) {
        if (!dynamoCanStore(value.value)) throw Object.assign(new Error('Number overflow/underflow'), { name: 'ValidationException' });
      }
      if (putFailures > 0) {
        putFailures--;
        throw new Error('ProvisionedThroughputExceededException');
      }
      for (const { ref: r, value, state } of entries) {
        stored.set(`${refId(r)}|${value.at}|${value.sequence}`, structuredClone(value));
        if ((latest.get(refId(r))?.sequence ?? 0) <= value.sequence) latest.set(refId(r), { sequence: value.sequence, ...(state ? { state: structuredClone(state) } : {}) });
      }
    },
    async loggerStates(oemId: string, refs: readonly DatapointRef[]) {
      calls.order.push('loggerStates');
      calls.loggerStates.push({ oemId, refs: [...refs] });
      const out = new Map<string, LoggerState>();
      for (const r of refs) {
        const state = latest.get(refId(r))?.state;
        if (state) out.set(refId(r), structuredClone(state));
      }
      return out;
    },
  };
  const stores = { registry: registry as unknown as DatapointRegistry, values: values as unknown as ValueLog };
  const reset = () => {
    for (const list of Object.values(calls)) (list as unknown[]).length = 0;
  };
  return { stores, calls, datapoints, devices, stored, reset };
}

/** What DynamoDB stores as a number: finite, 0 or a magnitude from 1E-130 to below 1E+126; structures checked throughout. */
function dynamoCanStore(value: unknown): boolean {
  if (typeof value === 'number') return value === 0 || (Number.isFinite(value) && Math.abs(value) >= 1e-130 && Math.abs(value) < 1e126);
  if (value !== null && typeof value === 'object') return Object.values(value).every(dynamoCanStore);
  return true;
}

const NOW = T0 + 2 * 3600 * S;
const written = (calls: Calls) => calls.putValues.flatMap((c) => c.entries);
/** The state each datapoint's last written value carries, by datapoint name@dsn. */
const carried = (calls: Calls) => new Map(written(calls).map((e) => [refId(e.ref), e.state]));

// ---- tests ----------------------------------------------------------------------------------------

describe('logOemBatch: reads and writes', () => {
  const DSNS = ['D1', 'D2'];
  const NAMES = ['a', 'b'];
  // N = 3 updates of each of D = 4 datapoints (2 devices × 2 names), interleaved in stream order.
  const events = [0, 1, 2].flatMap((i) => DSNS.flatMap((dsn) => NAMES.map((name) => update(dsn, name, i * 10 + name.charCodeAt(0), T0 + i * S))));

  it('reads the datapoints, their states and the devices once, writes one item per logged value (the state on the latest)', async () => {
    const { stores, calls, datapoints } = fakeStores({ configs: { a: EVERY, b: EVERY } });
    const outcome = await logOemBatch(OEM, batch(...events), stores, NOW);

    expect(calls.registerDatapoints).toHaveLength(1);
    expect(calls.registerDatapoints[0]!.oemId).toBe(OEM);
    expect(calls.registerDatapoints[0]!.now).toBe(NOW);
    expect(calls.registerDatapoints[0]!.refs.map(refId).sort()).toEqual(DSNS.flatMap((d) => NAMES.map((n) => refId(ref(d, n)))).sort());
    expect(calls.getDevices).toEqual([{ oemId: OEM, dsns: expect.arrayContaining(DSNS) }]);
    expect(new Set(calls.getDevices[0]!.dsns)).toEqual(new Set(DSNS));
    expect(calls.updateDevice).toEqual([]); // no device facts in the batch

    expect(calls.putValues.every((c) => c.oemId === OEM)).toBe(true);
    const entries = written(calls);
    expect(entries).toHaveLength(12);
    expect(calls.loggerStates).toHaveLength(1);
    expect(calls.loggerStates[0]!.refs.map(refId).sort()).toEqual(DSNS.flatMap((d) => NAMES.map((n) => refId(ref(d, n)))).sort());
    expect(entries.every((e) => e.state !== undefined)).toBe(true);
    expect(outcome).toEqual({ datapoints: 4, devices: 0, logged: 12, skipped: 0, rejected: 0, tooLarge: 0, rejections: [] });

    // Every value as the rules make it: sequence 1..3 per datapoint, id = datapoint id × 10⁹ + sequence,
    // TTL the end of its level's retention in epoch seconds.
    for (const dsn of DSNS) {
      for (const name of NAMES) {
        const record = datapoints.get(refId(ref(dsn, name)))!;
        const mine = entries.filter((e) => refId(e.ref) === refId(ref(dsn, name))).map((e) => e.value);
        expect(mine).toEqual([0, 1, 2].map((i) => ({
          id: valueId(record.id, i + 1),
          sequence: i + 1,
          at: T0 + i * S,
          value: i * 10 + name.charCodeAt(0),
          levels: [1],
          deviceState: 'provisioned',
          deviceHealth: 'normal',
          expiresAt: Math.ceil((T0 + i * S + DAY) / 1000),
          loggedAt: NOW,
        })));
        const state = carried(calls).get(refId(ref(dsn, name)));
        expect(state).toMatchObject({ lastEventAt: T0 + 2 * S, lastLoggedAt: T0 + 2 * S, lastLoggedValue: 20 + name.charCodeAt(0), logged: 3 });
      }
    }
    // The state has no write of its own: the values are the only writes (no device facts here).
    expect(calls.order.filter((c) => c === 'putValues')).toHaveLength(1);
  });

  it('writes no value and no state when the batch changes nothing (the same batch delivered again)', async () => {
    const { stores, calls, reset } = fakeStores({ configs: { a: EVERY, b: EVERY } });
    await logOemBatch(OEM, batch(...events), stores, NOW);
    reset();
    const outcome = await logOemBatch(OEM, batch(...events), stores, NOW + S);
    expect(written(calls)).toEqual([]);
    expect(calls.registerDatapoints).toHaveLength(1);
    expect(calls.getDevices).toHaveLength(1);
    expect(outcome).toEqual({ datapoints: 4, devices: 0, logged: 0, skipped: 12, rejected: 0, tooLarge: 0, rejections: [] });
  });

  it('continues a datapoint\'s sequence across batches and writes nothing for updates that log nothing', async () => {
    const { stores, calls, datapoints, reset } = fakeStores({ configs: { a: EVERY, b: config([0, 1], OFF, OFF, 'any') } });
    await logOemBatch(OEM, batch(update('D1', 'a', 1, T0), update('D1', 'b', 1, T0)), stores, NOW);
    reset();
    // a: a new update (logged as #2); b: the same value again under `any` (not logged, but decided: state moves);
    // c: a datapoint not configured (nothing logged, state moves); D2's a: not in this batch at all.
    await logOemBatch(OEM, batch(update('D1', 'a', 2, T0 + S), update('D1', 'b', 1, T0 + S), update('D1', 'c', 5, T0 + S)), stores, NOW);
    const a = datapoints.get(refId(ref('D1', 'a')))!;
    expect(written(calls).map((e) => [e.ref.name, e.value.id, e.value.sequence])).toEqual([['a', valueId(a.id, 2), 2]]);
    expect(carried(calls).get(refId(ref('D1', 'a')))).toMatchObject({ lastEventAt: T0 + S, lastLoggedAt: T0 + S, logged: 2 });
    // c is not configured: its state is not even read.
    expect(calls.loggerStates.flatMap((c) => c.refs).map((r) => r.name).sort()).toEqual(['a', 'b']);

    // Once more, with only an update older than the last logged: out of order, nothing changes.
    reset();
    await logOemBatch(OEM, batch(update('D1', 'a', 9, T0 + S / 2)), stores, NOW);
    expect(written(calls)).toEqual([]);
  });

  it('tags each value with the levels that took it, and sets the TTL from the longest of them', async () => {
    // Level 3 (12 hours) takes every update but never outlasts level 1 (a day): the TTL is the longest.
    const { stores, calls } = fakeStores({ configs: { a: config([0, 1], [10, 30], [0, 0.5]) } });
    await logOemBatch(OEM, batch(update('D1', 'a', 1, T0), update('D1', 'a', 2, T0 + 5 * S), update('D1', 'a', 3, T0 + 10 * S)), stores, NOW);
    expect(written(calls).map((e) => [e.value.at, e.value.levels, e.value.expiresAt])).toEqual([
      [T0, [1, 2, 3], Math.ceil((T0 + 30 * DAY) / 1000)],
      [T0 + 5 * S, [1, 3], Math.ceil((T0 + 5 * S + DAY) / 1000)],
      [T0 + 10 * S, [1, 2, 3], Math.ceil((T0 + 10 * S + 30 * DAY) / 1000)],
    ]);
  });

  it('takes the event time from updated_at, else created_at', async () => {
    const { stores, calls } = fakeStores({ configs: { a: EVERY } });
    const e = update('D1', 'a', 1, T0) as DeviceEvent & { datapoint: Record<string, unknown> };
    const noUpdatedAt = valid({ ...e, datapoint: { ...e.datapoint, updated_at: null, created_at: iso(T0 + 7 * S) } });
    await logOemBatch(OEM, batch(noUpdatedAt), stores, NOW);
    expect(written(calls).map((x) => x.value.at)).toEqual([T0 + 7 * S]);
  });
});

describe('logOemBatch: the device as it was when each value was logged', () => {
  it('applies a registration, connectivity or location event in the batch to the values after it in time only', async () => {
    const { stores, calls } = fakeStores({
      configs: { a: EVERY },
      devices: { D1: { state: 'provisioned', health: 'suspect', timeZone: 'Europe/Kirov' } },
    });
    await logOemBatch(OEM, batch(
      update('D1', 'a', 1, T0),
      connectivity('D1', 'Offline', T0 + 1 * S),
      update('D1', 'a', 2, T0 + 2 * S),
      registration('D1', false, T0 + 3 * S),
      update('D1', 'a', 3, T0 + 4 * S),
      location('D1', 'America/New_York', T0 + 5 * S),
      update('D1', 'a', 4, T0 + 6 * S),
      connectivity('D1', 'Online', T0 + 7 * S),
      registration('D1', true, T0 + 8 * S), // registered: no unregistered_at, so its time is the arrival
      update('D1', 'a', 5, T0 + 9 * S),
    ), stores, NOW);
    const facts = written(calls).map((e) => [e.value.value, e.value.deviceState, e.value.deviceHealth, e.value.timeZone]);
    expect(facts).toEqual([
      [1, 'provisioned', 'suspect', 'Europe/Kirov'],
      [2, 'provisioned', 'down', 'Europe/Kirov'],
      [3, 'unprovisioned', 'down', 'Europe/Kirov'],
      [4, 'unprovisioned', 'down', 'America/New_York'],
      // The re-registration's time is its arrival (an hour later): not yet in effect at T0 + 9 s.
      [5, 'unprovisioned', 'normal', 'America/New_York'],
    ]);
    // The device's latest facts are stored once for the device.
    expect(calls.updateDevice).toEqual([{
      oemId: OEM,
      dsn: 'D1',
      change: {
        state: { value: 'provisioned', at: T0 + 3600 * S },
        health: { value: 'normal', at: T0 + 7 * S },
        timeZone: { value: 'America/New_York', at: T0 + 5 * S },
      },
    }]);
  });

  it('orders facts by event time, not by their place in the stream', async () => {
    const { stores, calls } = fakeStores({ configs: { a: EVERY } });
    // The Offline event comes last in the stream but happened between the two updates.
    await logOemBatch(OEM, batch(update('D1', 'a', 1, T0), update('D1', 'a', 2, T0 + 2 * S), connectivity('D1', 'Offline', T0 + S)), stores, NOW);
    expect(written(calls).map((e) => e.value.deviceHealth)).toEqual(['normal', 'down']);
  });

  it('keeps devices apart: a fact about one device does not touch another\'s values', async () => {
    const { stores, calls } = fakeStores({ configs: { a: EVERY } });
    await logOemBatch(OEM, batch(connectivity('D1', 'Offline', T0), update('D1', 'a', 1, T0 + S), update('D2', 'a', 1, T0 + S)), stores, NOW);
    expect(written(calls).map((e) => [e.ref.dsn, e.value.deviceHealth, e.value.timeZone])).toEqual([['D1', 'down', undefined], ['D2', 'normal', undefined]]);
    expect(calls.getDevices).toHaveLength(1);
  });

  // Regression test (fixed; the bug was in lambdas/datapoint-logs/logger.ts:69-70): the batch's device facts are stored (updateDevice)
  // BEFORE the values are written. When putValues then fails and the batch is retried, getDevices
  // returns the device as it is AFTER the whole batch, and deviceAt() replays the batch's facts on top
  // of it, so a value logged before a fact gets the fact's state: the retry writes different values
  // (here deviceHealth "down" for an update made while the device was "normal"), although the module
  // promises "a retry after a failure in between writes the same items".
  it('writes the same values when the batch is retried after a failed value write (device facts included)', async () => {
    const { stores, calls } = fakeStores({ configs: { a: EVERY }, failPutValues: 1 });
    const events = batch(update('D1', 'a', 1, T0), connectivity('D1', 'Offline', T0 + S), update('D1', 'a', 2, T0 + 2 * S));
    await expect(logOemBatch(OEM, events, stores, NOW)).rejects.toThrow('ProvisionedThroughputExceededException');
    await logOemBatch(OEM, events, stores, NOW); // the retry
    const [first, retry] = calls.putValues.map((c) => c.entries.map((e) => [e.value.value, e.value.deviceHealth]));
    expect(first).toEqual([[1, 'normal'], [2, 'down']]);
    expect(retry).toEqual(first);
  });
});

describe('logOemBatch: datapoints whose key cannot be stored', () => {
  it('rejects their updates (key-too-long) and logs the rest of the batch', async () => {
    const long = ref('D1', '#'.repeat(256), '%'.repeat(100));
    expect(datapointKeyFits(long)).toBe(false);
    const { stores, calls } = fakeStores({ configs: { a: EVERY, [long.name]: EVERY } });
    const outcome = await logOemBatch(OEM, batch(
      update('D1', long.name, 1, T0, { block: long.block }),
      update('D1', 'a', 1, T0),
      update('D1', long.name, 2, T0 + S, { block: long.block }),
      update('D1', 'a', 2, T0 + S),
    ), stores, NOW);
    expect(calls.registerDatapoints).toHaveLength(1);
    expect(calls.registerDatapoints[0]!.refs).toEqual([ref('D1', 'a')]);
    expect(written(calls).map((e) => [e.ref.name, e.value.value])).toEqual([['a', 1], ['a', 2]]);
    expect(calls.loggerStates.flatMap((c) => c.refs).map((r) => r.name)).toEqual(['a']);
    expect(outcome).toMatchObject({ datapoints: 2, devices: 0, logged: 2, skipped: 0, rejected: 2 });
    expect(outcome.rejections.map((r) => [r.ref.name, r.reason])).toEqual([[long.name, 'key-too-long'], [long.name, 'key-too-long']]);
  });

  it('also rejects names that are short in characters but long in UTF-8 bytes', async () => {
    const name = '€'.repeat(256); // 3 bytes each: the name key alone is over 768 bytes, with the block over 1,024
    const block = 'é'.repeat(200);
    expect(datapointKeyFits(ref('D1', name, block))).toBe(false);
    const { stores, calls } = fakeStores({ configs: { a: EVERY, [name]: EVERY } });
    const outcome = await logOemBatch(OEM, batch(update('D1', name, 1, T0, { block }), update('D1', 'a', 1, T0)), stores, NOW);
    expect(written(calls).map((e) => e.ref.name)).toEqual(['a']);
    expect(outcome.rejected).toBe(1);
  });
});

describe('logOemBatch: nothing to log', () => {
  // Regression test: every update of a datapoint nobody configured rewrote its logger state (lastEventAt),
  // on an item the name index projected in full: 1.49 WRU per event for nothing logged.
  it('registers datapoints of an unconfigured OEM and then writes nothing, batch after batch: no state, no value', async () => {
    const { stores, calls, reset } = fakeStores();
    const first = await logOemBatch(OEM, batch(update('D1', 'a', 1, T0), update('D1', 'a', 2, T0 + S)), stores, NOW);
    expect(first).toEqual({ datapoints: 1, devices: 0, logged: 0, skipped: 2, rejected: 0, tooLarge: 0, rejections: [] });
    for (let i = 2; i < 5; i++) {
      reset();
      await logOemBatch(OEM, batch(update('D1', 'a', i, T0 + i * S)), stores, NOW);
      expect(calls.order).toEqual(['registerDatapoints']); // registration looks the datapoint up; it exists: nothing else
    }
    expect(written(calls)).toEqual([]);
  });

  it('handles a batch with only device facts: no datapoint read beyond the empty registration, no value', async () => {
    const { stores, calls } = fakeStores();
    const outcome = await logOemBatch(OEM, batch(connectivity('D1', 'Offline', T0)), stores, NOW);
    expect(written(calls)).toEqual([]);
    expect(calls.loggerStates).toEqual([]);
    expect(calls.updateDevice).toHaveLength(1);
    expect(outcome).toEqual({ datapoints: 0, devices: 1, logged: 0, skipped: 0, rejected: 0, tooLarge: 0, rejections: [] });
  });
});

describe('logOemBatch: values DynamoDB cannot store', () => {
  // Regression test: an update whose number DynamoDB refuses (5e-324 underflows, 1e400 parses as
  // Infinity) was written in the same BatchWriteItem as the good ones: DynamoDB refused the whole
  // request, the OEM's batch failed on every retry and was discarded: none of the good values was logged.
  it('rejects each such update with a reason, logs the others, and does not fail the batch', async () => {
    const { stores, calls } = fakeStores({ configs: { a: EVERY, b: EVERY } });
    const tooSmall = update('D1', 'a', 5e-324, T0 + 2 * S, { id: 'tiny' });
    // JSON.parse reads 1e400 as Infinity; the stream's schema may refuse it first, the logger does not rely on that.
    const finite = update('D1', 'b', 0, T0 + 2 * S, { id: 'huge' }) as DeviceEvent & { datapoint: Record<string, unknown> };
    const infinite = { ...finite, datapoint: { ...finite.datapoint, value: Infinity } } as DeviceEvent;
    const events = batch(
      update('D1', 'a', 1, T0), update('D1', 'a', 2, T0 + S), tooSmall, update('D1', 'a', 3, T0 + 3 * S), update('D1', 'a', 4, T0 + 4 * S),
      update('D1', 'b', 1e-131, T0 + S), infinite, update('D1', 'b', -1e126, T0 + 3 * S), update('D1', 'b', 9.99e125, T0 + 4 * S), update('D1', 'b', -0, T0 + 5 * S),
    );
    const outcome = await logOemBatch(OEM, events, stores, NOW);
    expect(written(calls).filter((e) => e.ref.name === 'a').map((e) => e.value.value)).toEqual([1, 2, 3, 4]);
    expect(written(calls).filter((e) => e.ref.name === 'b').map((e) => e.value.value)).toEqual([9.99e125, -0]);
    // Sequences stay dense: a rejected update takes no place in the log.
    expect(written(calls).filter((e) => e.ref.name === 'a').map((e) => e.value.sequence)).toEqual([1, 2, 3, 4]);
    expect(outcome).toMatchObject({ logged: 6, skipped: 0, rejected: 4 });
    expect(outcome.rejections).toEqual([
      { ref: ref('D1', 'a'), eventId: 'tiny', reason: 'number-out-of-range' },
      { ref: ref('D1', 'b'), eventId: expect.any(String), reason: 'number-out-of-range' },
      { ref: ref('D1', 'b'), eventId: 'huge', reason: 'number-out-of-range' },
      { ref: ref('D1', 'b'), eventId: expect.any(String), reason: 'number-out-of-range' },
    ]);
  });

  it('rejects text that is not well-formed Unicode (a lone surrogate) and values over the size a logged value may have', async () => {
    const { stores, calls } = fakeStores({ configs: { a: EVERY } });
    const outcome = await logOemBatch(OEM, batch(
      update('D1', 'a', 'ok', T0), update('D1', 'a', 'bad \ud800 text', T0 + S), update('D1', 'a', 'x'.repeat(MAX_LOGGED_VALUE_BYTES + 1), T0 + 2 * S),
      update('D1', 'a', 'fine', T0 + 3 * S),
    ), stores, NOW);
    expect(written(calls).map((e) => e.value.value)).toEqual(['ok', 'fine']);
    expect(outcome.rejections.map((r) => r.reason)).toEqual(['invalid-unicode', 'value-too-large']);
  });

  it('remembers event ids of any length in a bounded form, so the logger state always fits an item', async () => {
    const { stores, calls } = fakeStores({ configs: { a: EVERY } });
    const longIds = Array.from({ length: 100 }, (_, i) => update('D1', 'a', i, T0, { id: `${i}-${'i'.repeat(4000)}` }));
    await logOemBatch(OEM, batch(...longIds), stores, NOW);
    const state = carried(calls).get(refId(ref('D1', 'a')))!;
    expect(state.lastEventIds).toHaveLength(100);
    expect(Buffer.byteLength(JSON.stringify(state))).toBeLessThan(10_000);
    // The same events again are still duplicates.
    const again = await logOemBatch(OEM, batch(...longIds), stores, NOW);
    expect(again.logged).toBe(0);
  });
});

describe('logOemBatch: structured values', () => {
  const seedValue = { state: 1, value: 100 };

  it('logs objects and lists as sent, compares them by canonical JSON under `any`', async () => {
    const { stores, calls } = fakeStores({ configs: { a: config([0, 1], OFF, OFF, 'any') } });
    const outcome = await logOemBatch(OEM, batch(
      update('D1', 'a', seedValue, T0),
      update('D1', 'a', { value: 100, state: 1 }, T0 + S), // the same object, keys in another order: not logged
      update('D1', 'a', { state: 2, value: 100 }, T0 + 2 * S),
      update('D1', 'a', [1, { x: [true, null] }], T0 + 3 * S),
    ), stores, NOW);
    expect(written(calls).map((e) => e.value.value)).toEqual([seedValue, { state: 2, value: 100 }, [1, { x: [true, null] }]]);
    expect(outcome).toMatchObject({ logged: 3, skipped: 1, rejected: 0 });
  });

  it('never logs a structured value under a numeric minDeltaValue, which measures numeric change only', async () => {
    const { stores, calls } = fakeStores({ configs: { a: config([0, 1], OFF, OFF, 5) } });
    await logOemBatch(OEM, batch(update('D1', 'a', seedValue, T0), update('D1', 'a', 10, T0 + S), update('D1', 'a', { state: 9 }, T0 + 2 * S), update('D1', 'a', 20, T0 + 3 * S)), stores, NOW);
    expect(written(calls).map((e) => e.value.value)).toEqual([10, 20]);
  });

  it('rejects a structured value holding a number DynamoDB cannot store', async () => {
    const { stores, calls } = fakeStores({ configs: { a: EVERY } });
    const outcome = await logOemBatch(OEM, batch(update('D1', 'a', { v: [1, 5e-324] }, T0), update('D1', 'a', { v: [1, 2] }, T0 + S)), stores, NOW);
    expect(written(calls).map((e) => e.value.value)).toEqual([{ v: [1, 2] }]);
    expect(outcome.rejections.map((r) => r.reason)).toEqual(['number-out-of-range']);
  });
});
