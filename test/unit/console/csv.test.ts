import { parseUtc, plotNumber, seriesOf, valuesCsv, type LoggedValue } from '../../../console/src/lib/csv';
import { parseCsv } from '../../helpers/csv-parse';

const value = (id: number, utc: string, v: unknown, tags: LoggedValue['tags'] = [{ log_level_1: null }]): LoggedValue => ({ id, utc, local: utc.replace('UTC', 'Etc/UTC'), value: v, tags });

describe('what a trend chart shows', () => {
  it('downloads as CSV with text as it is, structured values as JSON, quoting per RFC 4180', () => {
    const csv = valuesCsv([
      value(1, '2026-12-01 10:00:00.000 UTC', 21.5),
      value(2, '2026-12-01 10:05:00.000 UTC', 'a "quoted", text', [{ log_level_1: null }, { log_level_2: null }]),
      value(3, '2026-12-01 10:10:00.000 UTC', { state: 1, value: 100 }),
      value(4, '2026-12-01 10:15:00.000 UTC', null),
    ]);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(parseCsv(csv)).toEqual([
      ['id', 'utc', 'local', 'value', 'tags'],
      ['1', '2026-12-01 10:00:00.000 UTC', '2026-12-01 10:00:00.000 Etc/UTC', '21.5', 'log_level_1'],
      ['2', '2026-12-01 10:05:00.000 UTC', '2026-12-01 10:05:00.000 Etc/UTC', 'a "quoted", text', 'log_level_1 log_level_2'],
      ['3', '2026-12-01 10:10:00.000 UTC', '2026-12-01 10:10:00.000 Etc/UTC', '{"state":1,"value":100}', 'log_level_1'],
      ['4', '2026-12-01 10:15:00.000 UTC', '2026-12-01 10:15:00.000 Etc/UTC', '', 'log_level_1'],
    ]);
  });

  it('plots numbers, booleans, numeric text and a structured value field; not other values', () => {
    expect([5, -1.5, true, false, ' 42 ', { state: 1, value: 100 }].map(plotNumber)).toEqual([5, -1.5, 1, 0, 42, 100]);
    expect(['on', '', null, [1], { state: 1 }, Number.NaN].map(plotNumber)).toEqual([null, null, null, null, null, null]);
  });

  it('reads the API utc format to the millisecond, as uPlot seconds', () => {
    expect(parseUtc('2019-01-11 23:27:46.045 UTC')).toBe(Date.parse('2019-01-11T23:27:46.045Z'));
    expect(seriesOf([value(1, '2019-01-11 23:27:46.045 UTC', 3), value(2, '2019-01-11 23:27:47.000 UTC', 'x')])).toEqual([
      [1547249266.045, 1547249267],
      [3, null],
    ]);
  });
});
