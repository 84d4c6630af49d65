import { crumbs, formatBytes, formatTime, numberOrText, parentPrefix } from '../../../console/src/lib/format';

describe('console display helpers', () => {
  it('formats sizes in binary units', () => {
    expect([0, 812, 1024, 1434, 12 * 1024 * 1024, 3 * 1024 ** 4].map(formatBytes)).toEqual(['0 B', '812 B', '1.0 KB', '1.4 KB', '12.0 MB', '3.0 TB']);
  });

  it('shows times in UTC to the second, and leaves unreadable ones as they are', () => {
    expect(formatTime('2026-12-02T03:56:08.123Z')).toBe('2026-12-02 03:56:08 UTC');
    expect(formatTime('soon')).toBe('soon');
  });

  it('walks folder prefixes under the OEM', () => {
    expect(crumbs('datapoint/2026-12-02-03:56:05/')).toEqual([
      { name: 'datapoint', prefix: 'datapoint/' },
      { name: '2026-12-02-03:56:05', prefix: 'datapoint/2026-12-02-03:56:05/' },
    ]);
    expect(crumbs('')).toEqual([]);
    expect(parentPrefix('datapoint/2026-12-02-03:56:05/')).toBe('datapoint/');
    expect(parentPrefix('datapoint/')).toBe('');
  });

  it('sends number fields as numbers when they are, else as typed for the API to judge', () => {
    expect(['300', ' 1.5 ', '1e3', '', 'abc', '-1'].map(numberOrText)).toEqual([300, 1.5, 1000, undefined, 'abc', -1]);
  });
});
