import { DEFAULT_CONFIG, type LogConfig } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import { activeLevelTags, datapointPart, hasTimeConditions, literalRef, scopeOf } from '../../../../../lambdas/domain/datapoint-logs/select';
import type { DatapointRecord } from '../../../../../lambdas/domain/datapoint-logs/records';
import { AddressError, matches, parseAddress, parseSelector } from '../../../../../lambdas/domain/iap/address';
import { BadRequestError } from '../../../../../lambdas/shared/http';

const address = (id: string, block: string, blockIndex: string, name: string) =>
  parseAddress({ id, block, block_index: blockIndex, datapoint_name: name });

const record = (config: Partial<LogConfig> = {}): DatapointRecord => ({
  dsn: 'D1', block: 'device', blockIndex: 0, name: 'nvoEnergy', id: 1, registeredAt: 0, config: { ...DEFAULT_CONFIG, ...config },
});

const level = (retention: number, interval = 60) => ({ interval, retention, logMultiple: null });

function badPath(f: () => unknown): BadRequestError {
  try {
    f();
  } catch (error) {
    if (error instanceof BadRequestError) {
      expect(error.statusCode).toBe(400);
      expect(error.code).toBe('BadPath');
      return error;
    }
    throw error;
  }
  throw new Error('no BadRequestError thrown');
}

describe('scopeOf', () => {
  it('is empty for the all-wildcard address', () => {
    expect(scopeOf(address('*', '*', '*', '*'))).toEqual({});
  });

  it('fixes every literal element', () => {
    expect(scopeOf(address('00D07111EAC0', 'device', '0', 'nviPT'))).toEqual({ dsn: '00D07111EAC0', block: 'device', blockIndex: 0, name: 'nviPT' });
    expect(scopeOf(address('*', '*', '*', 'nviPT'))).toEqual({ name: 'nviPT' });
    expect(scopeOf(address('D1', '*', '*', '*'))).toEqual({ dsn: 'D1' });
    expect(scopeOf(address('*', 'Lamp', '3', '*'))).toEqual({ block: 'Lamp', blockIndex: 3 });
  });

  it('takes the name from a name== condition of the datapoint element (the seed\'s level-1 example)', () => {
    expect(scopeOf(address('*', '*', '*', '*+name==nvoEnergy&tag==log_level_1'))).toEqual({ name: 'nvoEnergy' });
    expect(scopeOf(address('17q2d95.4', '*', '*', '*+tag==log_level_1&name==nvoEnergy'))).toEqual({ dsn: '17q2d95.4', name: 'nvoEnergy' });
  });

  it('does not narrow by other operators or keys (they are filtered, not keyed)', () => {
    expect(scopeOf(address('*', '*', '*', '*+name=+^(nvoEnergy)%7C(nvoVoltage)'))).toEqual({});
    expect(scopeOf(address('*', '*', '*', '*+name!=nvoEnergy'))).toEqual({});
    expect(scopeOf(address('*', '*', '*', '*+tag==log_level_1'))).toEqual({});
    expect(scopeOf(address('*+id==D1', '*+name==Lamp', '*+index==0', '*'))).toEqual({});
    expect(scopeOf(address('*+state==unprovisioned', '*', '*', '*'))).toEqual({});
  });

  it('percent-decodes literals', () => {
    expect(scopeOf(address('D1', 'my%20block', '0', 'a%23b'))).toEqual({ dsn: 'D1', block: 'my block', blockIndex: 0, name: 'a#b' });
  });

  it.each([['abc'], ['-1'], ['1.5'], ['0x1'], ['1e3'], ['9999999999']])('refuses a literal block_index %j with 400 BadPath', (index) => {
    expect(badPath(() => scopeOf(address('D1', 'device', index, 'nviPT'))).message).toMatch(/block_index/);
    badPath(() => literalRef(address('D1', 'device', index, 'nviPT')));
  });

  it('refuses a literal block_index with leading zeros: keyed as 1, it could never match its own text', () => {
    const a = address('D1', 'device', '01', 'nviPT');
    expect(badPath(() => scopeOf(a)).message).toMatch(/leading zeros/);
  });

  it('a canonical literal block_index is keyed and matched alike', () => {
    for (const index of ['0', '7', '123456789']) {
      const a = address('D1', 'device', index, 'nviPT');
      expect(matches(a.blockIndex, { index: scopeOf(a).blockIndex! })).toBe(true);
    }
  });

  it('takes a wildcard or query block_index without a number', () => {
    expect(scopeOf(address('D1', 'device', '*+index=>2', 'nviPT'))).toEqual({ dsn: 'D1', block: 'device', name: 'nviPT' });
  });
});

describe('literalRef', () => {
  it('names the datapoint of an all-literal address', () => {
    expect(literalRef(address('00D07111EAC0', 'device', '0', 'nviPT'))).toEqual({ dsn: '00D07111EAC0', block: 'device', blockIndex: 0, name: 'nviPT' });
    expect(literalRef(address('D1', 'Lamp', '12', 'nvo%7CX'))).toEqual({ dsn: 'D1', block: 'Lamp', blockIndex: 12, name: 'nvo|X' });
  });

  it.each([
    ['*', 'device', '0', 'nviPT'],
    ['D1', '*', '0', 'nviPT'],
    ['D1', 'device', '*', 'nviPT'],
    ['D1', 'device', '0', '*'],
    ['D1', 'device', '0', '*+name==nviPT'],
    ['*+id==D1', 'device', '0', 'nviPT'],
  ])('is undefined when an element is a wildcard or query: %s/%s/%s/%s', (id, block, index, name) => {
    expect(literalRef(address(id, block, index, name))).toBeUndefined();
  });
});

describe('datapointPart and hasTimeConditions', () => {
  it('leaves literals, * and queries without timestamp conditions as they are', () => {
    for (const text of ['nviPT', '*', '*+name==nvoEnergy&tag==log_level_1']) {
      const selector = parseSelector('datapoint_name', text);
      expect(datapointPart(selector)).toEqual(selector);
      expect(hasTimeConditions(selector)).toBe(false);
    }
  });

  it('drops timestamp (and utc) conditions, which select logged values', () => {
    const selector = parseSelector('datapoint_name', '*+name==nvoEnergy&timestamp=>2022-03-29T00:00Z&utc<2022-03-30T00:00Z');
    expect(hasTimeConditions(selector)).toBe(true);
    const part = datapointPart(selector);
    expect(part).toMatchObject({ kind: 'query', conditions: [{ key: 'name', op: '==', value: 'nvoEnergy' }] });
    expect(matches(part, { name: 'nvoEnergy' })).toBe(true);
  });

  it('is * when only timestamp conditions were given', () => {
    const selector = parseSelector('datapoint_name', '*+timestamp=>2022-03-29T00:00Z');
    expect(hasTimeConditions(selector)).toBe(true);
    expect(datapointPart(selector)).toEqual({ element: 'datapoint_name', kind: 'all' });
  });
});

describe('activeLevelTags', () => {
  it('is empty by default (every retention 0)', () => {
    expect(activeLevelTags(record())).toEqual([]);
  });

  it('tags each level whose retention is above 0, whatever its interval', () => {
    expect(activeLevelTags(record({ levels: [level(2), level(0, 120), level(0, 180)] }))).toEqual(['log_level_1']);
    expect(activeLevelTags(record({ levels: [level(0), level(30, 0), level(0.5)] }))).toEqual(['log_level_2', 'log_level_3']);
    expect(activeLevelTags(record({ levels: [level(1), level(1), level(1)] }))).toEqual(['log_level_1', 'log_level_2', 'log_level_3']);
  });

  it('feeds tag== selection as the seed\'s example uses it', () => {
    const selector = address('*', '*', '*', '*+name==nvoEnergy&tag==log_level_1').datapoint;
    const withLevel1 = record({ levels: [level(7), level(0), level(0)] });
    const withLevel2 = record({ levels: [level(0), level(7), level(0)] });
    expect(matches(datapointPart(selector), { name: 'nvoEnergy', tags: activeLevelTags(withLevel1) })).toBe(true);
    expect(matches(datapointPart(selector), { name: 'nvoEnergy', tags: activeLevelTags(withLevel2) })).toBe(false);
    expect(matches(datapointPart(selector), { name: 'nvoVoltage', tags: activeLevelTags(withLevel1) })).toBe(false);
  });
});

describe('addresses of the config routes', () => {
  it('refuses a malformed element as 400 (AddressError)', () => {
    expect(() => address('*', '*', '*', '*+name=~nvoEnergy')).toThrow(AddressError);
    expect(() => address('*', '*', '*', '*+name=~nvoEnergy')).toThrow(/datapoint_name/);
  });
});
