/**
 * Deterministic simulated fleet of IoT devices (pure: no I/O, no clock, no Math.random).
 *
 * `createFleet({ oems, devicesPerOem, seed })` builds OEMs and devices from a seeded PRNG;
 * `fleet.nextEvent(now)` returns the next device event, stamped from `now`. The same seed, run id and
 * sequence of `now` values always give the same events. Event ids (`datapoint.id`, `ack_id`) are time-based
 * (version 1 layout, as Ayla's are) with the run id in their node field, so two runs never share an id.
 */
import { createHash } from 'node:crypto';
import {
  type BaseType,
  type ConnectivityEvent,
  type DatapointAckEvent,
  type DatapointEvent,
  type DatapointValue,
  DEFAULT_BLOCK,
  DEFAULT_BLOCK_INDEX,
  type DeviceEvent,
  type EventType,
  formatTimestamp,
  isOemId,
  type LocationEvent,
  NULL_UUID,
  type PropertyMetadata,
  type RegistrationEvent,
  type RegistrationType,
} from './events';

export * from './events';

// ---------------------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: small, fast, good enough for simulation. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Maps any number (fractions, negatives, > 2^32) to a 32-bit seed (FNV-1a of its decimal text). */
function seedToUint32(seed: number): number {
  const text = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  private readonly next01: () => number;

  constructor(seed: number) {
    this.next01 = mulberry32(seedToUint32(seed));
  }

  /** Float in [0, 1). */
  float(): number {
    return this.next01();
  }

  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next01() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next01() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty list');
    const item = items[Math.floor(this.next01() * items.length)];
    return item as T;
  }

  /** Picks a key by weight. */
  weighted<K extends string>(weights: readonly (readonly [K, number])[]): K {
    const total = weights.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next01() * total;
    for (const [key, w] of weights) {
      r -= w;
      if (r < 0) return key;
    }
    const last = weights[weights.length - 1];
    if (!last) throw new RangeError('Rng.weighted: empty list');
    return last[0];
  }

  hex(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += Math.floor(this.next01() * 16).toString(16);
    return out;
  }

  digits(length: number): string {
    let out = '';
    for (let i = 0; i < length; i++) out += String(Math.floor(this.next01() * 10));
    return out;
  }

  /** Random (version 4 layout) UUID. */
  uuid(): string {
    const variant = '89ab'.charAt(Math.floor(this.next01() * 4));
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${variant}${this.hex(3)}-${this.hex(12)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Event ids

/** 100-ns intervals between the UUID epoch (1582-10-15) and the Unix epoch. */
const UUID_EPOCH_OFFSET = 122_192_928_000_000_000n;

/**
 * Time-based ids (UUID version 1 layout): the timestamp from the event's `now` (strictly increasing within
 * a run, so a burst in one millisecond still gets distinct ids), the clock sequence and node from a hash of
 * the run id. A restart with the same seed has another run id, so its ids differ from the last run's even
 * where the timestamps meet.
 */
export class EventIds {
  private last = -1n;
  private readonly tail: string;

  constructor(runId: string) {
    const hash = createHash('sha256').update(runId).digest();
    const clockSeq = ((hash[0] ?? 0) << 8 | (hash[1] ?? 0)) & 0x3fff | 0x8000; // RFC 4122 variant
    const node = Buffer.from(hash.subarray(2, 8));
    node[0] = (node[0] ?? 0) | 0x01; // multicast bit: a random node, not a MAC address
    this.tail = `${clockSeq.toString(16).padStart(4, '0')}-${node.toString('hex')}`;
  }

  next(now: Date): string {
    let ticks = BigInt(now.getTime()) * 10_000n + UUID_EPOCH_OFFSET;
    if (ticks <= this.last) ticks = this.last + 1n;
    this.last = ticks;
    const hex = ticks.toString(16).padStart(15, '0');
    return `${hex.slice(7, 15)}-${hex.slice(3, 7)}-1${hex.slice(0, 3)}-${this.tail}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Device models

export type Direction = 'to-device' | 'from-device';

interface PropertyTemplate {
  name: string;
  displayName: string;
  baseType: BaseType;
  direction: Direction;
  block?: string;
  blockIndex?: number;
  /** Range and maximal step of the random walk (numbers). */
  min?: number;
  max?: number;
  step?: number;
}

const MODELS: Readonly<Record<string, readonly PropertyTemplate[]>> = {
  linuxevb: [
    { name: 'Blue_LED', displayName: 'Blue_LED', baseType: 'boolean', direction: 'to-device' },
    { name: 'Green_LED', displayName: 'Green_LED', baseType: 'boolean', direction: 'to-device' },
    { name: 'Blue_button', displayName: 'Blue button', baseType: 'boolean', direction: 'from-device' },
    { name: 'input', displayName: 'input', baseType: 'integer', direction: 'to-device', min: -100, max: 100, step: 5 },
    { name: 'output', displayName: 'output', baseType: 'integer', direction: 'from-device', min: 0, max: 10_000, step: 50 },
    { name: 'decimal_in', displayName: 'decimal_in', baseType: 'decimal', direction: 'to-device', min: -50, max: 50, step: 2.5 },
    { name: 'decimal_out', displayName: 'decimal_out', baseType: 'decimal', direction: 'from-device', min: 0, max: 100, step: 1.5 },
    { name: 'cmd', displayName: 'Command', baseType: 'string', direction: 'to-device' },
    { name: 'log', displayName: 'Log, device', baseType: 'string', direction: 'from-device' },
    { name: 'stream_up', displayName: 'stream_up', baseType: 'file', direction: 'from-device' },
  ],
  ledevb: [
    { name: 'Blue_LED', displayName: 'Blue_LED', baseType: 'boolean', direction: 'to-device' },
    { name: 'Green_LED', displayName: 'Green_LED', baseType: 'boolean', direction: 'to-device' },
    { name: 'Blue_button', displayName: 'Blue button', baseType: 'boolean', direction: 'from-device' },
    { name: 'cmd', displayName: 'Command', baseType: 'string', direction: 'to-device' },
    { name: 'log', displayName: 'Log, device', baseType: 'message', direction: 'from-device' },
    {
      name: 'temperature', displayName: 'Température (zone 1)', baseType: 'float', direction: 'from-device',
      block: 'sensor', blockIndex: 0, min: -20, max: 45, step: 0.8,
    },
    {
      name: 'humidity', displayName: 'Humidité, zone 1', baseType: 'decimal', direction: 'from-device',
      block: 'sensor', blockIndex: 0, min: 5, max: 95, step: 2,
    },
    {
      name: 'temperature', displayName: 'Température (zone 2)', baseType: 'float', direction: 'from-device',
      block: 'sensor', blockIndex: 1, min: -20, max: 45, step: 0.8,
    },
    {
      name: 'humidity', displayName: 'Humidité, zone 2', baseType: 'decimal', direction: 'from-device',
      block: 'sensor', blockIndex: 1, min: 5, max: 95, step: 2,
    },
  ],
  thermostat: [
    {
      name: 'setpoint', displayName: 'Set point °C', baseType: 'decimal', direction: 'to-device',
      block: 'thermostat', blockIndex: 0, min: 10, max: 30, step: 0.5,
    },
    { name: 'mode', displayName: 'Mode', baseType: 'string', direction: 'to-device', block: 'thermostat', blockIndex: 0 },
    { name: 'power', displayName: 'Power', baseType: 'boolean', direction: 'to-device' },
    {
      name: 'temperature', displayName: '室温', baseType: 'float', direction: 'from-device',
      block: 'sensor', blockIndex: 0, min: -10, max: 40, step: 0.5,
    },
    {
      name: 'energy_wh', displayName: 'Energy "Wh"', baseType: 'integer', direction: 'from-device',
      block: 'meter', blockIndex: 0, min: 0, max: 2_000_000_000, step: 40,
    },
    { name: 'alert', displayName: 'Alert message', baseType: 'message', direction: 'from-device' },
    { name: 'fw_version', displayName: 'Firmware', baseType: 'string', direction: 'from-device' },
  ],
};

export const MODEL_NAMES: readonly string[] = Object.keys(MODELS);

/** Text values: plain, non-ASCII, commas, quotes, newlines, empty. Exporters must round-trip them all. */
const TEXT_SAMPLES: readonly string[] = [
  'ok',
  'reboot',
  'status: idle',
  'Hello, world',
  'He said "hi", then left',
  'line 1\nline 2',
  'crlf line\r\nnext line',
  'Grüße aus Köln',
  'température élevée',
  '日本語のテキスト',
  'Привет, мир',
  '🌡️ 21.5°C',
  'tab\tseparated\tvalues',
  "it's 'quoted'",
  '=SUM(A1:A2)',
  '',
  '  padded  ',
  'a,b,c,"d"\n1,2,3,"4"',
];

const THERMOSTAT_MODES: readonly string[] = ['heat', 'cool', 'auto', 'off', 'éco'];

const CITIES: readonly { lat: number; long: number; ipPrefix: string }[] = [
  { lat: 44.7695, long: -69.4283, ipPrefix: '67.255' }, // Maine
  { lat: 58.6036, long: 49.668, ipPrefix: '95.67' }, // Kirov
  { lat: 37.3875, long: -122.0575, ipPrefix: '73.162' }, // Sunnyvale
  { lat: 52.52, long: 13.405, ipPrefix: '91.64' }, // Berlin
  { lat: 35.6895, long: 139.6917, ipPrefix: '126.24' }, // Tokyo
  { lat: -23.5505, long: -46.6333, ipPrefix: '177.33' }, // São Paulo
  { lat: -33.8688, long: 151.2093, ipPrefix: '101.160' }, // Sydney
  { lat: 12.9716, long: 77.5946, ipPrefix: '49.207' }, // Bengaluru
];

const REGISTRATION_TYPES: readonly RegistrationType[] = ['AP-Mode', 'Same-LAN', 'Button-Push', 'Display', 'Dsn'];

const RESOURCE_TAG_SAMPLES: readonly string[][] = [['lab'], ['site:Kirov', 'floor:2'], ['beta, wave 2'], ['Étage 3']];

/** Relative frequency of each event type. */
export const EVENT_MIX: readonly (readonly [EventType, number])[] = [
  ['datapoint', 0.72],
  ['datapointack', 0.17],
  ['connectivity', 0.06],
  ['location', 0.035],
  ['registration', 0.015],
];

// ---------------------------------------------------------------------------------------------------------
// Fleet

/** The OEMs simulated unless others are chosen: the README's examples use these ids. */
export const DEFAULT_OEMS = ['1234abcd', '5678ef90'] as const;

export interface FleetOptions {
  /** OEM ids, or how many OEMs to create (ids: 8 hex chars). Default {@link DEFAULT_OEMS}. */
  oems?: readonly string[] | number;
  /** Devices per OEM. Default 5. */
  devicesPerOem?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
  /**
   * Distinguishes this run's event ids from every other run's (the simulator passes a fresh random one per
   * start). Default: derived from the seed, so `generateEvents` stays reproducible.
   */
  runId?: string;
}

export interface PropertyInfo {
  readonly name: string;
  readonly displayName: string;
  readonly baseType: BaseType;
  readonly direction: Direction;
  /** Always set (defaults `device` / `0` are omitted from events). */
  readonly block: string;
  readonly blockIndex: number;
  /** Latest value. */
  readonly value: DatapointValue;
}

export interface DeviceInfo {
  readonly dsn: string;
  readonly oemId: string;
  readonly model: string;
  readonly resourceTags: readonly string[];
  readonly properties: readonly PropertyInfo[];
  readonly online: boolean;
  readonly registered: boolean;
  readonly seq: number;
}

export interface OemInfo {
  readonly oemId: string;
  readonly models: readonly string[];
  readonly userUuids: readonly string[];
}

export interface Fleet {
  readonly seed: number;
  readonly oems: readonly OemInfo[];
  readonly devices: readonly DeviceInfo[];
  /** Next event of the fleet, stamped from `now`. */
  nextEvent(now: Date): DeviceEvent;
}

interface PropertyState {
  name: string;
  displayName: string;
  baseType: BaseType;
  direction: Direction;
  block: string;
  blockIndex: number;
  explicitBlock: boolean;
  min: number;
  max: number;
  step: number;
  value: DatapointValue;
}

interface DeviceState {
  dsn: string;
  oemId: string;
  model: string;
  resourceTags: string[];
  properties: PropertyState[];
  online: boolean;
  registered: boolean;
  registrationType: RegistrationType;
  ownerUuid: string;
  ip: string;
  lat: number;
  long: number;
  seq: number;
}

export function createFleet(options: FleetOptions = {}): Fleet {
  const seed = options.seed ?? 1;
  const devicesPerOem = options.devicesPerOem ?? 5;
  const oemSpec = options.oems ?? DEFAULT_OEMS;
  if (!Number.isFinite(seed)) throw new RangeError('createFleet: seed must be a finite number');
  if (!Number.isInteger(devicesPerOem) || devicesPerOem < 1) {
    throw new RangeError('createFleet: devicesPerOem must be an integer >= 1');
  }
  const rng = new Rng(seed);
  const eventIds = new EventIds(options.runId ?? `seed:${seed}`);

  let oemIds: string[];
  if (typeof oemSpec === 'number') {
    if (!Number.isInteger(oemSpec) || oemSpec < 1) throw new RangeError('createFleet: oem count must be an integer >= 1');
    const ids = new Set<string>();
    while (ids.size < oemSpec) ids.add(rng.hex(8));
    oemIds = [...ids];
  } else {
    if (oemSpec.length === 0) throw new RangeError('createFleet: at least one OEM id is required');
    for (const id of oemSpec) {
      if (!isOemId(id)) throw new RangeError(`createFleet: invalid OEM id ${JSON.stringify(id)}`);
    }
    if (new Set(oemSpec).size !== oemSpec.length) throw new RangeError('createFleet: duplicate OEM ids');
    oemIds = [...oemSpec];
  }

  const oems: OemInfo[] = oemIds.map((oemId) => {
    const first = rng.pick(MODEL_NAMES);
    const models = rng.chance(0.6) ? [first, rng.pick(MODEL_NAMES.filter((m) => m !== first))] : [first];
    const userUuids = Array.from({ length: rng.int(1, 3) }, () => rng.uuid());
    return { oemId, models, userUuids };
  });

  const dsns = new Set<string>();
  const devices: DeviceState[] = [];
  for (const oem of oems) {
    for (let i = 0; i < devicesPerOem; i++) {
      let dsn: string;
      do dsn = `AC000W${rng.digits(9)}`;
      while (dsns.has(dsn));
      dsns.add(dsn);
      const model = rng.pick(oem.models);
      const templates = MODELS[model] ?? [];
      const city = rng.pick(CITIES);
      devices.push({
        dsn,
        oemId: oem.oemId,
        model,
        resourceTags: rng.chance(0.7) ? [] : [...rng.pick(RESOURCE_TAG_SAMPLES)],
        properties: templates.map((t) => initialProperty(rng, t, dsn)),
        online: true,
        registered: rng.chance(0.9),
        registrationType: rng.pick(REGISTRATION_TYPES),
        ownerUuid: rng.pick(oem.userUuids),
        ip: `${city.ipPrefix}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
        lat: city.lat + (rng.float() - 0.5) * 0.2,
        long: city.long + (rng.float() - 0.5) * 0.2,
        seq: 0,
      });
    }
  }

  const oemById = new Map(oems.map((o) => [o.oemId, o]));
  const online = new PickSet<DeviceState>(devices.filter((d) => d.online));
  const offline = new PickSet<DeviceState>(devices.filter((d) => !d.online));
  const unregistered = new PickSet<DeviceState>(devices.filter((d) => !d.registered));

  const common = (d: DeviceState) => ({
    oem_id: d.oemId,
    oem_model: d.model,
    dsn: d.dsn,
    resource_tags: [...d.resourceTags],
  });
  const nextSeq = (d: DeviceState): string => String(++d.seq);

  function propertyMetadata(p: PropertyState): PropertyMetadata {
    const meta: PropertyMetadata = { property_name: p.name, display_name: p.displayName, base_type: p.baseType };
    if (p.explicitBlock) {
      meta.block = p.block;
      meta.block_index = p.blockIndex;
    }
    return meta;
  }

  function datapoint(d: DeviceState, now: Date): DatapointEvent {
    const p = rng.pick(d.properties);
    p.value = nextValue(rng, p, d.dsn);
    const ts = formatTimestamp(now);
    const fromDevice = p.direction === 'from-device';
    return {
      seq: nextSeq(d),
      metadata: { ...common(d), event_type: 'datapoint', ...propertyMetadata(p) },
      datapoint: {
        id: eventIds.next(now),
        created_at_from_device:
          fromDevice && rng.chance(0.5) ? formatTimestamp(new Date(now.getTime() - rng.int(0, 5) * 1000)) : null,
        updated_at: ts,
        created_at: ts,
        user_uuid: NULL_UUID,
        // A to-device property reported back by the device is an echo.
        echo: !fromDevice,
        closed: false,
        value: p.value,
        metadata: rng.chance(0.1) ? { source: rng.pick(['app', 'schedule', 'rule, night']) } : {},
      },
    };
  }

  function datapointAck(d: DeviceState, now: Date): DatapointAckEvent {
    const toDevice = d.properties.filter((p) => p.direction === 'to-device');
    const p = rng.pick(toDevice.length > 0 ? toDevice : d.properties);
    p.value = nextValue(rng, p, d.dsn);
    const created = formatTimestamp(new Date(now.getTime() - rng.int(0, 3) * 1000));
    const ok = rng.chance(0.95);
    return {
      seq: nextSeq(d),
      metadata: { ...common(d), event_type: 'datapointack', ...propertyMetadata(p) },
      datapointack: {
        id: eventIds.next(now),
        created_at_from_device: null,
        updated_at: created,
        created_at: created,
        user_uuid: rng.pick(oemById.get(d.oemId)?.userUuids ?? [NULL_UUID]),
        echo: false,
        closed: false,
        value: p.value,
        metadata: {},
        ack_id: eventIds.next(now),
        ack_message: ok ? 0 : rng.int(1, 9),
        ack_status: ok ? 200 : rng.pick([400, 404, 500]),
        acked_at: formatTimestamp(now),
      },
    };
  }

  function connectivity(d: DeviceState, now: Date): ConnectivityEvent {
    d.online = !d.online;
    if (d.online) {
      offline.delete(d);
      online.add(d);
    } else {
      online.delete(d);
      offline.add(d);
    }
    return {
      seq: nextSeq(d),
      metadata: { ...common(d), event_type: 'connectivity' },
      connection: { event_time: formatTimestamp(now), user_uuid: NULL_UUID, status: d.online ? 'Online' : 'Offline' },
    };
  }

  function location(d: DeviceState, now: Date): LocationEvent {
    if (rng.chance(0.3)) {
      const [a, b] = d.ip.split('.');
      d.ip = `${a}.${b}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
    }
    d.lat = clamp(d.lat + (rng.float() - 0.5) * 0.01, -90, 90);
    d.long = clamp(d.long + (rng.float() - 0.5) * 0.01, -180, 180);
    const provider = rng.chance(0.85) ? 'ip-based' : 'user';
    return {
      seq: nextSeq(d),
      metadata: { ...common(d), event_type: 'location' },
      location_event: {
        ip: d.ip,
        lat: d.lat.toFixed(6),
        long: d.long.toFixed(6),
        provider,
        user_uuid: provider === 'user' ? d.ownerUuid : NULL_UUID,
        created_at: formatTimestamp(now),
      },
    };
  }

  function registration(d: DeviceState, now: Date): RegistrationEvent {
    d.registered = !d.registered;
    if (d.registered) unregistered.delete(d);
    else unregistered.add(d);
    if (d.registered) {
      d.registrationType = rng.pick(REGISTRATION_TYPES);
      d.ownerUuid = rng.pick(oemById.get(d.oemId)?.userUuids ?? [NULL_UUID]);
    }
    return {
      seq: nextSeq(d),
      metadata: { ...common(d), event_type: 'registration' },
      registration_event: {
        registered: d.registered,
        registration_type: d.registrationType,
        unregistered_at: d.registered ? null : formatTimestamp(now),
        user_uuid: d.registered ? d.ownerUuid : null,
      },
    };
  }

  function nextEvent(now: Date): DeviceEvent {
    if (!Number.isFinite(now.getTime())) throw new RangeError('nextEvent: invalid date');
    const type = rng.weighted(EVENT_MIX);
    switch (type) {
      case 'datapoint':
      case 'datapointack': {
        // Only connected devices report datapoints; with none online, one comes back.
        if (online.size === 0) return connectivity(offline.pick(rng), now);
        const d = online.pick(rng);
        return type === 'datapoint' ? datapoint(d, now) : datapointAck(d, now);
      }
      case 'connectivity': {
        // Offline devices come back more often than online ones drop, so most stay connected.
        const comeBack = offline.size > 0 && (online.size === 0 || rng.chance(0.7));
        return connectivity(comeBack ? offline.pick(rng) : online.pick(rng), now);
      }
      case 'location':
        return location(rng.pick(devices), now);
      case 'registration': {
        const d = unregistered.size > 0 && rng.chance(0.6) ? unregistered.pick(rng) : rng.pick(devices);
        return registration(d, now);
      }
    }
  }

  return { seed, oems, devices, nextEvent };
}

/** One OEM of a fleet as the start banner shows it: a device and a datapoint to look for. */
export interface OemSample {
  oemId: string;
  devices: number;
  dsn: string;
  /** `block/block_index/name` of a datapoint the device reports (as in the `/iap` paths). */
  datapoint: string;
}

/** Per OEM, its first device and that device's first reported datapoint (one in the default block if any). */
export function fleetSamples(fleet: Fleet): OemSample[] {
  return fleet.oems.map(({ oemId }) => {
    const devices = fleet.devices.filter((d) => d.oemId === oemId);
    const device = devices[0];
    if (!device) throw new RangeError(`fleetSamples: OEM ${oemId} has no device`);
    const reported = device.properties.filter((p) => p.direction === 'from-device');
    const candidates = reported.length > 0 ? reported : device.properties;
    const p = candidates.find((c) => c.block === DEFAULT_BLOCK) ?? candidates[0];
    if (!p) throw new RangeError(`fleetSamples: device ${device.dsn} has no datapoint`);
    return { oemId, devices: devices.length, dsn: device.dsn, datapoint: `${p.block}/${p.blockIndex}/${p.name}` };
  });
}

/** `count` events, the i-th stamped `start + i * intervalMs` (for tests and benchmarks). */
export function generateEvents(
  options: FleetOptions & { count: number; start?: Date; intervalMs?: number },
): DeviceEvent[] {
  const fleet = createFleet(options);
  const start = (options.start ?? new Date(Date.UTC(2018, 8, 24, 10, 0, 0))).getTime();
  const interval = options.intervalMs ?? 100;
  const out: DeviceEvent[] = [];
  for (let i = 0; i < options.count; i++) out.push(fleet.nextEvent(new Date(start + i * interval)));
  return out;
}

export function partitionKey(event: DeviceEvent): string {
  return event.metadata.dsn;
}

// ---------------------------------------------------------------------------------------------------------
// Values

/** Set with O(1) add, delete and uniform random pick (insertion/removal order is deterministic). */
class PickSet<T> {
  private readonly items: T[] = [];
  private readonly index = new Map<T, number>();

  constructor(initial: readonly T[]) {
    for (const item of initial) this.add(item);
  }

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    if (this.index.has(item)) return;
    this.index.set(item, this.items.length);
    this.items.push(item);
  }

  delete(item: T): void {
    const i = this.index.get(item);
    if (i === undefined) return;
    const last = this.items.pop() as T;
    this.index.delete(item);
    if (last !== item) {
      this.items[i] = last;
      this.index.set(last, i);
    }
  }

  pick(rng: Rng): T {
    return rng.pick(this.items);
  }
}

function clamp(x: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, x));
}

function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

function initialProperty(rng: Rng, t: PropertyTemplate, dsn: string): PropertyState {
  const min = t.min ?? 0;
  const max = t.max ?? 100;
  const p: PropertyState = {
    name: t.name,
    displayName: t.displayName,
    baseType: t.baseType,
    direction: t.direction,
    block: t.block ?? DEFAULT_BLOCK,
    blockIndex: t.blockIndex ?? DEFAULT_BLOCK_INDEX,
    explicitBlock: t.block !== undefined,
    min,
    max,
    step: t.step ?? 1,
    value: 0,
  };
  switch (t.baseType) {
    case 'boolean':
      p.value = rng.int(0, 1);
      break;
    case 'integer':
      p.value = rng.int(Math.ceil(min), Math.floor(Math.min(max, min + (max - min) / 2)));
      break;
    case 'decimal':
      p.value = round(min + rng.float() * (max - min), 2);
      break;
    case 'float':
      p.value = round(min + rng.float() * (max - min), 4);
      break;
    default:
      p.value = nextValue(rng, p, dsn);
  }
  return p;
}

function nextValue(rng: Rng, p: PropertyState, dsn: string): DatapointValue {
  const current = p.value;
  switch (p.baseType) {
    case 'boolean':
      return rng.chance(0.8) ? (current === 1 ? 0 : 1) : current === 1 ? 1 : 0;
    case 'integer': {
      const step = Math.max(1, Math.round(p.step));
      const delta = rng.int(1, step) * (rng.chance(0.5) ? 1 : -1);
      return clamp(Math.round(Number(current) + delta), Math.ceil(p.min), Math.floor(p.max));
    }
    case 'decimal':
      return clamp(round(Number(current) + (rng.float() * 2 - 1) * p.step, 2), p.min, p.max);
    case 'float':
      return clamp(round(Number(current) + (rng.float() * 2 - 1) * p.step, 4), p.min, p.max);
    case 'string':
      if (p.name === 'mode') return rng.pick(THERMOSTAT_MODES);
      if (p.name === 'fw_version') return rng.chance(0.9) && typeof current === 'string' && current !== '' ? current : `v${rng.int(1, 3)}.${rng.int(0, 9)}.${rng.int(0, 20)}`;
      return rng.chance(0.6) ? rng.pick(TEXT_SAMPLES) : `${p.name} #${rng.int(1, 9999)}`;
    case 'message':
      return messageValue(rng);
    case 'file':
      return `https://ads-field.aylanetworks.com/apiv1/devices/${dsn}/properties/${p.name}/datapoints/${rng.uuid()}.json`;
  }
}

function messageValue(rng: Rng): string {
  const kind = rng.int(0, 9);
  if (kind < 4) return rng.pick(TEXT_SAMPLES);
  if (kind < 8) {
    return JSON.stringify({
      level: rng.pick(['info', 'warn', 'error']),
      text: rng.pick(TEXT_SAMPLES),
      code: rng.int(0, 500),
    });
  }
  // Occasionally a longer multi-line message (a few KB).
  const lines: string[] = [];
  const n = rng.int(10, 60);
  for (let i = 0; i < n; i++) lines.push(`${i}: ${rng.pick(TEXT_SAMPLES)}`);
  return lines.join('\n');
}
