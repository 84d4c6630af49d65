import { COLUMNS, csvFile, csvRow, headerRow, neutralise, quote } from '../../../../../lambdas/domain/export/csv';
import { validateEvent, type DeviceEvent, type EventType } from '../../../../../lambdas/domain/device-events';
import { seedEvents } from './seed-events';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const decodeBack = (text: string) => Buffer.from(text, 'base64').toString('utf8');

function valid(raw: unknown): { event: DeviceEvent; type: EventType } {
  const result = validateEvent(raw);
  if (!result.ok) throw new Error(result.reason);
  return result;
}

function row(raw: unknown): string {
  const { event, type } = valid(raw);
  return csvRow(event, type);
}

/** A row split on commas and mapped by header: the seed examples have no quoted fields. */
function byColumn(type: EventType, line: string): Record<string, string> {
  const fields = line.split(',');
  expect(fields).toHaveLength(COLUMNS[type].length);
  return Object.fromEntries(COLUMNS[type].map((c, i) => [c, fields[i]!]));
}

describe('export columns', () => {
  it('are exactly the keys of the seed tables, in their order', () => {
    expect(headerRow('connectivity')).toBe('oem_id,oem_model,dsn,resource_tags,event_type,event_time,user_uuid,status');
    expect(headerRow('datapoint')).toBe(
      'oem_id,oem_model,dsn,property_name,display_name,base_type,resource_tags,event_type,id,created_at_from_device,updated_at,created_at,user_uuid,echo,closed,value,metadata',
    );
    expect(headerRow('datapointack')).toBe(
      'ack_id,ack_message,ack_status,acked_at,base_type,closed,created_at_from_device,created_at,display_name,dsn,echo,event_type,id,metadata,oem_id,oem_model,property_name,resource_tags,updated_at,user_uuid,value',
    );
    expect(headerRow('location')).toBe('created_at,dsn,event_type,ip,lat,long,oem_id,oem_model,provider,resource_tags,user_uuid');
    expect(headerRow('registration')).toBe('dsn,event_type,oem_id,oem_model,registered,registration_type,resource_tags,unregistered_at,user_uuid');
  });
});

describe('rows of the seed examples', () => {
  const uuid = '00000000-0000-0000-0000-000000000000';

  it('connectivity', () => {
    expect(row(seedEvents.connectivity)).toBe(`1234abcd,ledevb,AC000W000123456,,connectivity,2018-09-24T10:26:37Z,${uuid},Online`);
  });

  it('datapoint (display_name base64, boolean value plain, empty metadata and tags empty, null empty)', () => {
    expect(row(seedEvents.datapoint)).toBe(
      `1234abcd,linuxevb,AC000W005606115,Blue_LED,${b64('Blue_LED')},boolean,,datapoint,1ff9b91c-bfe4-11e8-1261-67d251d3ec96,,2018-09-24T10:25:14Z,2018-09-24T10:25:14Z,${uuid},true,false,0,`,
    );
  });

  it('datapointack', () => {
    expect(row(seedEvents.datapointack)).toBe(
      `160c8c90-bfe4-11e8-87f4-8d732085e587,0,200,2018-09-24T10:24:57Z,boolean,false,,2018-09-24T10:24:57Z,${b64('Blue_LED')},AC000W005606115,false,datapointack,15af3cfc-bfe4-11e8-f2f0-9aab1d61f636,,1234abcd,linuxevb,Blue_LED,,2018-09-24T10:24:57Z,${uuid},1`,
    );
  });

  it('datapointack with its body under `datapoint`', () => {
    const { datapointack, ...rest } = seedEvents.datapointack;
    expect(row({ ...rest, datapoint: datapointack })).toBe(row(seedEvents.datapointack));
  });

  it('location', () => {
    expect(row(seedEvents.location)).toBe(`2018-09-24T11:04:07Z,AC000W000340779,location,67.255.234.73,44.769500,-69.428300,1234abcd,ledevb,ip-based,,${uuid}`);
  });

  it('registration (null user_uuid empty)', () => {
    expect(row(seedEvents.registration)).toBe('AC000W000123456,registration,1234abcd,ledevb,false,AP-Mode,,2018-09-24T10:29:50Z,');
  });
});

describe('base64 and quoting', () => {
  const withValue = (baseType: string, value: unknown, extra: Record<string, unknown> = {}) => ({
    ...seedEvents.datapoint,
    metadata: { ...seedEvents.datapoint.metadata, base_type: baseType, ...extra },
    datapoint: { ...seedEvents.datapoint.datapoint, value },
  });

  it.each(['string', 'message', 'file'])('encodes the value of a %s datapoint as base64 of its UTF-8', (baseType) => {
    const text = 'Grüße, "welt"\r\nnext line – 世界 ✓';
    const fields = byColumn('datapoint', row(withValue(baseType, text)));
    expect(fields.value).toBe(b64(text));
    expect(decodeBack(fields.value!)).toBe(text);
  });

  it.each([['integer', 42, '42'], ['decimal', -1.25, '-1.25'], ['float', 3.5e-7, '3.5e-7'], ['boolean', 1, '1']])(
    'writes the value of a %s datapoint plain',
    (baseType, value, expected) => {
      expect(byColumn('datapoint', row(withValue(baseType, value))).value).toBe(expected);
    },
  );

  it('encodes display_name, metadata and resource_tags as base64 JSON text / UTF-8', () => {
    const raw = {
      ...seedEvents.datapoint,
      metadata: { ...seedEvents.datapoint.metadata, display_name: 'Température, salon', resource_tags: ['kitchen', 'floor "1"'] },
      datapoint: { ...seedEvents.datapoint.datapoint, metadata: { source: 'app', note: 'a,b' } },
    };
    const fields = byColumn('datapoint', row(raw));
    expect(decodeBack(fields.display_name!)).toBe('Température, salon');
    expect(JSON.parse(decodeBack(fields.resource_tags!))).toEqual(['kitchen', 'floor "1"']);
    expect(JSON.parse(decodeBack(fields.metadata!))).toEqual({ source: 'app', note: 'a,b' });
  });

  it('quotes plain fields with commas, quotes or line breaks (RFC 4180)', () => {
    expect(quote('plain')).toBe('plain');
    expect(quote('a,b')).toBe('"a,b"');
    expect(quote('say "hi"')).toBe('"say ""hi"""');
    expect(quote('line\nbreak')).toBe('"line\nbreak"');
    expect(quote('cr\rhere')).toBe('"cr\rhere"');
    const raw = { ...seedEvents.connectivity, connection: { ...seedEvents.connectivity.connection, status: 'Off, "really"' } };
    expect(row(raw).endsWith(',"Off, ""really"""')).toBe(true);
  });

  it('keeps non-ASCII plain text as UTF-8', () => {
    const raw = { ...seedEvents.location, location_event: { ...seedEvents.location.location_event, provider: 'géo-ip' } };
    expect(row(raw)).toContain(',géo-ip,');
  });
});

describe('csvFile', () => {
  it('is the header and the rows, each line ended by CRLF', () => {
    expect(csvFile('registration', ['a', 'b'])).toBe(`${headerRow('registration')}\r\na\r\nb\r\n`);
  });
});

describe('formula neutralisation (OWASP CSV injection)', () => {
  it.each([
    ['=SUM(A1:A2)', "'=SUM(A1:A2)"],
    ['+1+2', "'+1+2"],
    ['-2+3', "'-2+3"],
    ['@cmd', "'@cmd"],
    ['\tindent', "'\tindent"],
    ['\rreturn', "'\rreturn"],
    ['-', "'-"],
    ['- 1', "'- 1"],
    ['plain', 'plain'],
    ['a=b', 'a=b'],
    ['', ''],
  ])('prefixes %j with a quote', (text, expected) => {
    expect(neutralise(text)).toBe(expected);
  });

  it.each(['-12.5', '-0', '-1e-7', '-69.428300', '-3E+10'])('leaves %s, a number as JSON writes it, a number', (text) => {
    expect(neutralise(text)).toBe(text);
  });

  it('neutralises plain text columns and non-text values, then quotes as RFC 4180 asks', () => {
    const status = (value: string) => row({ ...seedEvents.connectivity, connection: { ...seedEvents.connectivity.connection, status: value } }).split(',').slice(7).join(',');
    expect(status('=1+1')).toBe("'=1+1");
    expect(status('@SUM(1,2)')).toBe(`"'@SUM(1,2)"`);
    expect(status('\rx')).toBe(`"'\rx"`);
    const withValue = (baseType: string, value: unknown) => ({
      ...seedEvents.datapoint,
      metadata: { ...seedEvents.datapoint.metadata, base_type: baseType },
      datapoint: { ...seedEvents.datapoint.datapoint, value },
    });
    expect(byColumn('datapoint', row(withValue('integer', -12))).value).toBe('-12');
    expect(byColumn('datapoint', row(withValue('decimal', -1.5e-7))).value).toBe('-1.5e-7');
    expect(byColumn('datapoint', row(withValue('integer', '-cmd'))).value).toBe("'-cmd");
    // Text base types are base64: they can never start with a formula character.
    expect(byColumn('datapoint', row(withValue('string', '=cmd'))).value).toBe(b64('=cmd'));
    const location = { ...seedEvents.location, location_event: { ...seedEvents.location.location_event, lat: -44.5, long: '+12', provider: '-x' } };
    expect(row(location)).toContain(",-44.5,'+12,1234abcd,ledevb,'-x,");
  });
});

describe('structured datapoint values', () => {
  it('are base64 of their JSON text whatever the base type, as the seed\'s {"state": 1, "value": 100}', () => {
    for (const base_type of ['integer', 'string', 'boolean']) {
      const raw = {
        ...seedEvents.datapoint,
        metadata: { ...seedEvents.datapoint.metadata, base_type },
        datapoint: { ...seedEvents.datapoint.datapoint, value: { state: 1, value: 100 } },
      };
      const cells = byColumn('datapoint', row(raw));
      expect(decodeBack(cells.value!)).toBe('{"state":1,"value":100}');
    }
    const list = { ...seedEvents.datapoint, datapoint: { ...seedEvents.datapoint.datapoint, value: [1, '=2'] } };
    expect(decodeBack(byColumn('datapoint', row(list)).value!)).toBe('[1,"=2"]');
  });
});
