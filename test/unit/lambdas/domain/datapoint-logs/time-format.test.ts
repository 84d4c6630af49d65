import { formatLocal, formatUtc, isTimeZone, zoneForLongitude } from '../../../../../lambdas/domain/datapoint-logs/time-format';

/** The seed's instant: `utc` 2019-01-11 23:27:46.045 UTC, `local` 2019-01-12 02:27:46.045 Europe/Kirov. */
const SEED_INSTANT = Date.parse('2019-01-11T23:27:46.045Z');

describe('formatUtc', () => {
  it('prints the seed\'s utc', () => {
    expect(formatUtc(SEED_INSTANT)).toBe('2019-01-11 23:27:46.045 UTC');
  });

  it('always prints three millisecond digits', () => {
    expect(formatUtc(Date.parse('2017-08-23T10:34:22Z'))).toBe('2017-08-23 10:34:22.000 UTC');
    expect(formatUtc(Date.parse('2017-08-23T10:34:22.007Z'))).toBe('2017-08-23 10:34:22.007 UTC');
    expect(formatUtc(0)).toBe('1970-01-01 00:00:00.000 UTC');
  });

  it('handles times before the epoch', () => {
    expect(formatUtc(-1)).toBe('1969-12-31 23:59:59.999 UTC');
  });
});

describe('formatLocal', () => {
  it('prints the seed\'s local time in Europe/Kirov for the same instant', () => {
    expect(formatLocal(SEED_INSTANT, 'Europe/Kirov')).toBe('2019-01-12 02:27:46.045 Europe/Kirov');
  });

  it('is UTC, printed as utc, when the zone is unknown or UTC', () => {
    expect(formatLocal(SEED_INSTANT, undefined)).toBe('2019-01-11 23:27:46.045 UTC');
    expect(formatLocal(SEED_INSTANT, '')).toBe('2019-01-11 23:27:46.045 UTC');
    expect(formatLocal(SEED_INSTANT, 'UTC')).toBe('2019-01-11 23:27:46.045 UTC');
  });

  it('prints midnight as 00, not 24', () => {
    expect(formatLocal(Date.parse('2019-01-11T21:00:00.000Z'), 'Europe/Kirov')).toBe('2019-01-12 00:00:00.000 Europe/Kirov');
  });

  it('follows daylight saving time of the zone', () => {
    expect(formatLocal(Date.parse('2017-08-23T10:34:22.123Z'), 'Europe/London')).toBe('2017-08-23 11:34:22.123 Europe/London');
    expect(formatLocal(Date.parse('2017-12-23T10:34:22.123Z'), 'Europe/London')).toBe('2017-12-23 10:34:22.123 Europe/London');
  });

  it('prints nautical zones (from a longitude) by their Etc names', () => {
    expect(formatLocal(SEED_INSTANT, 'Etc/GMT-3')).toBe('2019-01-12 02:27:46.045 Etc/GMT-3');
    expect(formatLocal(SEED_INSTANT, 'Etc/GMT+5')).toBe('2019-01-11 18:27:46.045 Etc/GMT+5');
  });
});

describe('isTimeZone', () => {
  it('knows IANA zones and refuses other text', () => {
    expect(isTimeZone('Europe/Kirov')).toBe(true);
    expect(isTimeZone('Etc/GMT-3')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});

describe('zoneForLongitude', () => {
  it.each([
    [0, 'UTC'],
    [7.4, 'UTC'],
    [44.7, 'Etc/GMT-3'],
    [-69.4, 'Etc/GMT+5'],
    [-69.4283, 'Etc/GMT+5'],
    [180, 'Etc/GMT-12'],
    [-180, 'Etc/GMT+12'],
  ])('%d → %s (Etc zones have inverted signs)', (longitude, zone) => {
    expect(zoneForLongitude(longitude)).toBe(zone);
  });

  it.each([[180.1], [-181], [Number.NaN], [Number.POSITIVE_INFINITY]])('%d → undefined', (longitude) => {
    expect(zoneForLongitude(longitude)).toBeUndefined();
  });

  it('gives a zone the runtime knows for every longitude in range', () => {
    for (let longitude = -180; longitude <= 180; longitude += 2.5) {
      const zone = zoneForLongitude(longitude);
      expect(zone).toBeDefined();
      expect(isTimeZone(zone!)).toBe(true);
    }
  });
});
