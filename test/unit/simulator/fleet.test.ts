import {
  BODY_KEY,
  createFleet,
  type DeviceEvent,
  EventIds,
  EVENT_TYPES,
  type EventType,
  formatTimestamp,
  generateEvents,
  isEventType,
  MODEL_NAMES,
  mulberry32,
  NULL_UUID,
} from '../../../tools/simulator/fleet';

/** Keys of the seed's export tables (000_a4c3ebc6970127ea.txt), in table order. */
const SEED_COLUMNS: Record<EventType, readonly string[]> = {
  connectivity: ['oem_id', 'oem_model', 'dsn', 'resource_tags', 'event_type', 'event_time', 'user_uuid', 'status'],
  datapoint: [
    'oem_id', 'oem_model', 'dsn', 'property_name', 'display_name', 'base_type', 'resource_tags', 'event_type', 'id',
    'created_at_from_device', 'updated_at', 'created_at', 'user_uuid', 'echo', 'closed', 'value', 'metadata',
  ],
  datapointack: [
    'ack_id', 'ack_message', 'ack_status', 'acked_at', 'base_type', 'closed', 'created_at_from_device', 'created_at',
    'display_name', 'dsn', 'echo', 'event_type', 'id', 'metadata', 'oem_id', 'oem_model', 'property_name',
    'resource_tags', 'updated_at', 'user_uuid', 'value',
  ],
  location: ['created_at', 'dsn', 'event_type', 'ip', 'lat', 'long', 'oem_id', 'oem_model', 'provider', 'resource_tags', 'user_uuid'],
  registration: ['dsn', 'event_type', 'oem_id', 'oem_model', 'registered', 'registration_type', 'resource_tags', 'unregistered_at', 'user_uuid'],
};

/** Optional placement keys of `metadata` that are not export columns (DESIGN.md §3). */
const PLACEMENT_KEYS = new Set(['block', 'block_index']);

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const START = new Date(Date.UTC(2018, 8, 24, 10, 25, 14, 734));

function asRecord(value: unknown): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`not an object: ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

/** Event as it travels on the stream (JSON round trip), as a plain record. */
function wire(event: DeviceEvent): Record<string, unknown> {
  return asRecord(JSON.parse(JSON.stringify(event)));
}

function body(event: DeviceEvent): Record<string, unknown> {
  return asRecord(wire(event)[BODY_KEY[event.metadata.event_type]]);
}

/** Flattened the way DESIGN.md §4 describes: metadata keys (minus block placement) + body keys. */
function flatten(event: DeviceEvent): Record<string, unknown> {
  const w = wire(event);
  const meta = asRecord(w.metadata);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) if (!PLACEMENT_KEYS.has(k)) out[k] = v;
  for (const [k, v] of Object.entries(body(event))) {
    if (k in out) throw new Error(`key ${k} in both metadata and body`);
    out[k] = v;
  }
  return out;
}

function isTimestamp(value: unknown): boolean {
  return typeof value === 'string' && TIMESTAMP.test(value) && Number.isFinite(Date.parse(value));
}

describe('fleet', () => {
  const events = generateEvents({ oems: 3, devicesPerOem: 6, seed: 7, count: 5000, start: START, intervalMs: 250 });
  const byType = (t: EventType) => events.filter((e) => e.metadata.event_type === t);

  test('every event has exactly the top-level keys seq, metadata and its body key', () => {
    for (const e of events) {
      expect(Object.keys(wire(e)).sort()).toEqual(['metadata', BODY_KEY[e.metadata.event_type], 'seq'].sort());
      expect(typeof e.seq).toBe('string');
    }
  });

  test.each(EVENT_TYPES)('%s events flatten to exactly the keys of the seed table', (type) => {
    const list = byType(type);
    expect(list.length).toBeGreaterThan(0);
    for (const e of list) {
      expect(Object.keys(flatten(e)).sort()).toEqual([...SEED_COLUMNS[type]].sort());
      expect(e.metadata.event_type).toBe(type);
    }
  });

  test('metadata carries only common keys, property keys and optional block placement', () => {
    const placed = events.filter((e) => 'block' in e.metadata);
    expect(placed.length).toBeGreaterThan(0);
    for (const e of placed) {
      const meta = asRecord(wire(e).metadata);
      expect(['datapoint', 'datapointack']).toContain(e.metadata.event_type);
      expect(typeof meta.block).toBe('string');
      expect(meta.block).not.toBe('');
      expect(Number.isInteger(meta.block_index)).toBe(true);
      expect(meta.block_index as number).toBeGreaterThanOrEqual(0);
    }
    // Some datapoints use the default block (no placement keys), and one property name can live in two block indices.
    expect(byType('datapoint').some((e) => !('block' in e.metadata))).toBe(true);
    const indicesByName = new Map<string, Set<number>>();
    for (const e of placed) {
      const meta = asRecord(wire(e).metadata);
      const key = `${e.metadata.dsn}/${String(meta.block)}/${String(meta.property_name)}`;
      indicesByName.set(key, (indicesByName.get(key) ?? new Set()).add(meta.block_index as number));
    }
    expect([...indicesByName.values()].some((s) => s.size > 1)).toBe(true);
  });

  test('resource_tags are string lists, mostly empty, sometimes not', () => {
    for (const e of events) {
      expect(Array.isArray(e.metadata.resource_tags)).toBe(true);
      for (const tag of e.metadata.resource_tags) expect(typeof tag).toBe('string');
    }
    expect(events.some((e) => e.metadata.resource_tags.length === 0)).toBe(true);
    expect(events.some((e) => e.metadata.resource_tags.length > 0)).toBe(true);
  });

  test('timestamps are UTC, seconds precision, from now', () => {
    let now = START.getTime();
    const fleet = createFleet({ oems: 2, devicesPerOem: 4, seed: 3 });
    for (let i = 0; i < 3000; i++) {
      now += 700;
      const at = new Date(now);
      const e = fleet.nextEvent(at);
      const stamp = formatTimestamp(at);
      const b = body(e);
      for (const [key, value] of Object.entries(flatten(e))) {
        if (/(_at|_time)$/.test(key) || key === 'created_at_from_device') {
          if (value !== null) {
            expect(isTimestamp(value)).toBe(true);
            expect(Date.parse(value as string)).toBeLessThanOrEqual(now);
            expect(Date.parse(value as string)).toBeGreaterThan(now - 10_000);
          }
        }
      }
      switch (e.metadata.event_type) {
        case 'datapoint':
          expect(b.updated_at).toBe(stamp);
          expect(b.created_at).toBe(stamp);
          expect(b.created_at_from_device === null || isTimestamp(b.created_at_from_device)).toBe(true);
          break;
        case 'datapointack':
          expect(b.acked_at).toBe(stamp);
          expect(Date.parse(b.created_at as string)).toBeLessThanOrEqual(Date.parse(stamp));
          expect(b.created_at_from_device).toBeNull();
          break;
        case 'connectivity':
          expect(b.event_time).toBe(stamp);
          break;
        case 'location':
          expect(b.created_at).toBe(stamp);
          break;
        case 'registration':
          expect(b.unregistered_at).toBe(b.registered ? null : stamp);
          break;
      }
    }
    expect(formatTimestamp(new Date('2018-09-24T10:25:14.999Z'))).toBe('2018-09-24T10:25:14Z');
    expect(() => formatTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });

  test('same seed, same events; another seed, other events', () => {
    const a = generateEvents({ oems: 2, devicesPerOem: 3, seed: 42, count: 800, start: START });
    const b = generateEvents({ oems: 2, devicesPerOem: 3, seed: 42, count: 800, start: START });
    const c = generateEvents({ oems: 2, devicesPerOem: 3, seed: 43, count: 800, start: START });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
    const f1 = createFleet({ oems: ['1234abcd'], devicesPerOem: 4, seed: 9 });
    const f2 = createFleet({ oems: ['1234abcd'], devicesPerOem: 4, seed: 9 });
    expect(f1.devices.map((d) => d.dsn)).toEqual(f2.devices.map((d) => d.dsn));
    const r1 = mulberry32(5);
    const r2 = mulberry32(5);
    for (let i = 0; i < 10; i++) expect(r1()).toBe(r2());
  });

  test('event ids are unique within a run and never repeat in another run with the same seed', () => {
    const idsOf = (events: readonly DeviceEvent[]) =>
      events.flatMap((e) =>
        'datapoint' in e ? [e.datapoint.id] : 'datapointack' in e ? [e.datapointack.id, e.datapointack.ack_id] : [],
      );
    // Same seed and the very same timestamps (every event in one millisecond): only the run id differs.
    const run = (runId: string) => generateEvents({ oems: 2, devicesPerOem: 3, seed: 1, count: 2000, start: START, intervalMs: 0, runId });
    const first = idsOf(run('run-1'));
    const restart = idsOf(run('run-2'));
    expect(first.length).toBeGreaterThan(1500);
    expect(new Set(first).size).toBe(first.length);
    const shared = restart.filter((id) => new Set(first).has(id));
    expect(shared).toEqual([]);
    // The same run id gives the same ids (reproducible), in the time-based layout Ayla's ids have.
    expect(idsOf(run('run-1'))).toEqual(first);
    for (const id of first) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test('event ids carry the event time (version 1 timestamp)', () => {
    const ids = new EventIds('r');
    const id = ids.next(new Date('2018-09-24T10:25:14Z'));
    const [low, mid, high] = id.split('-') as [string, string, string];
    const ticks = BigInt(`0x${high.slice(1)}${mid}${low}`);
    expect(Number((ticks - 122_192_928_000_000_000n) / 10_000n)).toBe(Date.parse('2018-09-24T10:25:14Z'));
  });

  test('the mix has all five types, mostly datapoints, then acks, registration rare', () => {
    const counts = Object.fromEntries(EVENT_TYPES.map((t) => [t, byType(t).length])) as Record<EventType, number>;
    for (const t of EVENT_TYPES) expect(counts[t]).toBeGreaterThan(0);
    expect(counts.datapoint).toBeGreaterThan(events.length * 0.6);
    expect(counts.datapointack).toBeGreaterThan(counts.connectivity);
    expect(counts.datapointack).toBeLessThan(counts.datapoint);
    expect(counts.connectivity).toBeGreaterThan(counts.registration);
    expect(counts.location).toBeGreaterThan(counts.registration);
    expect(counts.registration).toBeLessThan(events.length * 0.05);
  });

  test('DSNs are unique per device, ids and models look right', () => {
    const fleet = createFleet({ oems: 5, devicesPerOem: 40, seed: 11 });
    const dsns = fleet.devices.map((d) => d.dsn);
    expect(dsns).toHaveLength(200);
    expect(new Set(dsns).size).toBe(200);
    for (const d of fleet.devices) {
      expect(d.dsn).toMatch(/^AC000W\d{9}$/);
      expect(MODEL_NAMES).toContain(d.model);
      expect(d.properties.length).toBeGreaterThanOrEqual(5);
    }
    expect(fleet.oems).toHaveLength(5);
    for (const o of fleet.oems) expect(o.oemId).toMatch(/^[0-9a-f]{8}$/);
    expect(new Set(fleet.oems.map((o) => o.oemId)).size).toBe(5);

    const named = createFleet({ oems: ['1234abcd', 'acme-corp'], devicesPerOem: 3, seed: 1 });
    expect(named.oems.map((o) => o.oemId)).toEqual(['1234abcd', 'acme-corp']);
    expect(named.devices.filter((d) => d.oemId === 'acme-corp')).toHaveLength(3);
    // Each property of a device is unique by (block, block_index, name).
    for (const d of named.devices) {
      const keys = d.properties.map((p) => `${p.block}/${p.blockIndex}/${p.name}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  test('events belong to the fleet; seq increases by one per device', () => {
    const fleet = createFleet({ oems: 2, devicesPerOem: 5, seed: 5 });
    const known = new Map(fleet.devices.map((d) => [d.dsn, d]));
    const lastSeq = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const e = fleet.nextEvent(new Date(START.getTime() + i * 1000));
      const device = known.get(e.metadata.dsn);
      expect(device).toBeDefined();
      expect(e.metadata.oem_id).toBe(device?.oemId);
      expect(e.metadata.oem_model).toBe(device?.model);
      expect(e.seq).toMatch(/^[1-9]\d*$/);
      const seq = Number(e.seq);
      expect(seq).toBe((lastSeq.get(e.metadata.dsn) ?? 0) + 1);
      lastSeq.set(e.metadata.dsn, seq);
    }
  });

  test('values fit their base types and change plausibly', () => {
    const datapoints = events.filter((e) => e.metadata.event_type === 'datapoint' || e.metadata.event_type === 'datapointack');
    const seenTypes = new Set<string>();
    const texts: string[] = [];
    const lastValue = new Map<string, number>();
    let numericChanges = 0;
    let bigJumps = 0;
    for (const e of datapoints) {
      const meta = asRecord(wire(e).metadata);
      const b = body(e);
      const baseType = meta.base_type as string;
      seenTypes.add(baseType);
      const value = b.value;
      switch (baseType) {
        case 'boolean':
          expect([0, 1]).toContain(value);
          break;
        case 'integer':
          expect(Number.isInteger(value)).toBe(true);
          break;
        case 'decimal':
          expect(typeof value).toBe('number');
          expect(Math.abs(Math.round((value as number) * 100) - (value as number) * 100)).toBeLessThan(1e-6);
          break;
        case 'float':
          expect(typeof value).toBe('number');
          expect(Number.isFinite(value)).toBe(true);
          break;
        case 'string':
        case 'message':
          expect(typeof value).toBe('string');
          texts.push(value as string);
          break;
        case 'file':
          expect(typeof value).toBe('string');
          expect(new URL(value as string).protocol).toBe('https:');
          break;
        default:
          throw new Error(`unknown base type ${baseType}`);
      }
      expect(typeof meta.display_name).toBe('string');
      expect(b.id).toMatch(UUID);
      expect(typeof b.echo).toBe('boolean');
      expect(b.closed).toBe(false);
      expect(asRecord(b.metadata)).toBeDefined();
      if (baseType === 'float' || baseType === 'decimal') {
        const key = `${e.metadata.dsn}/${String(meta.block)}/${String(meta.block_index)}/${String(meta.property_name)}`;
        const prev = lastValue.get(key);
        if (prev !== undefined) {
          numericChanges++;
          if (Math.abs((value as number) - prev) > 10) bigJumps++;
        }
        lastValue.set(key, value as number);
      }
    }
    expect([...seenTypes].sort()).toEqual(['boolean', 'decimal', 'file', 'float', 'integer', 'message', 'string']);
    // Random walk: consecutive numeric values of one property stay close.
    expect(numericChanges).toBeGreaterThan(50);
    expect(bigJumps).toBe(0);
    // Text an exporter must handle.
    expect(texts.some((t) => /[^\x00-\x7f]/.test(t))).toBe(true);
    expect(texts.some((t) => t.includes(','))).toBe(true);
    expect(texts.some((t) => t.includes('"'))).toBe(true);
    expect(texts.some((t) => t.includes('\n'))).toBe(true);
    expect(texts.some((t) => t === '')).toBe(true);
  });

  test('acks, connectivity, location and registration bodies are plausible', () => {
    for (const e of byType('datapointack')) {
      const b = body(e);
      expect(b.ack_id).toMatch(UUID);
      expect(Number.isInteger(b.ack_message)).toBe(true);
      expect([200, 400, 404, 500]).toContain(b.ack_status);
      expect(b.echo).toBe(false);
      expect(b.user_uuid).toMatch(UUID);
    }
    const statusByDevice = new Map<string, string[]>();
    for (const e of byType('connectivity')) {
      const b = body(e);
      expect(['Online', 'Offline']).toContain(b.status);
      expect(b.user_uuid).toBe(NULL_UUID);
      statusByDevice.set(e.metadata.dsn, [...(statusByDevice.get(e.metadata.dsn) ?? []), b.status as string]);
    }
    // Devices start online, then toggle.
    for (const statuses of statusByDevice.values()) {
      statuses.forEach((s, i) => expect(s).toBe(i % 2 === 0 ? 'Offline' : 'Online'));
    }
    for (const e of byType('location')) {
      const b = body(e);
      expect(b.ip).toMatch(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
      expect(b.lat).toMatch(/^-?\d+\.\d{6}$/);
      expect(b.long).toMatch(/^-?\d+\.\d{6}$/);
      expect(Math.abs(Number(b.lat))).toBeLessThanOrEqual(90);
      expect(Math.abs(Number(b.long))).toBeLessThanOrEqual(180);
      expect(typeof b.provider).toBe('string');
    }
    const registrations = byType('registration').map(body);
    expect(registrations.some((b) => b.registered === true)).toBe(true);
    expect(registrations.some((b) => b.registered === false)).toBe(true);
    for (const b of registrations) {
      expect(['AP-Mode', 'Same-LAN', 'Button-Push', 'Display', 'Dsn', 'Node']).toContain(b.registration_type);
      if (b.registered) {
        expect(b.unregistered_at).toBeNull();
        expect(b.user_uuid).toMatch(UUID);
      } else {
        expect(isTimestamp(b.unregistered_at)).toBe(true);
        expect(b.user_uuid).toBeNull();
      }
    }
  });

  test('datapoints come only from online devices', () => {
    const fleet = createFleet({ oems: 1, devicesPerOem: 3, seed: 21 });
    const online = new Map(fleet.devices.map((d) => [d.dsn, true]));
    for (let i = 0; i < 3000; i++) {
      const e = fleet.nextEvent(new Date(START.getTime() + i * 1000));
      if (isEventType(e, 'connectivity')) online.set(e.metadata.dsn, e.connection.status === 'Online');
      if (e.metadata.event_type === 'datapoint' || e.metadata.event_type === 'datapointack') {
        expect(online.get(e.metadata.dsn)).toBe(true);
      }
    }
  });

  test('bad options are refused', () => {
    expect(() => createFleet({ oems: 0 })).toThrow(RangeError);
    expect(() => createFleet({ oems: [] })).toThrow(RangeError);
    expect(() => createFleet({ oems: ['a', 'a'] })).toThrow(RangeError);
    expect(() => createFleet({ oems: ['bad id'] })).toThrow(RangeError);
    expect(() => createFleet({ devicesPerOem: 0 })).toThrow(RangeError);
    expect(() => createFleet({ seed: Number.NaN })).toThrow(RangeError);
    expect(() => createFleet().nextEvent(new Date(Number.NaN))).toThrow(RangeError);
  });
});
