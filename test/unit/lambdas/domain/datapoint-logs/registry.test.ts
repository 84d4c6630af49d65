import { datapointRefOf, registryUpdate } from '../../../../../lambdas/domain/datapoint-logs/registry';
import { DEFAULT_BLOCK, DEFAULT_BLOCK_INDEX, validateEvent, type DeviceEvent } from '../../../../../lambdas/domain/device-events';
import { seedEvents } from '../export/seed-events';

/** A seed event with changes, checked by the event schema (so the tests only use events the stream accepts). */
function event(base: object, change: { metadata?: object; body?: Record<string, unknown> } = {}): DeviceEvent {
  const b = structuredClone(base) as Record<string, Record<string, unknown>>;
  const type = b.metadata!.event_type as string;
  const bodyKey = { datapoint: 'datapoint', datapointack: 'datapointack', connectivity: 'connection', location: 'location_event', registration: 'registration_event' }[type]!;
  const value = { ...b, metadata: { ...b.metadata, ...change.metadata }, [bodyKey]: { ...b[bodyKey], ...change.body } };
  const result = validateEvent(value);
  if (!result.ok) throw new Error(result.reason);
  return result.event;
}

const datapoint = (dsn: string, name: string, metadata: object = {}) => event(seedEvents.datapoint, { metadata: { dsn, property_name: name, display_name: name, ...metadata } });
const connectivity = (dsn: string, status: string, eventTime: string) => event(seedEvents.connectivity, { metadata: { dsn }, body: { status, event_time: eventTime } });
const registration = (dsn: string, registered: boolean, unregisteredAt: string | null) =>
  event(seedEvents.registration, { metadata: { dsn }, body: { registered, unregistered_at: unregisteredAt } });
const location = (dsn: string, body: Record<string, unknown>) => event(seedEvents.location, { metadata: { dsn }, body });

const ARRIVAL = Date.parse('2026-01-01T00:00:00Z');
const batch = (...events: DeviceEvent[]) => events.map((e, i) => ({ event: e, arrivalMs: ARRIVAL + i }));

describe('datapointRefOf', () => {
  it('places the seed\'s datapoint in block device / 0', () => {
    expect(DEFAULT_BLOCK).toBe('device');
    expect(DEFAULT_BLOCK_INDEX).toBe(0);
    expect(datapointRefOf(event(seedEvents.datapoint))).toEqual({ dsn: 'AC000W005606115', block: 'device', blockIndex: 0, name: 'Blue_LED' });
  });

  it('takes metadata.block / block_index when given', () => {
    expect(datapointRefOf(datapoint('D1', 'nviValue', { block: 'Lamp', block_index: 2 }))).toEqual({ dsn: 'D1', block: 'Lamp', blockIndex: 2, name: 'nviValue' });
    expect(datapointRefOf(datapoint('D1', 'nviValue', { block: 'Lamp' }))).toEqual({ dsn: 'D1', block: 'Lamp', blockIndex: 0, name: 'nviValue' });
    expect(datapointRefOf(datapoint('D1', 'nviValue', { block_index: 0 }))).toEqual({ dsn: 'D1', block: 'device', blockIndex: 0, name: 'nviValue' });
  });

  it('is undefined for the other event types (a datapointack does not register a datapoint)', () => {
    for (const type of ['datapointack', 'connectivity', 'location', 'registration'] as const) {
      expect(datapointRefOf(event(seedEvents[type]))).toBeUndefined();
    }
  });
});

describe('registryUpdate: datapoints', () => {
  it('registers the datapoint of each datapoint event, in the default block or the event\'s', () => {
    const update = registryUpdate(batch(
      event(seedEvents.datapoint),
      datapoint('D1', 'nvoEnergy', { block: 'Meter', block_index: 3 }),
      datapoint('D1', 'nvoVoltage'),
    ));
    expect(update.datapoints).toEqual([
      { dsn: 'AC000W005606115', block: 'device', blockIndex: 0, name: 'Blue_LED' },
      { dsn: 'D1', block: 'Meter', blockIndex: 3, name: 'nvoEnergy' },
      { dsn: 'D1', block: 'device', blockIndex: 0, name: 'nvoVoltage' },
    ]);
    expect(update.devices.size).toBe(0);
  });

  it('lists a datapoint once however often it is updated', () => {
    const update = registryUpdate(batch(...Array.from({ length: 5 }, () => datapoint('D1', 'nviPT')), datapoint('D2', 'nviPT'), datapoint('D1', 'nviPT')));
    expect(update.datapoints).toEqual([
      { dsn: 'D1', block: 'device', blockIndex: 0, name: 'nviPT' },
      { dsn: 'D2', block: 'device', blockIndex: 0, name: 'nviPT' },
    ]);
  });

  it('tells apart the same name in different blocks or indexes', () => {
    const update = registryUpdate(batch(
      datapoint('D1', 'nviValue', { block: 'Lamp', block_index: 0 }),
      datapoint('D1', 'nviValue', { block: 'Lamp', block_index: 1 }),
      datapoint('D1', 'nviValue', { block: 'Switch', block_index: 0 }),
      datapoint('D1', 'nviValue', { block: 'Lamp', block_index: 1 }),
    ));
    expect(update.datapoints).toHaveLength(3);
  });

  it('ignores datapointack events for the registry', () => {
    expect(registryUpdate(batch(event(seedEvents.datapointack)))).toEqual({ datapoints: [], devices: new Map() });
  });

  it('is empty for an empty batch', () => {
    expect(registryUpdate([])).toEqual({ datapoints: [], devices: new Map() });
  });
});

describe('registryUpdate: device state, health and time zone', () => {
  it('takes the state from registration events: the seed\'s unregistration → unprovisioned, at its unregistered_at', () => {
    const update = registryUpdate(batch(event(seedEvents.registration)));
    expect(update.devices.get('AC000W000123456')).toEqual({ state: { value: 'unprovisioned', at: Date.parse('2018-09-24T10:29:50Z') } });
  });

  it('takes a registration (registered: true) as provisioned, at its arrival when it carries no time', () => {
    const update = registryUpdate([{ event: registration('D1', true, null), arrivalMs: ARRIVAL }]);
    expect(update.devices.get('D1')).toEqual({ state: { value: 'provisioned', at: ARRIVAL } });
  });

  it('takes the health from connectivity events: Online → normal, Offline → down, at event_time', () => {
    expect(registryUpdate(batch(event(seedEvents.connectivity))).devices.get('AC000W000123456')).toEqual({
      health: { value: 'normal', at: Date.parse('2018-09-24T10:26:37Z') },
    });
    expect(registryUpdate(batch(connectivity('D1', 'Offline', '2018-09-24T10:27:00Z'))).devices.get('D1')).toEqual({
      health: { value: 'down', at: Date.parse('2018-09-24T10:27:00Z') },
    });
    expect(registryUpdate(batch(connectivity('D1', 'online', '2018-09-24T10:27:00Z'))).devices.get('D1')?.health?.value).toBe('normal');
  });

  it('ignores a connectivity status it does not know', () => {
    expect(registryUpdate(batch(connectivity('D1', 'Rebooting', '2018-09-24T10:27:00Z'))).devices.size).toBe(0);
  });

  it('takes the time zone from location events: the nautical zone of the longitude', () => {
    // The seed's location is at longitude -69.4283 (Maine): UTC-5, Etc/GMT+5.
    expect(registryUpdate(batch(event(seedEvents.location))).devices.get('AC000W000340779')).toEqual({
      timeZone: { value: 'Etc/GMT+5', at: Date.parse('2018-09-24T11:04:07Z') },
    });
    expect(registryUpdate(batch(location('D1', { lat: 58.6, long: 49.7 }))).devices.get('D1')?.timeZone?.value).toBe('Etc/GMT-3');
    expect(registryUpdate(batch(location('D1', { long: '0.1' }))).devices.get('D1')?.timeZone?.value).toBe('UTC');
  });

  it('prefers an IANA time_zone the device reports over its longitude', () => {
    expect(registryUpdate(batch(location('D1', { long: '-69.4283', time_zone: 'Europe/Kirov' }))).devices.get('D1')?.timeZone?.value).toBe('Europe/Kirov');
  });

  it('falls back to the longitude when the reported time_zone is no zone', () => {
    expect(registryUpdate(batch(location('D1', { long: '44.7', time_zone: 'Moon/Base' }))).devices.get('D1')?.timeZone?.value).toBe('Etc/GMT-3');
    expect(registryUpdate(batch(location('D1', { long: '44.7', time_zone: 3 }))).devices.get('D1')?.timeZone?.value).toBe('Etc/GMT-3');
  });

  it('sets no time zone when neither a zone nor a longitude in range is known', () => {
    expect(registryUpdate(batch(location('D1', { long: '200' }))).devices.size).toBe(0);
    expect(registryUpdate(batch(location('D1', { long: 'west' }))).devices.size).toBe(0);
    const { long: _long, ...withoutLongitude } = seedEvents.location.location_event;
    expect(registryUpdate(batch(event({ ...seedEvents.location, location_event: withoutLongitude }))).devices.size).toBe(0);
  });

  it('sets no time zone from a location event whose longitude is null or empty', () => {
    expect(registryUpdate(batch(location('D1', { lat: null, long: null }))).devices.size).toBe(0);
    expect(registryUpdate(batch(location('D1', { lat: '', long: '' }))).devices.size).toBe(0);
  });

  it('keeps the latest event time of each attribute, whatever the order in the batch', () => {
    const update = registryUpdate(batch(
      connectivity('D1', 'Offline', '2018-09-24T12:00:00Z'),
      connectivity('D1', 'Online', '2018-09-24T11:00:00Z'),
      registration('D1', false, '2018-09-24T13:00:00Z'),
      registration('D1', false, '2018-09-24T09:00:00Z'),
      location('D1', { long: '44.7', created_at: '2018-09-24T10:00:00Z' }),
      location('D1', { long: '-69.4', created_at: '2018-09-24T08:00:00Z' }),
    ));
    expect(update.devices.get('D1')).toEqual({
      health: { value: 'down', at: Date.parse('2018-09-24T12:00:00Z') },
      state: { value: 'unprovisioned', at: Date.parse('2018-09-24T13:00:00Z') },
      timeZone: { value: 'Etc/GMT-3', at: Date.parse('2018-09-24T10:00:00Z') },
    });

    const forward = registryUpdate(batch(
      connectivity('D1', 'Offline', '2018-09-24T11:00:00Z'),
      connectivity('D1', 'Online', '2018-09-24T12:00:00Z'),
    ));
    expect(forward.devices.get('D1')?.health).toEqual({ value: 'normal', at: Date.parse('2018-09-24T12:00:00Z') });
  });

  it('keeps devices apart and leaves attributes no event spoke of unset', () => {
    const update = registryUpdate(batch(
      connectivity('D1', 'Offline', '2018-09-24T12:00:00Z'),
      registration('D2', false, '2018-09-24T12:00:00Z'),
      datapoint('D3', 'nviPT'),
    ));
    expect([...update.devices.keys()].sort()).toEqual(['D1', 'D2']);
    expect(update.devices.get('D1')).toEqual({ health: { value: 'down', at: Date.parse('2018-09-24T12:00:00Z') } });
    expect(update.devices.get('D2')).toEqual({ state: { value: 'unprovisioned', at: Date.parse('2018-09-24T12:00:00Z') } });
    expect(update.datapoints).toEqual([{ dsn: 'D3', block: 'device', blockIndex: 0, name: 'nviPT' }]);
  });
});
