import { decodeEvent, OEM_ID_PATTERN, validateEvent } from '../../../../lambdas/domain/device-events';
import { seedEvents } from './export/seed-events';

describe('validateEvent', () => {
  it.each(Object.entries(seedEvents))('accepts the seed example of %s', (type, event) => {
    expect(validateEvent(event)).toMatchObject({ ok: true, type });
  });

  it('ignores unknown keys', () => {
    expect(validateEvent({ ...seedEvents.connectivity, extra: 1, metadata: { ...seedEvents.connectivity.metadata, more: true } }).ok).toBe(true);
  });

  it.each([
    ['an array', [], /not a JSON object/],
    ['no metadata', { datapoint: {} }, /^metadata is missing$/],
    ['no event type', { metadata: { ...seedEvents.location.metadata, event_type: undefined } }, /^metadata\.event_type is missing$/],
    ['no OEM id', { ...seedEvents.location, metadata: { ...seedEvents.location.metadata, oem_id: undefined } }, /metadata\.oem_id is missing$/],
    ['an unknown type', { metadata: { ...seedEvents.location.metadata, event_type: 'telemetry' } }, /event_type must be one of/],
    ['a missing body', { metadata: seedEvents.location.metadata }, /^invalid location event: location_event is missing$/],
    ['a bad timestamp', { ...seedEvents.connectivity, connection: { ...seedEvents.connectivity.connection, event_time: 'yesterday' } }, /event_time: expected an ISO 8601/],
    ['an unknown base type', { ...seedEvents.datapoint, metadata: { ...seedEvents.datapoint.metadata, base_type: 'blob' } }, /base_type/],
    ['a datapoint without time', { ...seedEvents.datapoint, datapoint: { ...seedEvents.datapoint.datapoint, updated_at: null, created_at: null } }, /updated_at or created_at/],
    ['a path in the dsn', { ...seedEvents.location, metadata: { ...seedEvents.location.metadata, dsn: '../x' } }, /dsn must be/],
  ])('rejects %s with a reason', (_, value, reason) => {
    const result = validateEvent(value);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });
});

describe('a missing required field is named as missing, not as a format problem', () => {
  const without = <T extends Record<string, unknown>>(o: T, key: string): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...o };
    delete copy[key];
    return copy;
  };
  const withoutMeta = (event: Record<string, unknown> & { metadata: Record<string, unknown> }, key: string) => ({ ...event, metadata: without(event.metadata, key) });
  const withoutBody = (event: Record<string, unknown>, bodyKey: string, key: string) => ({ ...event, [bodyKey]: without(event[bodyKey] as Record<string, unknown>, key) });

  it.each([
    ['oem_id', withoutMeta(seedEvents.datapoint, 'oem_id'), 'invalid datapoint event: metadata.oem_id is missing'],
    ['oem_id (null)', { ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: null } }, 'invalid connectivity event: metadata.oem_id is missing'],
    ['dsn', withoutMeta(seedEvents.location, 'dsn'), 'invalid location event: metadata.dsn is missing'],
    ['event_type', withoutMeta(seedEvents.location, 'event_type'), 'metadata.event_type is missing'],
    ['property_name', withoutMeta(seedEvents.datapoint, 'property_name'), 'invalid datapoint event: metadata.property_name is missing'],
    ['base_type', withoutMeta(seedEvents.datapointack, 'base_type'), 'invalid datapointack event: metadata.base_type is missing'],
    ['value', withoutBody(seedEvents.datapoint, 'datapoint', 'value'), 'invalid datapoint event: datapoint.value is missing'],
    ['event_time', withoutBody(seedEvents.connectivity, 'connection', 'event_time'), 'invalid connectivity event: connection.event_time is missing'],
    ['status', withoutBody(seedEvents.connectivity, 'connection', 'status'), 'invalid connectivity event: connection.status is missing'],
    ['created_at', withoutBody(seedEvents.location, 'location_event', 'created_at'), 'invalid location event: location_event.created_at is missing'],
    ['registered', withoutBody(seedEvents.registration, 'registration_event', 'registered'), 'invalid registration event: registration_event.registered is missing'],
  ])('%s', (_, value, reason) => {
    expect(validateEvent(value)).toMatchObject({ ok: false, reason });
  });

  it('two missing fields are both named; a present but malformed one keeps its format message', () => {
    const event = { ...seedEvents.connectivity, metadata: without(without(seedEvents.connectivity.metadata, 'oem_id'), 'dsn') };
    expect(validateEvent(event)).toEqual({ ok: false, reason: 'invalid connectivity event: metadata.oem_id is missing; metadata.dsn is missing' });
    const malformed = validateEvent({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, oem_id: '_x' } });
    expect(malformed).toMatchObject({ ok: false, reason: expect.stringMatching(/metadata\.oem_id: oem_id must be 1-64/) });
  });
});

describe('OEM ids', () => {
  it.each(['1234abcd', 'oem-a', 'OEM_1', 'a'])('accepts %s', (id) => expect(OEM_ID_PATTERN.test(id)).toBe(true));
  it.each(['', 'aws', 'AWS', '_errors', '-x', 'a/b', '..', 'a b', 'x'.repeat(65)])('refuses %j (not a safe, unreserved folder name)', (id) =>
    expect(OEM_ID_PATTERN.test(id)).toBe(false));
});

describe('decodeEvent', () => {
  it('decodes UTF-8 JSON', () => {
    expect(decodeEvent(Buffer.from(JSON.stringify(seedEvents.registration))).ok).toBe(true);
  });
  it('says why bytes are not an event', () => {
    expect(decodeEvent(Buffer.from([0xc3, 0x28]))).toEqual({ ok: false, reason: 'not UTF-8' });
    expect(decodeEvent(Buffer.from('{"a":'))).toMatchObject({ ok: false, reason: expect.stringMatching(/^not JSON/) });
  });
});

describe('encoder safety limits', () => {
  const nested = (depth: number) => JSON.parse(`${'['.repeat(depth)}1${']'.repeat(depth)}`) as unknown;
  const withMetadata = (metadata: unknown) => ({ ...seedEvents.datapoint, datapoint: { ...seedEvents.datapoint.datapoint, metadata: { inner: metadata } } });

  it('accepts nesting up to 64 levels and rejects deeper with a reason, never throwing', () => {
    // The event is 3 levels deep around `inner`'s value.
    expect(validateEvent(withMetadata(nested(60))).ok).toBe(true);
    const deep = validateEvent(withMetadata(nested(100_000)));
    expect(deep).toMatchObject({ ok: false, reason: expect.stringMatching(/^datapoint\.metadata\.inner\[0\].*: nested deeper than 64 levels$/), oemId: '1234abcd' });
    expect(decodeEvent(Buffer.from(`{"metadata":${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}}`))).toMatchObject({ ok: false, reason: expect.stringMatching(/nested deeper than 64/) });
  });

  it('rejects a number that is not finite (1e400 parses to Infinity), naming the field', () => {
    const text = JSON.stringify(seedEvents.datapoint).replace('"value":0', '"value":1e400');
    expect(decodeEvent(Buffer.from(text))).toEqual({ ok: false, reason: 'datapoint.value: value is not a finite number', oemId: '1234abcd' });
    const lat = JSON.stringify(seedEvents.location).replace('"lat":"44.769500"', '"lat":-1e999');
    expect(decodeEvent(Buffer.from(lat))).toMatchObject({ ok: false, reason: 'location_event.lat: value is not a finite number' });
    const meta = JSON.stringify(seedEvents.datapoint).replace('"metadata":{}', '"metadata":{"list":[1,2,1e309]}');
    expect(decodeEvent(Buffer.from(meta))).toMatchObject({ ok: false, reason: 'datapoint.metadata.list[2]: value is not a finite number' });
  });

  it('rejects a record larger than Kinesis allows without parsing it', () => {
    expect(decodeEvent(Buffer.alloc(1024 * 1024 + 1, 0x20))).toEqual({ ok: false, reason: 'larger than 1048576 bytes (1048577)' });
  });

  it('names the OEM of a rejected event only when its id is valid', () => {
    expect(validateEvent({ metadata: { oem_id: 'oem-a', event_type: 'nope' } })).toMatchObject({ ok: false, oemId: 'oem-a' });
    expect(validateEvent({ ...seedEvents.connectivity, connection: {} })).toMatchObject({ ok: false, oemId: '1234abcd' });
    expect(validateEvent({ metadata: { oem_id: '../x', event_type: 'connectivity' } })).not.toHaveProperty('oemId');
    expect(decodeEvent(Buffer.from('{"metadata":{"oem_id":"oem-a"'))).not.toHaveProperty('oemId');
  });
});
