import { csvFile, csvRow } from '../../../../../lambdas/domain/export/csv';
import { parseCsvRecords, parsePreviewRows, previewCsv } from '../../../../../lambdas/domain/export-files/preview';
import type { DeviceEvent } from '../../../../../lambdas/domain/device-events';

function datapoint(baseType: string, value: unknown, displayName = 'Blue LED, "kitchen"'): DeviceEvent {
  return {
    seq: '1',
    metadata: { oem_id: 'oem1', oem_model: 'm', dsn: 'AC01', resource_tags: ['a', 'b'], event_type: 'datapoint', property_name: 'p', display_name: displayName, base_type: baseType },
    datapoint: { id: 'i', created_at_from_device: null, updated_at: '2026-12-02T10:00:00Z', created_at: '2026-12-02T10:00:00Z', user_uuid: 'u', echo: true, closed: false, value, metadata: { k: 'v' } },
  } as unknown as DeviceEvent;
}

describe('previewCsv on files the export writes', () => {
  const events = [datapoint('string', 'hé, "quoted"\nline'), datapoint('integer', 42), datapoint('integer', { nested: [1, 2] }), datapoint('boolean', false), datapoint('message', '=1+2')];
  const file = csvFile('datapoint', events.map((e) => csvRow(e, 'datapoint')));

  it('decodes display_name, resource_tags, metadata and the base64 values, and leaves plain values alone', () => {
    const preview = previewCsv(file, true, 50);
    const col = (name: string) => preview.columns.indexOf(name);
    expect(preview.decoded).toEqual(['display_name', 'resource_tags', 'value', 'metadata']);
    expect(preview.truncated).toBe(false);
    expect(preview.rows).toHaveLength(5);
    expect(preview.rows.map((r) => r[col('value')])).toEqual(['hé, "quoted"\nline', '42', '{"nested":[1,2]}', 'false', '=1+2']);
    expect(preview.rows[0]![col('display_name')]).toBe('Blue LED, "kitchen"');
    expect(preview.rows[0]![col('resource_tags')]).toBe('["a","b"]');
    expect(preview.rows[0]![col('metadata')]).toBe('{"k":"v"}');
    expect(preview.rows[1]![col('dsn')]).toBe('AC01');
  });

  it('stops at the rows asked for and says so', () => {
    const preview = previewCsv(file, true, 2);
    expect(preview.rows).toHaveLength(2);
    expect(preview.truncated).toBe(true);
  });

  it('drops the partial last record of a file read only in part', () => {
    const cut = file.slice(0, file.length - 7);
    const preview = previewCsv(cut, false, 50);
    expect(preview.rows).toHaveLength(4);
    expect(preview.truncated).toBe(true);
  });

  it('leaves a cell that is not base64 as it is', () => {
    const preview = previewCsv('display_name,base_type,value\r\nnot base64!,string,%%%\r\n', true, 5);
    expect(preview.rows).toEqual([['not base64!', 'string', '%%%']]);
    expect(preview.decoded).toEqual([]);
  });
});

describe('parseCsvRecords', () => {
  it('reads quoted fields with commas, quotes and line breaks', () => {
    expect(parseCsvRecords('a,b\r\n"x,1","say ""hi""\r\nthere"\r\n', false)).toEqual([['a', 'b'], ['x,1', 'say "hi"\r\nthere']]);
  });
});

describe('parsePreviewRows', () => {
  it('defaults to 50 and takes 1–200', () => {
    expect(parsePreviewRows(undefined)).toBe(50);
    expect(parsePreviewRows('1')).toBe(1);
    expect(parsePreviewRows('200')).toBe(200);
    for (const bad of ['0', '201', '1.5', '-1', 'x', ' 5']) expect(() => parsePreviewRows(bad)).toThrow(RangeError);
  });
});
