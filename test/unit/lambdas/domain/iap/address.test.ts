import fc from 'fast-check';
import {
  AddressError,
  condition,
  DatapointAddress,
  ELEMENT_KEYS,
  ElementName,
  ELEMENTS,
  formatSelector,
  KEY_ALIASES,
  KEY_OPERATORS,
  matches,
  MAX_CONDITIONS,
  Operator,
  parseAddress,
  parseLevel,
  parsePaging,
  parseSelector,
  parseTimestamp,
  percentDecode,
  Selector,
  Subjects,
} from '../../../../../lambdas/domain/iap/address';
import { SafeRegex } from '../../../../../lambdas/domain/iap/address-regex';
import { BadRequestError } from '../../../../../lambdas/shared/http';

/** Program steps `pattern` visits on `subject`, checked against the linear bound. */
function linearSteps(pattern: string, subject: string): number {
  const regex = SafeRegex.compile(pattern);
  const meter = { steps: 0 };
  regex.test(subject, meter);
  expect(meter.steps).toBeLessThanOrEqual(regex.size * ([...subject].length + 1));
  return meter.steps;
}

/** The error `f` throws (failing the test when it throws none, or something else). */
function addressError(f: () => unknown): AddressError {
  try {
    f();
  } catch (error) {
    if (error instanceof AddressError) return error;
    throw error;
  }
  throw new Error('no AddressError thrown');
}

const at = (iso: string) => Date.parse(iso);

// ---- the seed's examples, end to end -----------------------------------------------------------

/** A logged value in the seed's reply shape. */
interface LoggedValue {
  id: number;
  utc: string;
  deviceId: string;
  deviceName: string;
  blockName: string;
  blockIndex: string;
  datapointName: string;
  deviceState: string;
  deviceHealth: string;
  value: number | string;
  tags: Record<string, string | null>[];
}

let nextId = 1;
function logged(deviceId: string, blockName: string, datapointName: string, levels: number[], utc = '2022-03-29 10:00:00.000 UTC', value: number | string = 1): LoggedValue {
  return {
    id: nextId++, utc, deviceId, deviceName: deviceId, blockName, blockIndex: '0', datapointName,
    deviceState: 'provisioned', deviceHealth: 'normal', value,
    tags: levels.map((level) => ({ [`log_level_${level}`]: null })),
  };
}

const VALUES: LoggedValue[] = [
  logged('17q2d95.4', 'device', 'nvoEnergy', [1]), // 1
  logged('17q2d95.4', 'device', 'nvoEnergy', [2]), // 2
  logged('17q2d95.4', 'device', 'nvoEnergy', [1, 2]), // 3
  logged('17q2d95.4', 'device', 'nvoVoltage', [1]), // 4
  logged('17q2d95.4', 'Lamp', 'nviValue', [1]), // 5
  logged('T6tWyg8.3', 'device', 'nvoEnergy', [1]), // 6
  logged('T6tWyg8.3', 'device', 'nvoVoltage', [2]), // 7
  logged('T6tWyg8.3', 'device', 'nvoPwrFactor', [3]), // 8
  logged('T6tWyg8.3', 'device', 'nvoEnergyTotal', [1]), // 9: the pattern's `^(nvoEnergy)` has no `$`
  logged('T6tWyg8.3', 'device', 'nviPT', [1]), // 10
  logged('2', 'device', 'nviPT', [1], '2019-01-11 23:27:46.045 UTC'), // 11
  logged('2', 'device', 'nvoEPpos', [1]), // 12
];

const tagNames = (v: LoggedValue) => v.tags.flatMap((t) => Object.keys(t));

/** Which logged values an address selects, evaluated element by element. */
function select(address: DatapointAddress): number[] {
  return VALUES.filter((v) => {
    const timestamp = parseTimestamp(v.utc);
    return (
      matches(address.id, { id: v.deviceId, name: v.deviceName, state: v.deviceState, health: v.deviceHealth }) &&
      matches(address.block, { name: v.blockName }) &&
      matches(address.blockIndex, { index: v.blockIndex }) &&
      matches(address.datapoint, { name: v.datapointName, tags: tagNames(v), timestamp }) &&
      (address.valueParam === undefined || matches(address.valueParam, { id: v.id, tags: tagNames(v), timestamp, value: v.value }))
    );
  }).map((v) => v.id);
}

const ROUTE = /^\/iap\/devs\/([^/]+)\/if\/([^/]+)\/([^/]+)\/([^/]+)\/logs(?:\/value\/([^/]+)|\/[^/]+)?$/;

/** The path parameters of a request path: as written (raw) or as API Gateway hands them (decoded). */
function pathParameters(path: string, form: 'raw' | 'gateway'): Record<string, string | undefined> {
  const m = ROUTE.exec(path);
  if (!m) throw new Error(`not a logs route: ${path}`);
  const decode = (s: string | undefined) => (s === undefined || form === 'raw' ? s : decodeURIComponent(s));
  return { id: decode(m[1]), block: decode(m[2]), block_index: decode(m[3]), datapoint_name: decode(m[4]), value_param: decode(m[5]) };
}

describe('the seed examples', () => {
  const lvl = (n: number) => ({ [`log_level_${n}`]: null });
  it.each([
    ['/iap/devs/*/if/*/*/nviPT/logs', [10, 11]],
    ['/iap/devs/*/if/*/*/nvoEPpos/logs/minDeltaValue', [12]],
    ['/iap/devs/17q2d95.4/if/*/*/*+name==nvoEnergy&tag==log_level_1/logs/value/*', [1, 3]],
    ['/iap/devs/T6tWyg8.3/if/*/*/*+name=+^(nvoEnergy)%7C(nvoVoltage)%7C(nvoPwrFactor)/logs/value/*', [6, 7, 8, 9]],
    ['/iap/devs/*/if/*/*/*/logs/value/*', VALUES.map((v) => v.id)],
  ])('%s selects %j, raw or decoded by API Gateway', (path, expected) => {
    const raw = parseAddress(pathParameters(path, 'raw'));
    const gateway = parseAddress(pathParameters(path, 'gateway'));
    expect(gateway).toEqual(raw);
    expect(select(raw)).toEqual(expected);
    expect(lvl(1)).toEqual({ log_level_1: null }); // the seed's tag shape, read by tagNames()
  });

  it('reads the seed paths into the expected selectors', () => {
    const address = parseAddress(pathParameters('/iap/devs/T6tWyg8.3/if/*/*/*+name=+^(nvoEnergy)%7C(nvoVoltage)%7C(nvoPwrFactor)/logs/value/*', 'raw'));
    expect(address).toMatchObject({
      id: { element: 'id', kind: 'literal', value: 'T6tWyg8.3' },
      block: { kind: 'all' },
      blockIndex: { kind: 'all' },
      datapoint: { kind: 'query', conditions: [{ key: 'name', op: '=+', value: '^(nvoEnergy)|(nvoVoltage)|(nvoPwrFactor)' }] },
      valueParam: { element: 'value_param', kind: 'all' },
    });
    expect(parseAddress(pathParameters('/iap/devs/*/if/*/*/nviPT/logs', 'raw')).valueParam).toBeUndefined();
  });

  it('names a missing path parameter', () => {
    expect(addressError(() => parseAddress({ id: '*', block: '*', block_index: '*' }))).toMatchObject({ element: 'datapoint_name', message: 'datapoint_name: missing path element' });
    expect(addressError(() => parseAddress(undefined)).element).toBe('id');
  });
});

// ---- selectors: every key, operator and alias ----------------------------------------------------

const DATAPOINT: Subjects['datapoint_name'] = { name: 'nvoEnergy', tags: ['log_level_1', 'log_level_2'], timestamp: at('2022-03-29T12:00:00Z') };

function holds<E extends ElementName>(element: E, text: string, subject: Subjects[E]): boolean {
  return matches(parseSelector(element, text), subject);
}

describe('selectors', () => {
  it('reads *, literals and queries', () => {
    expect(parseSelector('block', '*')).toEqual({ element: 'block', kind: 'all' });
    expect(parseSelector('id', '17q2d95.4')).toEqual({ element: 'id', kind: 'literal', value: '17q2d95.4' });
    expect(parseSelector('datapoint_name', '*+name==nvoEnergy&tag==log_level_1')).toEqual({
      element: 'datapoint_name',
      kind: 'query',
      conditions: [
        { key: 'name', op: '==', value: 'nvoEnergy' },
        { key: 'tag', op: '==', value: 'log_level_1' },
      ],
    });
  });

  it.each([
    // operators on a text field
    ['*+name==nvoEnergy', true],
    ['*+name==nvoenergy', false], // == is exact
    ['*+name!=nvoVoltage', true],
    ['*+name!=nvoEnergy', false],
    ['*+name=+^NVO', true], // =+ ignores case
    ['*+name=+voltage', false],
    ['*+name!+voltage', true],
    ['*+name!+energy$', false],
    ['*+name<nvoF', true], // text order: "nvoE…" < "nvoF"
    ['*+name<nvoEnergy', false],
    ['*+name<=nvoEnergy', true],
    ['*+name>nvoA', true],
    ['*+name>nvoEnergy', false],
    ['*+name=>nvoEnergy', true],
    ['*+name>=nvoEnergy', true],
    ['*+name>=nvoZ', false],
    // tags: any / none
    ['*+tag==log_level_1', true],
    ['*+tag==log_level_3', false],
    ['*+tag!=log_level_3', true],
    ['*+tag!=log_level_2', false],
    ['*+tag=+_2$', true],
    ['*+tag=+_3$', false],
    ['*+tag!+_3$', true],
    ['*+tag!+^LOG', false],
    // time, and the utc alias
    ['*+timestamp=>2022-03-29T00:00Z&timestamp<2022-03-30T00:00Z', true],
    ['*+utc=>2022-03-29T00:00Z&utc<2022-03-29T12:00Z', false],
    ['*+timestamp<=2022-03-29T12:00Z', true],
    ['*+timestamp>2022-03-29', true],
    ['*+timestamp>=2022-03-29T12:00:00.001Z', false],
    ['*+timestamp==2022-03-29T12:00:00.000Z', true],
    ['*+timestamp!=2022-03-29T12:00Z', false],
    ['*+timestamp==2022-03-29T14:00+02:00', true],
    // every condition must hold
    ['*+name==nvoEnergy&tag==log_level_1', true],
    ['*+name==nvoEnergy&tag==log_level_3', false],
  ])('datapoint_name %s on nvoEnergy [log_level_1, log_level_2] at 2022-03-29T12:00Z: %s', (text, expected) => {
    expect(holds('datapoint_name', text, DATAPOINT)).toBe(expected);
  });

  it('normalizes aliases: utc → timestamp, >= → =>, block_index name → index', () => {
    expect(parseSelector('datapoint_name', '*+utc>=2022-03-29')).toEqual(parseSelector('datapoint_name', '*+timestamp=>2022-03-29'));
    expect(parseSelector('value_param', '*+utc>=2022-03-29')).toMatchObject({ conditions: [{ key: 'timestamp', op: '=>', time: at('2022-03-29T00:00:00Z') }] });
    expect(parseSelector('block_index', '*+name==2')).toEqual(parseSelector('block_index', '*+index==2'));
  });

  it.each([
    ['*+id==17q2d95.4', true],
    ['*+name=+^00d0', true],
    ['*+state==provisioned', true],
    ['*+state!=provisioned', false],
    ['*+health==normal&state==provisioned', true],
    ['*+health=+^(suspect)|(down)$', false],
  ])('id %s: %s', (text, expected) => {
    expect(holds('id', text, { id: '17q2d95.4', name: '00D07111EAC0', state: 'provisioned', health: 'normal' })).toBe(expected);
  });

  it('a field the subject lacks satisfies only != and !+', () => {
    expect(holds('id', '*+state==provisioned', { id: 'x' })).toBe(false);
    expect(holds('id', '*+state!=provisioned', { id: 'x' })).toBe(true);
    expect(holds('id', '*+state!+^p', { id: 'x' })).toBe(true);
    expect(holds('id', '*+state<z', { id: 'x' })).toBe(false);
    expect(holds('datapoint_name', '*+tag!=log_level_1', { name: 'n' })).toBe(true);
    expect(holds('datapoint_name', '*+timestamp<2030-01-01', { name: 'n' })).toBe(false);
  });

  it('blocks by name, block indexes by number or text', () => {
    expect(holds('block', '*+name==Lamp', { name: 'Lamp' })).toBe(true);
    expect(holds('block', '*+name=+^lamp$', { name: 'Lamp' })).toBe(true);
    expect(holds('block_index', '*+index<10', { index: 2 })).toBe(true); // numeric, not "2" < "10" as text
    expect(holds('block_index', '*+index<10', { index: '2' })).toBe(true); // numeric text orders numerically
    expect(holds('block_index', '*+name=>2&index<=2', { index: 2 })).toBe(true);
    expect(holds('block_index', '*+index==2.0', { index: 2 })).toBe(true); // a number field compares as a number
    expect(holds('block_index', '*+index==2.0', { index: '2' })).toBe(false); // text compares exactly
    expect(holds('block_index', '*+index!=0', { index: 0 })).toBe(false);
  });

  it.each([
    ['*+id==19', true],
    ['*+id>10&id<20', true],
    ['*+value>100', true],
    ['*+value>=1e3', false],
    ['*+value==150', true],
    ['*+tag==log_level_2&timestamp<2017-08-24', true],
    ['*+utc>2017-08-23T10:34:22.123Z', false],
  ])('value_param %s: %s', (text, expected) => {
    expect(holds('value_param', text, { id: 19, tags: ['log_level_2'], timestamp: at('2017-08-23T10:34:22.123Z'), value: 150 })).toBe(expected);
  });

  it('compares text values as text and regexes against the text of numbers', () => {
    expect(holds('value_param', '*+value==ALWAYS', { id: 1, value: 'ALWAYS' })).toBe(true);
    expect(holds('value_param', '*+value=+^always$', { id: 1, value: 'ALWAYS' })).toBe(true);
    expect(holds('value_param', '*+value=+^15', { id: 1, value: 150 })).toBe(true);
    expect(holds('value_param', '*+value==true', { id: 1, value: true })).toBe(true);
    expect(holds('value_param', '*+value!=x', { id: 1, value: null })).toBe(true);
  });

  it('literals match the primary field exactly; * matches everything', () => {
    expect(holds('id', '17q2d95.4', { id: '17q2d95.4' })).toBe(true);
    expect(holds('id', '17Q2D95.4', { id: '17q2d95.4' })).toBe(false);
    expect(holds('block', 'device', { name: 'device' })).toBe(true);
    expect(holds('block_index', '0', { index: 0 })).toBe(true);
    expect(holds('block_index', '00', { index: 0 })).toBe(false);
    expect(holds('datapoint_name', 'nviPT', { name: 'nviPT' })).toBe(true);
    expect(holds('datapoint_name', 'nviPT', { name: 'nviPTx' })).toBe(false);
    expect(holds('value_param', '19', { id: 19 })).toBe(true);
    expect(holds('datapoint_name', '*', { name: 'anything' })).toBe(true);
  });
});

// ---- percent-decoding ------------------------------------------------------------------------------

describe('percent-decoding', () => {
  it('decodes values after splitting: %7C, %26, %2B, %25, lower-case hex, UTF-8', () => {
    expect(parseSelector('datapoint_name', '*+name=+^(nvoEnergy)%7C(nvoVoltage)')).toEqual(parseSelector('datapoint_name', '*+name=+^(nvoEnergy)|(nvoVoltage)'));
    expect(parseSelector('datapoint_name', '*+name=+a%7cb')).toMatchObject({ conditions: [{ value: 'a|b' }] });
    expect(parseSelector('datapoint_name', '*+name==a%26b&tag==x')).toMatchObject({ conditions: [{ key: 'name', value: 'a&b' }, { key: 'tag', value: 'x' }] });
    expect(parseSelector('datapoint_name', '*+name=+^nvo%2B')).toMatchObject({ conditions: [{ value: '^nvo+' }] });
    expect(parseSelector('datapoint_name', 'nvo%2BX')).toEqual({ element: 'datapoint_name', kind: 'literal', value: 'nvo+X' });
    expect(parseSelector('datapoint_name', '100%25')).toMatchObject({ value: '100%' });
    expect(parseSelector('block', 'caf%C3%A9%F0%9F%98%80')).toMatchObject({ value: 'café😀' });
  });

  it('passes already-decoded text without % unchanged', () => {
    const decoded = '*+name=+^(nvoEnergy)|(nvoVoltage)&tag==log_level_1';
    expect(formatSelector(parseSelector('datapoint_name', decoded), { encoding: 'minimal' })).toBe(decoded);
    expect(percentDecode('id', 'T6tWyg8.3')).toBe('T6tWyg8.3');
  });

  it('reads < and > as operators also when encoded (a URI cannot carry them), other escapes as data', () => {
    expect(parseSelector('datapoint_name', '*+timestamp%3E=2022-03-29&utc%3c2022-03-30')).toEqual(parseSelector('datapoint_name', '*+timestamp>=2022-03-29&timestamp<2022-03-30'));
    expect(parseSelector('datapoint_name', '*+name=%3Ex')).toMatchObject({ conditions: [{ op: '=>', value: 'x' }] });
    expect(parseSelector('datapoint_name', '*+name<%3Dx')).toMatchObject({ conditions: [{ op: '<', value: '=x' }] });
    expect(parseSelector('id', '%2A')).toEqual({ element: 'id', kind: 'literal', value: '*' });
    expect(addressError(() => parseSelector('id', '*%2Bname==x')).position).toBe(1);
  });

  it.each([
    ['*+name==%', 8],
    ['*+name==%4', 8],
    ['*+name==a%GG', 9],
    ['*+name==%C3', 8], // a lone lead byte
    ['*+name==x%C3%28', 9], // not UTF-8
    ['*+name==%ED%A0%80', 8], // an encoded surrogate
    ['100%', 3],
    ['a%zz', 1],
  ])('rejects the malformed escape in %j at %d', (text, position) => {
    const error = addressError(() => parseSelector('datapoint_name', text));
    expect(error.position).toBe(position);
    expect(error.message).toMatch(/percent escape/);
  });

  it('rejects unpaired surrogates', () => {
    expect(addressError(() => parseSelector('block', 'ab\uD800')).message).toBe('block: unpaired UTF-16 surrogate at position 2 in "ab\\ud800"');
  });
});

// ---- errors ------------------------------------------------------------------------------------

describe('errors name the element and the position', () => {
  it('is a 400 BadRequestError with code BadPath', () => {
    const error = addressError(() => parseSelector('datapoint_name', '*+name=~x'));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: 'BadPath', name: 'AddressError', element: 'datapoint_name', position: 6 });
    expect(error.message).toBe('datapoint_name: unknown operator "=~" (expected ==, !=, =+, !+, <, <=, >, =>, >=) at position 6 in "*+name=~x"');
  });

  it.each<[ElementName, string, RegExp, number]>([
    ['datapoint_name', '', /empty path element/, 0],
    ['datapoint_name', '*x', /expected "\*" alone or "\*\+"/, 1],
    ['datapoint_name', '*+', /expected a condition/, 2],
    ['datapoint_name', '*+==x', /expected a key/, 2],
    ['datapoint_name', '*+nme==x', /unknown key "nme" \(expected name, tag, timestamp, utc\)/, 2],
    ['datapoint_name', '*+Name==x', /unknown key "Name"/, 2],
    ['datapoint_name', '*+name', /expected an operator/, 6],
    ['datapoint_name', '*+name x', /expected an operator/, 6],
    ['datapoint_name', '*+name=x', /unknown operator "=x"/, 6],
    ['datapoint_name', '*+name!x', /unknown operator "!x"/, 6],
    ['datapoint_name', '*+name+=x', /unknown operator "\+="/, 6],
    ['datapoint_name', '*+name==', /missing value/, 8],
    ['datapoint_name', '*+name==a&', /expected a condition/, 10],
    ['datapoint_name', '*+name==a&&tag==b', /expected a key/, 10],
    ['datapoint_name', '*+name==a&tag<b', /operator < does not apply to tag/, 13],
    ['datapoint_name', '*+timestamp=+2022', /operator =\+ does not apply to timestamp/, 11],
    ['datapoint_name', '*+timestamp>yesterday', /expected a timestamp like 2022-03-29T00:00Z/, 12],
    ['datapoint_name', '*+utc<2022-02-30', /expected a timestamp/, 6],
    ['datapoint_name', '*+name=+(a', /invalid regular expression: unterminated group/, 8],
    ['datapoint_name', '*+name=+a%7C(b', /invalid regular expression: unterminated group/, 12],
    ['datapoint_name', '*+name=+(a)\\1', /backreferences are not supported/, 11],
    ['datapoint_name', '*+name=+x(?=y)', /lookarounds/, 9],
    ['datapoint_name', `*+name=+${'a'.repeat(257)}`, /value longer than 256 characters/, 8 + 256],
    ['datapoint_name', `*+name==${'a'.repeat(257)}`, /value longer than 256 characters/, 8 + 256],
    ['datapoint_name', 'x'.repeat(1025), /longer than 1024 characters/, 1024],
    ['datapoint_name', `*+${Array(MAX_CONDITIONS + 1).fill('name==x').join('&')}`, /more than 16 conditions/, 2 + 8 * 16],
    ['id', '*+tag==x', /unknown key "tag" \(expected name, id, state, health\)/, 2],
    ['block', '*+index==1', /unknown key "index" \(expected name\)/, 2],
    ['block_index', '*+tag==x', /unknown key "tag" \(expected index, name\)/, 2],
    ['value_param', '*+name==x', /unknown key "name" \(expected id, tag, timestamp, value, utc\)/, 2],
  ])('%s %j: %s at %d', (element, text, problem, position) => {
    const error = addressError(() => parseSelector(element, text));
    expect(error.element).toBe(element);
    expect(error.position).toBe(position);
    expect(error.message).toMatch(problem);
    expect(error.message.startsWith(`${element}: `)).toBe(true);
    expect(error.message).toContain(`at position ${position} in "`);
  });
});

// ---- timestamps ------------------------------------------------------------------------------------

describe('parseTimestamp', () => {
  it.each([
    ['2022-03-29T00:00Z', '2022-03-29T00:00:00.000Z'],
    ['2022-03-29T00:00:00.123Z', '2022-03-29T00:00:00.123Z'],
    ['2022-03-29T00:00:00.123456789Z', '2022-03-29T00:00:00.123Z'],
    ['2022-03-29T00:00:00.1Z', '2022-03-29T00:00:00.100Z'],
    ['2022-03-29', '2022-03-29T00:00:00.000Z'],
    ['2022-03-29T10:15', '2022-03-29T10:15:00.000Z'],
    ['2022-03-29T02:00+02:00', '2022-03-29T00:00:00.000Z'],
    ['2022-03-28T21:30-0230', '2022-03-29T00:00:00.000Z'],
    ['2019-01-11 23:27:46.045 UTC', '2019-01-11T23:27:46.045Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['0050-01-01', '0050-01-01T00:00:00.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(new Date(parseTimestamp(text)!).toISOString()).toBe(iso);
  });

  it.each(['', '2022', '2022-3-29', '29/03/2022', '2022-02-30', '2023-02-29', '2022-13-01', '2022-00-10', '2022-03-00', '2022-03-29T24:00Z', '2022-03-29T10:60Z', '2022-03-29T10:00:60Z', '2022-03-29T10:00+24:00', '2022-03-29T10:00ZZ'])(
    'refuses %j',
    (text) => expect(parseTimestamp(text)).toBeUndefined(),
  );
});

// ---- regexes through the address ---------------------------------------------------------------------

describe('regex conditions', () => {
  it.each([
    ['^(nvoEnergy)|(nvoVoltage)|(nvoPwrFactor)', ['nvoEnergy', 'nvoVoltage', 'x_nvoPwrFactor'], ['nviValue', 'x_nvoEnergy']],
    ['^nvo', ['nvoEnergy', 'NVOx'], ['nviValue', 'x_nvo']],
    ['Energy$', ['nvoEnergy'], ['nvoEnergyTotal']],
    ['nvo.*', ['nvo', 'nvoEnergy'], ['nv']],
    ['[a-z]+_\\d', ['log_1', 'Level_2'], ['_1', 'log_x']],
    ['log_level_[12]', ['log_level_1', 'log_level_2'], ['log_level_3']],
  ])('%s', (pattern, yes, no) => {
    const selector = parseSelector('datapoint_name', `*+name=+${encodeURIComponent(pattern)}`);
    for (const name of yes) expect([name, matches(selector, { name })]).toEqual([name, true]);
    for (const name of no) expect([name, matches(selector, { name })]).toEqual([name, false]);
  });

  // Linear-time matching (lambdas/domain/iap/address-regex.ts), so hostile patterns are accepted and
  // do work linear in the subject (counted in program steps, not timed); only patterns that expand
  // beyond the program cap are refused (400).
  const hostileName = 'a'.repeat(50_000) + '!';
  it.each([
    ['(a+)+$', false],
    ['(a|a)*$', true],
    ['(.*a){20}', true],
    ['(.*a){20}$', false],
  ])('hostile %s on 50,001 characters does linear work: %s', (pattern, expected) => {
    const selector = parseSelector('datapoint_name', `*+name=+${encodeURIComponent(pattern)}`);
    expect(matches(selector, { name: hostileName })).toBe(expected);
    linearSteps(pattern, hostileName);
  });

  it('refuses patterns too large once expanded, with a 400', () => {
    const error = addressError(() => parseSelector('datapoint_name', '*+name=+((a{50}){50})'));
    expect(error).toMatchObject({ statusCode: 400, position: 9 }); // the outer repetition, (a{50}){50}
    expect(error.message).toMatch(/pattern too complex/);
  });
});

// ---- level and paging ---------------------------------------------------------------------------------

describe('parseLevel', () => {
  it.each([['1', 1], ['2', 2], ['3', 3], ['level1', 1], ['Level2', 2], ['LEVEL3', 3], ['%33', 3]])('%s is %d', (text, level) => {
    expect(parseLevel(text)).toBe(level);
  });
  it.each(['0', '4', '', 'level', 'level4', '1 ', 'one', '%'])('refuses %j', (text) => {
    expect(addressError(() => parseLevel(text))).toMatchObject({ element: 'level', statusCode: 400 });
  });
});

describe('parsePaging', () => {
  it('is undefined without pg', () => {
    expect(parsePaging(undefined)).toBeUndefined();
    expect(parsePaging(null)).toBeUndefined();
    expect(parsePaging({})).toBeUndefined();
    expect(parsePaging({ pg: undefined })).toBeUndefined();
  });

  it('reads pg (first page 0), sz (default 50, up to 1000) and xs', () => {
    expect(parsePaging({ pg: '0' })).toEqual({ page: 0, size: 50 });
    expect(parsePaging({ pg: '3', sz: '1000', xs: 'snap_1-A' })).toEqual({ page: 3, size: 1000, snapshot: 'snap_1-A' });
    expect(parsePaging({ pg: '1', sz: '1', xs: undefined })).toEqual({ page: 1, size: 1 });
  });

  it.each<[Record<string, string>, string, number | undefined]>([
    [{ pg: '-1' }, 'pg', 0],
    [{ pg: '1.5' }, 'pg', 1],
    [{ pg: '' }, 'pg', 0],
    [{ pg: '1234567890' }, 'pg', 9],
    [{ pg: '1', sz: '0' }, 'sz', 0],
    [{ pg: '1', sz: '1001' }, 'sz', 0],
    [{ pg: '1', sz: '5x' }, 'sz', 1],
    [{ pg: '1', xs: '' }, 'xs', 0],
    [{ pg: '1', xs: 'a b' }, 'xs', 1],
    [{ pg: '1', xs: 'x'.repeat(201) }, 'xs', 200],
    [{ sz: '10' }, 'sz', undefined],
    [{ xs: 'abc' }, 'xs', undefined],
    [{ pg: '0', page: '1' }, 'query', undefined],
  ])('refuses %j (element %s, position %s) with BadQuery', (query, element, position) => {
    const error = addressError(() => parsePaging(query));
    expect(error).toMatchObject({ statusCode: 400, code: 'BadQuery', element, position });
    expect(error.message.startsWith(`${element}: `)).toBe(true);
  });

  it('says what it expected', () => {
    expect(addressError(() => parsePaging({ pg: '0', name: 'x' })).message).toBe('query: unknown parameter "name" (expected pg, sz, xs)');
    expect(addressError(() => parsePaging({ sz: '10' })).message).toBe('sz: needs pg (paging starts at pg=0) in "10"');
    expect(addressError(() => parsePaging({ pg: 'first' })).message).toBe('pg: expected a page number, an integer ≥ 0 (the first page is 0) at position 0 in "first"');
  });
});

// ---- properties ------------------------------------------------------------------------------------

const SUBJECTS: { [E in ElementName]: Subjects[E] } = {
  id: { id: '17q2d95.4', name: '00D07111EAC0', state: 'provisioned', health: 'normal' },
  block: { name: 'device' },
  block_index: { index: 0 },
  datapoint_name: { name: 'nvoEnergy', tags: ['log_level_1'], timestamp: 0 },
  value_param: { id: 1, tags: [], timestamp: 0, value: 12 },
};

const grammarAlphabet = fc.constantFrom(
  ...'*+=!<>&%|()^$.[]{}\\?-_:0123456789 nametgsudxvlhi'.split(''),
  '%7C', '%26', '%2B', '%3C', '%3E', '%3D', '%25', '%C3', '%A9', '%G', 'name', 'tag', 'timestamp', 'utc', 'id', 'index', '2022-03-29', 'T00:00Z',
);
const grammarText = fc.string({ unit: grammarAlphabet, maxLength: 40 });
const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)) }), // lone surrogates
  grammarText,
  fc.tuple(fc.constantFrom('*+', '*+name', '*+name=+', '*+tag==', '*+timestamp', '*+utc>=', '*+index<'), grammarText).map(([a, b]) => a + b),
);

/** Every byte of the UTF-8 form as %XX. */
const encodeAll = (s: string) => [...new TextEncoder().encode(s)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

// Regex sources for generated conditions: ordinary ones and small generated ones.
const patternPiece = fc.constantFrom('a', 'b', 'nvo', '.', '\\d', '\\w', '[a-z]', '[^_]', '(x|y)', '(?:ab)', '^', '$', '&', '%', '|', ' ', 'é', '\\.');
const patternQuantifier = fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,3}');
const regexSource = fc.oneof(
  fc.constantFrom('^(nvoEnergy)|(nvoVoltage)|(nvoPwrFactor)', '^nvo', 'Energy$', 'nvo.*', '[a-z]+_\\d', 'log_level_[12]'),
  fc.array(fc.tuple(patternPiece, patternQuantifier), { minLength: 1, maxLength: 6 }).map((ps) => ps.map(([p, q]) => (p === '^' || p === '$' || p === '|' ? p : p + q)).join('')),
);
const timeText = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .chain((d) => fc.constantFrom(d.toISOString(), d.toISOString().slice(0, 10), `${d.toISOString().slice(0, 16)}Z`));
const plainText = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
);

function valueFor(key: string, op: string): fc.Arbitrary<string> {
  if (op === '=+' || op === '!+') return regexSource;
  if (key === 'timestamp' || key === 'utc') return timeText;
  return plainText;
}

/** Key (or alias), operator (with >=) and value as a caller would write them, before encoding. */
function conditionParts(element: ElementName): fc.Arbitrary<{ key: string; op: Operator | '>='; value: string }> {
  const aliases = KEY_ALIASES[element];
  const keys = [...ELEMENT_KEYS[element], ...Object.keys(aliases)];
  return fc.constantFrom(...keys).chain((key) => {
    const resolved = aliases[key] ?? (key as (typeof ELEMENT_KEYS)[ElementName][number]);
    const ops: (Operator | '>=')[] = [...KEY_OPERATORS[resolved]];
    if (ops.includes('=>')) ops.push('>=');
    return fc.constantFrom(...ops).chain((op) => valueFor(key, op).map((value) => ({ key, op, value })));
  });
}

const selectorArb: fc.Arbitrary<Selector> = fc.constantFrom(...ELEMENTS).chain((element) =>
  fc.oneof(
    fc.constant<Selector>({ element, kind: 'all' }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }).map<Selector>((value) => ({ element, kind: 'literal', value })),
    fc
      .array(conditionParts(element), { minLength: 1, maxLength: 3 })
      .map<Selector>((parts) => ({ element, kind: 'query', conditions: parts.map((p) => condition(element, p.key, p.op, p.value)) })),
  ),
);

describe('properties', () => {
  it('(i) parsing arbitrary text either succeeds or throws an AddressError (never anything else)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ELEMENTS), anyText, (element, text) => {
        let selector: Selector;
        try {
          selector = parseSelector(element, text);
        } catch (error) {
          expect(error).toBeInstanceOf(AddressError);
          expect((error as AddressError).message.startsWith(`${element}: `)).toBe(true);
          return;
        }
        // What parses can be evaluated and printed.
        expect(typeof matches(selector, SUBJECTS[element])).toBe('boolean');
        expect(typeof formatSelector(selector)).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });

  it('(i) so do the level and paging parsers', () => {
    fc.assert(
      fc.property(anyText, fc.dictionary(fc.constantFrom('pg', 'sz', 'xs', 'x'), anyText), (text, query) => {
        for (const parse of [() => parseLevel(text), () => parsePaging(query)]) {
          try {
            parse();
          } catch (error) {
            expect(error).toBeInstanceOf(AddressError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('(ii) printing a selector and parsing it back gives the same selector (URI and minimal encodings)', () => {
    fc.assert(
      fc.property(selectorArb, (selector) => {
        const uri = formatSelector(selector);
        expect(uri).toMatch(/^(?:[A-Za-z0-9\-._~!$'()*+,;=:@&]|%[0-9A-F]{2})*$/); // a valid URI path segment
        expect(parseSelector(selector.element, uri)).toEqual(selector);
        expect(parseSelector(selector.element, formatSelector(selector, { encoding: 'minimal' }))).toEqual(selector);
      }),
      { numRuns: 1000 },
    );
  });

  it('(iii) percent-encoding a literal gives the same selector as the unencoded text', () => {
    const literal = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }).filter((v) => !v.startsWith('*') && !v.includes('%'));
    fc.assert(
      fc.property(fc.constantFrom(...ELEMENTS), literal, (element, value) => {
        const plain = parseSelector(element, value);
        expect(plain).toEqual({ element, kind: 'literal', value });
        expect(parseSelector(element, encodeAll(value))).toEqual(plain);
        expect(parseSelector(element, encodeURIComponent(value))).toEqual(plain);
      }),
      { numRuns: 500 },
    );
  });

  it('(iii) percent-encoding a condition value gives the same selector as the unencoded text', () => {
    // Unencoded, a value cannot hold & (it separates conditions) or % (it escapes), nor start with
    // = after < or > (that reads as <= or >=).
    const parts = fc
      .constantFrom(...ELEMENTS)
      .chain((element) => conditionParts(element).map((p) => ({ element, ...p })))
      .filter(({ op, value }) => !value.includes('&') && !value.includes('%') && !((op === '<' || op === '>') && value.startsWith('=')));
    fc.assert(
      fc.property(parts, ({ element, key, op, value }) => {
        const plain = parseSelector(element, `*+${key}${op}${value}`);
        expect(plain).toEqual({ element, kind: 'query', conditions: [condition(element, key, op, value)] });
        expect(parseSelector(element, `*+${key}${op}${encodeAll(value)}`)).toEqual(plain);
        expect(parseSelector(element, `*+${key}${op}${encodeURIComponent(value)}`)).toEqual(plain);
      }),
      { numRuns: 1000 },
    );
  });

  it('(iv) regex conditions do linear work on hostile subjects, or are refused with a 400', () => {
    // Mostly well-formed nested repetitions (the backtracking killers), some token soup.
    const atom = fc.constantFrom('a', '(a|a)', '(a|aa)', '(a+)+', '(a*)*', '(.*a)', '.*', '\\w+', '[a-z]*', '(?:a+a+)+', '(a?){5}a{5}', '\\d*');
    const quantifier = fc.constantFrom('', '*', '+', '?', '{2,5}', '{20}', '{1,}');
    const body = fc.array(fc.tuple(atom, quantifier), { minLength: 1, maxLength: 4 }).map((t) => t.map(([a, q]) => (q ? `(?:${a})${q}` : a)).join(''));
    const wellFormed = fc
      .tuple(fc.constantFrom('', '^'), body, fc.constantFrom('', '*', '+', '{3}', '{10}'), fc.constantFrom('', '$', '!', 'b$'))
      .map(([start, inner, outer, end]) => start + (outer ? `(${inner})${outer}` : inner) + end);
    const soup = fc
      .array(fc.constantFrom('a', 'a*', 'a+', '(a|a)', '(a+)+', '.*', '{2,5}', '{20}', '*', '+', '$', '^', '|', '(', ')', '!'), { minLength: 1, maxLength: 12 })
      .map((t) => t.join(''));
    const hostile = fc.oneof({ weight: 4, arbitrary: wellFormed }, { weight: 1, arbitrary: soup });
    const subjects = ['a'.repeat(10_000) + '!', 'ab'.repeat(5_000) + '!', 'a'.repeat(10_000)];
    let evaluated = 0;
    fc.assert(
      fc.property(hostile, (pattern) => {
        let selector: Selector<'datapoint_name'>;
        try {
          selector = parseSelector('datapoint_name', `*+name=+${encodeURIComponent(pattern)}`);
        } catch (error) {
          expect(error).toBeInstanceOf(AddressError);
          expect((error as AddressError).statusCode).toBe(400);
          return;
        }
        for (const name of subjects) {
          matches(selector, { name });
          linearSteps(pattern, name);
        }
        evaluated++;
      }),
      { numRuns: 200 },
    );
    expect(evaluated).toBeGreaterThan(100); // most generated patterns are accepted and run
  });
});
