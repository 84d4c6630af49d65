import fc from 'fast-check';
import { addressFingerprint, decodePageToken, encodePageToken, type PageToken } from '../../../../../lambdas/domain/datapoint-logs/page-token';

describe('page tokens', () => {
  const token: PageToken = { snapshot: 1_772_366_400_000, page: 3, size: 50, cursor: { at: 1_772_366_399_123, id: 12_000_000_345 }, address: addressFingerprint({ id: '*' }) };

  it('round-trip, in what xs accepts (1-200 letters, digits, _ or -)', () => {
    const text = encodePageToken(token);
    expect(text).toMatch(/^[A-Za-z0-9_-]{1,200}$/);
    expect(decodePageToken(text)).toEqual(token);
  });

  it('round-trip any page, size and position, negative event times included', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 999_999_999_999_999 }), fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.string(),
      (snapshot, page, size, at, id, address) => {
        const t: PageToken = { snapshot, page, size, cursor: { at, id }, address: addressFingerprint({ datapoint_name: address }) };
        const text = encodePageToken(t);
        expect(text.length).toBeLessThanOrEqual(200);
        expect(decodePageToken(text)).toEqual(t);
      },
    ));
  });

  it.each(['', '1700000000000', 'c1_', 'c2_1_1_1_1_1_1', 'c1_1_1_0_1_1_1', 'c1_1_1_sa_1_1_1', `c1_${'z'.repeat(12)}_1_1_1_1_1`, 'c1_1_1_1_1_1_1_1', 'C1_1_1_1_1_1_1'])('refuses %j', (text) => {
    expect(decodePageToken(text)).toBeUndefined();
  });

  it('fingerprints addresses apart, the same address alike', () => {
    expect(addressFingerprint({ id: '*', datapoint_name: 'a' })).toBe(addressFingerprint({ id: '*', datapoint_name: 'a' }));
    expect(addressFingerprint({ id: '*', datapoint_name: 'a' })).not.toBe(addressFingerprint({ id: '*', datapoint_name: 'b' }));
    expect(addressFingerprint({ id: 'ab', block: 'c' })).not.toBe(addressFingerprint({ id: 'a', block: 'bc' }));
  });
});
