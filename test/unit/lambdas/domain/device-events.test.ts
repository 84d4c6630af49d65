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
    ['no metadata', { datapoint: {} }, /event_type must be one of/],
    ['an unknown type', { metadata: { ...seedEvents.location.metadata, event_type: 'telemetry' } }, /event_type must be one of/],
    ['a missing body', { metadata: seedEvents.location.metadata }, /invalid location event: location_event/],
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
