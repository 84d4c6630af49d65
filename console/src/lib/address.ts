/**
 * IAP addresses as the console builds and sends them. Pure: no DOM, unit-tested.
 *
 * An address is four path elements, `{id}/{block}/{block_index}/{datapoint_name}`, each a literal, `*` or
 * `*+key op value[&…]` (the grammar of the API's README). The text a user types is the element as the API's
 * handler reads it; on the wire every element is percent-encoded once more, because API Gateway decodes
 * the path once before the handler does its own decoding.
 */

export interface Address {
  device: string;
  block: string;
  blockIndex: string;
  datapoint: string;
}

export const ANY_ADDRESS: Address = { device: '*', block: '*', blockIndex: '*', datapoint: '*' };

// RFC 3986 pchar without `&` (separates conditions) and `%` (escapes): kept as they are inside a value.
const PCHAR = /[A-Za-z0-9\-._~!$'()*+,;=:@]/;
const utf8 = new TextEncoder();

function percentEncode(ch: string): string {
  let out = '';
  for (const byte of utf8.encode(ch)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** A value inside an element (a literal, or a condition's value), encoded so the handler decodes it back. */
export function encodeValue(value: string, leading?: string): string {
  let out = '';
  let first = true;
  for (const ch of value) {
    out += PCHAR.test(ch) && !(first && ch === leading) ? ch : percentEncode(ch);
    first = false;
  }
  return out;
}

/** A literal element naming exactly `value` (a leading `*` is written `%2A`). */
export const literal = (value: string): string => encodeValue(value, '*');

export type Operator = '==' | '!=' | '=+' | '!+' | '<' | '<=' | '>' | '=>';
export interface Condition {
  key: string;
  op: Operator;
  value: string;
}

/** `*+k1==v1&k2=+v2`, or `*` with no conditions. */
export function query(conditions: readonly Condition[]): string {
  if (conditions.length === 0) return '*';
  return `*+${conditions.map(({ key, op, value }) => `${key}${op}${encodeValue(value, op === '<' || op === '>' ? '=' : undefined)}`).join('&')}`;
}

/** What the search form's fields say; an empty field matches anything. */
export interface SearchFields {
  device: string;
  deviceHealth: string;
  block: string;
  blockIndex: string;
  datapoint: string;
  /** Compare the device, block and datapoint names as case-insensitive regular expressions. */
  regex: boolean;
  /** `log_level_1` … `log_level_3`, or '' for any. */
  tag: string;
}

export const EMPTY_SEARCH: SearchFields = { device: '', deviceHealth: '', block: '', blockIndex: '', datapoint: '', regex: false, tag: '' };

function element(name: string, text: string, regex: boolean, extra: Condition[] = []): string {
  const trimmed = text.trim();
  if (trimmed === '') return query(extra);
  if (regex) return query([{ key: 'name', op: '=+', value: trimmed }, ...extra]);
  if (extra.length === 0) return literal(trimmed);
  return query([{ key: name, op: '==', value: trimmed }, ...extra]);
}

/** The address the fields describe. */
export function addressFromFields(fields: SearchFields): Address {
  const health: Condition[] = fields.deviceHealth ? [{ key: 'health', op: '==', value: fields.deviceHealth }] : [];
  const tag: Condition[] = fields.tag ? [{ key: 'tag', op: '==', value: fields.tag }] : [];
  const index = fields.blockIndex.trim();
  return {
    device: element('name', fields.device, fields.regex, health),
    block: element('name', fields.block, fields.regex),
    blockIndex: index === '' ? '*' : literal(index),
    datapoint: element('name', fields.datapoint, fields.regex, tag),
  };
}

/** `devs/{id}/if/{block}/{block_index}/{datapoint_name}`: how the address input shows an address. */
export const formatAddress = (a: Address): string => `devs/${a.device}/if/${a.block}/${a.blockIndex}/${a.datapoint}`;

export class AddressInputError extends Error {}

/**
 * Reads the address input: `devs/{id}/if/{block}/{block_index}/{datapoint_name}`, with or without a
 * leading `/iap/` and a trailing `/logs…`. The elements are checked by the API, which names the problem.
 */
export function parseAddress(text: string): Address {
  const trimmed = text.trim().replace(/^\/?(iap\/)?/, '').replace(/\/logs(\/.*)?$/, '');
  const parts = trimmed.split('/');
  if (parts.length !== 6 || parts[0] !== 'devs' || parts[2] !== 'if' || parts.some((p) => p === '')) {
    throw new AddressInputError('Write the address as devs/{device}/if/{block}/{block index}/{datapoint}, e.g. devs/*/if/*/*/*+tag==log_level_1');
  }
  return { device: parts[1]!, block: parts[3]!, blockIndex: parts[4]!, datapoint: parts[5]! };
}

/** An element as it goes on the wire: API Gateway decodes it once, so the handler sees `text`. */
export function wireElement(text: string): string {
  let out = '';
  for (const ch of text) out += PCHAR.test(ch) || ch === '&' ? ch : percentEncode(ch);
  return out;
}

/** `/iap/devs/…/logs[/suffix]` for an address, ready to append to the API URL. */
export function logsPath(a: Address, suffix = ''): string {
  const path = [a.device, a.block, a.blockIndex, a.datapoint].map(wireElement);
  return `/iap/devs/${path[0]}/if/${path[1]}/${path[2]}/${path[3]}/logs${suffix ? `/${suffix}` : ''}`;
}

/** The literal address of one datapoint, as an entry of a logs reply names it. */
export function datapointAddress(entry: { deviceId: string; blockName: string; blockIndex: string; datapointName: string }): Address {
  return { device: literal(entry.deviceId), block: literal(entry.blockName), blockIndex: literal(entry.blockIndex), datapoint: literal(entry.datapointName) };
}

/**
 * The values of one datapoint logged at level `level` in [from, to): its address with the name and tag as
 * conditions, and the time range in `{value_param}` (read by the API as a key range).
 */
export function valuesPath(entry: { deviceId: string; blockName: string; blockIndex: string; datapointName: string }, level: number, from: Date, to: Date): string {
  const base = datapointAddress(entry);
  const address: Address = {
    ...base,
    datapoint: query([
      { key: 'name', op: '==', value: entry.datapointName },
      { key: 'tag', op: '==', value: `log_level_${level}` },
    ]),
  };
  const range = query([
    { key: 'utc', op: '=>', value: from.toISOString() },
    { key: 'utc', op: '<', value: to.toISOString() },
  ]);
  return logsPath(address, `value/${wireElement(range)}`);
}
