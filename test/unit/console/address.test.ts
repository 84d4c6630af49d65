import { parseSelector } from '../../../lambdas/domain/iap/address';
import {
  addressFromFields,
  AddressInputError,
  EMPTY_SEARCH,
  formatAddress,
  literal,
  logsPath,
  parseAddress,
  valuesPath,
  wireElement,
} from '../../../console/src/lib/address';

/** What API Gateway hands the handler for one path segment: the segment percent-decoded once. */
const gatewayDecode = (segment: string) => decodeURIComponent(segment);

describe('console IAP addresses', () => {
  it('builds * for empty fields and literals for plain names', () => {
    expect(formatAddress(addressFromFields(EMPTY_SEARCH))).toBe('devs/*/if/*/*/*');
    expect(formatAddress(addressFromFields({ ...EMPTY_SEARCH, device: 'AC000W1', block: 'device', blockIndex: '0', datapoint: 'temp' }))).toBe(
      'devs/AC000W1/if/device/0/temp',
    );
  });

  it('turns a health or tag into conditions beside the name', () => {
    const a = addressFromFields({ ...EMPTY_SEARCH, device: 'AC1', deviceHealth: 'down', datapoint: 'temp', tag: 'log_level_2' });
    expect(a.device).toBe('*+name==AC1&health==down');
    expect(a.datapoint).toBe('*+name==temp&tag==log_level_2');
    expect(addressFromFields({ ...EMPTY_SEARCH, tag: 'log_level_1' }).datapoint).toBe('*+tag==log_level_1');
  });

  it('writes names as case-insensitive regular expressions when asked, encoding what is not a path character', () => {
    const a = addressFromFields({ ...EMPTY_SEARCH, datapoint: '^(nvoEnergy)|(nvoVoltage)$', regex: true });
    expect(a.datapoint).toBe('*+name=+%5E(nvoEnergy)%7C(nvoVoltage)$');
    const selector = parseSelector('datapoint_name', a.datapoint);
    expect(selector).toMatchObject({ kind: 'query', conditions: [{ key: 'name', op: '=+', value: '^(nvoEnergy)|(nvoVoltage)$' }] });
  });

  it('writes a literal the API reads back as the same text, whatever it holds', () => {
    for (const name of ['temp', '*star', 'a&b', '100%', 'with space', 'ünïcode', 'x/y']) {
      const onWire = wireElement(literal(name));
      expect(parseSelector('datapoint_name', gatewayDecode(onWire))).toEqual({ element: 'datapoint_name', kind: 'literal', value: name });
    }
  });

  it('sends typed elements so that the handler sees exactly the typed text', () => {
    for (const text of ['*+name=+^nvo%7Cx', '*+health==down&state!=unprovisioned', '*+timestamp<2026-01-01T00:00Z', 'a%2525b']) {
      expect(gatewayDecode(wireElement(text))).toBe(text);
    }
    expect(logsPath({ device: '*', block: '*', blockIndex: '*', datapoint: '*+name=+a|b' }, '1')).toBe('/iap/devs/*/if/*/*/*+name=+a%7Cb/logs/1');
  });

  it('reads the address input with or without /iap/ and /logs, and says how to write a wrong one', () => {
    expect(parseAddress(' /iap/devs/*/if/device/0/*+tag==log_level_1/logs/1 ')).toEqual({ device: '*', block: 'device', blockIndex: '0', datapoint: '*+tag==log_level_1' });
    expect(parseAddress('devs/a/if/b/c/d')).toEqual({ device: 'a', block: 'b', blockIndex: 'c', datapoint: 'd' });
    expect(() => parseAddress('devs/*/if/*/*')).toThrow(AddressInputError);
    expect(() => parseAddress('devs//if/*/*/*')).toThrow(/devs\/\{device\}/);
  });

  it('reads the values of one level of one datapoint in a time range', () => {
    const path = valuesPath({ deviceId: 'AC1', blockName: 'device', blockIndex: '0', datapointName: 'temp' }, 2, new Date('2026-11-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
    const segments = path.split('/').map(gatewayDecode);
    expect(segments.slice(0, 8)).toEqual(['', 'iap', 'devs', 'AC1', 'if', 'device', '0', '*+name==temp&tag==log_level_2']);
    expect(segments.slice(8, 10)).toEqual(['logs', 'value']);
    expect(parseSelector('value_param', segments[10]!)).toMatchObject({
      kind: 'query',
      conditions: [
        { key: 'timestamp', op: '=>' },
        { key: 'timestamp', op: '<' },
      ],
    });
  });
});
