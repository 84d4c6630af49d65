import { BadRequestError } from '../../shared/http';
import { RegexSyntaxError, SafeRegex } from './address-regex';

/**
 * IAP addressing, pure (no I/O): the path elements of
 * `/iap/devs/{id}/if/{block}/{block_index}/{datapoint_name}/logs[/{level}|/minDeltaValue|/minDeltaTime|/value/{value_param}]`,
 * the log level, and the paging query (`pg`, `sz`, `xs`).
 *
 * A path element is a literal (`17q2d95.4`, `device`, `0`, `nvoEnergy`), `*` (everything), or `*+`
 * followed by conditions `key op value` joined by `&` (`*+name==nvoEnergy&tag==log_level_1`).
 *
 * Encoded and decoded text. API Gateway hands the handler path parameters already percent-decoded;
 * other callers may pass the raw text of the URI. Both are accepted, by one rule: the structure
 * (`*`, `*+`, `&`, the key, the operator) is read from the text as given, then each value (and a
 * whole literal) is percent-decoded (RFC 3986, UTF-8). So in raw text `%26` is an `&` inside a value,
 * while an `&` separates conditions; `<` and `>`, which a URI cannot carry unencoded, are also
 * recognised as `%3C` / `%3E` in operator position. Text without `%` passes unchanged; a `%` not
 * followed by two hex digits (or escapes that are not UTF-8) is a 400. Consequences for callers
 * going through API Gateway: a literal `%` in a value must be sent double-encoded (`%2525`), and an
 * `&` cannot be part of a value (the gateway has already decoded `%26`).
 */

export const ELEMENTS = ['id', 'block', 'block_index', 'datapoint_name', 'value_param'] as const;
/** A path element that takes a selector. */
export type ElementName = (typeof ELEMENTS)[number];

/** Operators, normalized: `>=` is read as `=>`. `=+` / `!+` are case-insensitive regex (mis)matches. */
export const OPERATORS = ['==', '!=', '=+', '!+', '<', '<=', '>', '=>'] as const;
export type Operator = (typeof OPERATORS)[number];

export type ConditionKey = 'name' | 'id' | 'state' | 'health' | 'index' | 'tag' | 'timestamp' | 'value';

/** The keys each element accepts, after aliases are resolved (see {@link KEY_ALIASES}). */
export const ELEMENT_KEYS = {
  id: ['name', 'id', 'state', 'health'],
  block: ['name'],
  block_index: ['index'],
  datapoint_name: ['name', 'tag', 'timestamp'],
  value_param: ['id', 'tag', 'timestamp', 'value'],
} as const satisfies Record<ElementName, readonly ConditionKey[]>;
export type KeyOf<E extends ElementName> = (typeof ELEMENT_KEYS)[E][number];

/** Other spellings of keys, normalized when parsed. */
export const KEY_ALIASES: Readonly<Record<ElementName, Readonly<Record<string, ConditionKey>>>> = {
  id: {},
  block: {},
  block_index: { name: 'index' },
  datapoint_name: { utc: 'timestamp' },
  value_param: { utc: 'timestamp' },
};

/** The field a literal is compared with (exactly, case-sensitively). */
export const PRIMARY_KEY = {
  id: 'id',
  block: 'name',
  block_index: 'index',
  datapoint_name: 'name',
  value_param: 'id',
} as const satisfies { [E in ElementName]: KeyOf<E> };

/** Operators each key accepts (a tag list has no order; a time is no text to match). */
export const KEY_OPERATORS: Readonly<Record<ConditionKey, readonly Operator[]>> = {
  name: OPERATORS,
  id: OPERATORS,
  state: OPERATORS,
  health: OPERATORS,
  index: OPERATORS,
  value: OPERATORS,
  tag: ['==', '!=', '=+', '!+'],
  timestamp: ['==', '!=', '<', '<=', '>', '=>'],
};

export interface Condition<K extends ConditionKey = ConditionKey> {
  readonly key: K;
  readonly op: Operator;
  /** The value, percent-decoded. */
  readonly value: string;
  /** For `=+` / `!+`: the compiled pattern (linear-time, case-insensitive). */
  readonly regex?: SafeRegex;
  /** For `timestamp`: the value as epoch milliseconds. */
  readonly time?: number;
  /** When the value is a decimal number: used to compare with numeric fields. */
  readonly number?: number;
}

export type Selector<E extends ElementName = ElementName> =
  | { readonly element: E; readonly kind: 'all' }
  | { readonly element: E; readonly kind: 'literal'; readonly value: string }
  | { readonly element: E; readonly kind: 'query'; readonly conditions: readonly Condition<KeyOf<E>>[] };

export type FieldValue = string | number | boolean | null | undefined;

/**
 * What {@link matches} compares a selector of each element with. `tags` are the names of the
 * tags (`tag==log_level_1` holds when any of them equals `log_level_1`); `timestamp` is epoch ms.
 */
export type Subjects = {
  id: { id: string; name?: string; state?: string; health?: string };
  block: { name: string };
  block_index: { index: number | string };
  datapoint_name: { name: string; tags?: readonly string[]; timestamp?: number };
  value_param: { id: number | string; tags?: readonly string[]; timestamp?: number; value?: FieldValue };
};

export const MAX_ELEMENT_LENGTH = 1024;
export const MAX_VALUE_LENGTH = 256;
export const MAX_CONDITIONS = 16;

/**
 * A malformed path element or query parameter: a 400 whose message names the element and,
 * where it applies, the 0-based position in the text as given, e.g.
 * `datapoint_name: unknown operator "=~" … at position 6 in "*+name=~x"`.
 */
export class AddressError extends BadRequestError {
  constructor(
    readonly element: string,
    readonly problem: string,
    readonly position?: number,
    text?: string,
    code: 'BadPath' | 'BadQuery' = 'BadPath',
  ) {
    super(`${element}: ${problem}${position === undefined ? '' : ` at position ${position}`}${text === undefined ? '' : ` in ${quote(text)}`}`, code);
  }
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

// ---- percent-decoding ----------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const hexValue = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);

interface Decoded {
  text: string;
  /** offsets[i]: where decoded code unit i starts in the input (absent: the same place). */
  offsets?: number[];
}

type Fail = (problem: string, position: number) => never;

/** Decodes `%XX` escapes (UTF-8); `fail` gets positions relative to `raw`. */
function decode(raw: string, fail: Fail): Decoded {
  const lone = LONE_SURROGATE.exec(raw);
  if (lone) fail('unpaired UTF-16 surrogate', lone.index);
  if (!raw.includes('%')) return { text: raw };
  let text = '';
  const offsets: number[] = [];
  let i = 0;
  while (i < raw.length) {
    if (raw[i] !== '%') {
      text += raw[i];
      offsets.push(i);
      i++;
      continue;
    }
    // A run of consecutive escapes is decoded together: a character may take up to four bytes.
    const start = i;
    const bytes: number[] = [];
    while (raw[i] === '%') {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) fail('malformed percent escape (expected % and two hex digits)', i);
      bytes.push(hi * 16 + lo);
      i += 3;
    }
    let chars: string;
    try {
      chars = utf8.decode(Uint8Array.from(bytes));
    } catch {
      fail('percent escapes that are not UTF-8', start);
    }
    let byte = 0;
    for (const ch of chars) {
      const cp = ch.codePointAt(0)!;
      for (let u = 0; u < ch.length; u++) offsets.push(start + 3 * byte);
      byte += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }
    text += chars;
  }
  return { text, offsets };
}

const rawOffset = (d: Decoded, index: number, rawLength: number) => (d.offsets ? (d.offsets[index] ?? rawLength) : index);

/** Percent-decodes `text` (RFC 3986, UTF-8), or throws an {@link AddressError} naming `element`. */
export function percentDecode(element: string, text: string): string {
  return decode(text, (problem, position) => {
    throw new AddressError(element, problem, position, text);
  }).text;
}

// ---- timestamps and numbers -----------------------------------------------------------------

// Linear: no quantified group contains another quantifier.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:(Z| ?UTC)|([+-])(\d{2}):?(\d{2}))?$/i;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses `2022-03-29`, `2022-03-29T00:00Z`, `2022-03-29T00:00:00.123Z`, `2022-03-29T02:00+02:00`,
 * `2019-01-11 23:27:46.045 UTC` to epoch ms; no zone means UTC. Undefined when not a valid time.
 */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  // setUTCFullYear, unlike Date.UTC, takes years 0-99 as they are; a rolled-over day (02-30) is refused.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hour, minute, second, ms);
  if (m[9] === undefined) return date.getTime();
  const offsetHours = Number(m[10]);
  const offsetMinutes = Number(m[11]);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  return date.getTime() - (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
}

// ---- conditions ----------------------------------------------------------------------------

function resolveKey(element: ElementName, name: string): ConditionKey | undefined {
  const keys: readonly string[] = ELEMENT_KEYS[element];
  if (keys.includes(name)) return name as ConditionKey;
  return Object.hasOwn(KEY_ALIASES[element], name) ? KEY_ALIASES[element][name] : undefined;
}

function keyList(element: ElementName): string {
  return [...ELEMENT_KEYS[element], ...Object.keys(KEY_ALIASES[element])].join(', ');
}

/**
 * Checks and compiles one condition; `fail` positions are relative to the value, or -1 for the
 * operator (the caller knows where that is).
 */
function compileCondition(key: ConditionKey, op: Operator, decoded: Decoded, rawLength: number, fail: Fail): Condition {
  const value = decoded.text;
  if (!KEY_OPERATORS[key].includes(op)) fail(`operator ${op} does not apply to ${key} (use ${KEY_OPERATORS[key].join(', ')})`, -1);
  if (value.length > MAX_VALUE_LENGTH) fail(`value longer than ${MAX_VALUE_LENGTH} characters`, rawOffset(decoded, MAX_VALUE_LENGTH, rawLength));
  const condition: { -readonly [P in keyof Condition]: Condition[P] } = { key, op, value };
  if (op === '=+' || op === '!+') {
    try {
      condition.regex = SafeRegex.compile(value);
    } catch (error) {
      if (!(error instanceof RegexSyntaxError)) throw error;
      fail(`invalid regular expression: ${error.problem}`, rawOffset(decoded, error.position, rawLength));
    }
  }
  if (key === 'timestamp') {
    const time = parseTimestamp(value);
    if (time === undefined) fail('expected a timestamp like 2022-03-29T00:00Z, 2022-03-29T00:00:00.123Z or 2022-03-29', 0);
    condition.time = time;
  }
  if (NUMBER.test(value)) condition.number = Number(value);
  return condition;
}

/**
 * Builds one condition from its parts, the value already decoded (it is taken as it is), as the
 * parser would: aliases and `>=` accepted and normalized, regexes compiled, timestamps parsed.
 * Throws an {@link AddressError} otherwise.
 */
export function condition<E extends ElementName>(element: E, key: string, op: Operator | '>=', value: string): Condition<KeyOf<E>> {
  const text = `${key}${op}${value}`;
  const fail: Fail = (problem, position) => {
    throw new AddressError(element, problem, position, text);
  };
  const resolved = resolveKey(element, key) ?? fail(`unknown key "${key}" (expected ${keyList(element)})`, 0);
  const normalized = op === '>=' ? '=>' : op;
  if (!(OPERATORS as readonly string[]).includes(normalized)) fail(`unknown operator "${op}"`, key.length);
  if (value === '') fail('missing value', key.length + op.length);
  const lone = LONE_SURROGATE.exec(value);
  if (lone) fail('unpaired UTF-16 surrogate', key.length + op.length + lone.index);
  return compileCondition(resolved, normalized, { text: value }, value.length, (problem, position) =>
    fail(problem, position < 0 ? key.length : key.length + op.length + position),
  ) as Condition<KeyOf<E>>;
}

// ---- selectors -----------------------------------------------------------------------------

const isKeyChar = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;

/** The operator character at `i`: `<` and `>` may come percent-encoded (a URI cannot carry them). */
function operatorChar(raw: string, i: number): { c: string; length: number } | undefined {
  const c = raw[i];
  if (c === '=' || c === '!' || c === '<' || c === '>' || c === '+') return { c, length: 1 };
  if (c === '%') {
    const escape = raw.slice(i, i + 3).toUpperCase();
    if (escape === '%3C') return { c: '<', length: 3 };
    if (escape === '%3E') return { c: '>', length: 3 };
  }
  return undefined;
}

/** Reads the operator at `i` (longest match), or undefined. */
function readOperator(raw: string, i: number): { op: Operator; end: number } | undefined {
  const first = operatorChar(raw, i);
  if (!first) return undefined;
  const j = i + first.length;
  const second = operatorChar(raw, j);
  const two = second ? first.c + second.c : undefined;
  switch (two) {
    case '==':
    case '!=':
    case '=+':
    case '!+':
    case '<=':
    case '=>':
      return { op: two, end: j + second!.length };
    case '>=':
      return { op: '=>', end: j + second!.length };
  }
  if (first.c === '<' || first.c === '>') return { op: first.c, end: j };
  return undefined;
}

/**
 * Parses a path element: `*`, `*+key op value[&…]`, or a literal. Throws an {@link AddressError}
 * (400 `BadPath`) naming the element and the position of the problem.
 */
export function parseSelector<E extends ElementName>(element: E, text: string): Selector<E> {
  const fail: Fail = (problem, position) => {
    throw new AddressError(element, problem, position, text);
  };
  if (text.length > MAX_ELEMENT_LENGTH) fail(`longer than ${MAX_ELEMENT_LENGTH} characters`, MAX_ELEMENT_LENGTH);
  if (text === '') fail('empty path element', 0);
  if (text === '*') return { element, kind: 'all' };
  if (text.startsWith('*+')) return { element, kind: 'query', conditions: parseConditions(element, text, fail) };
  if (text.startsWith('*')) fail('expected "*" alone or "*+" followed by conditions (a literal starting with * is written %2A)', 1);
  const value = decode(text, fail).text;
  if (value.length > MAX_VALUE_LENGTH) fail(`longer than ${MAX_VALUE_LENGTH} characters once decoded`, MAX_VALUE_LENGTH);
  return { element, kind: 'literal', value };
}

function parseConditions<E extends ElementName>(element: E, raw: string, fail: Fail): Condition<KeyOf<E>>[] {
  const conditions: Condition<KeyOf<E>>[] = [];
  let i = 2;
  for (;;) {
    if (conditions.length === MAX_CONDITIONS) fail(`more than ${MAX_CONDITIONS} conditions`, i);
    const keyAt = i;
    while (i < raw.length && isKeyChar(raw.charCodeAt(i))) i++;
    if (i === keyAt) fail(i === raw.length ? 'expected a condition (key, operator, value)' : 'expected a key', i);
    const name = raw.slice(keyAt, i);
    const key = resolveKey(element, name) ?? fail(`unknown key "${name}" (expected ${keyList(element)})`, keyAt);
    const opAt = i;
    const operator = readOperator(raw, i);
    if (!operator) {
      if (i === raw.length || !operatorChar(raw, i)) fail('expected an operator (==, !=, =+, !+, <, <=, >, =>, >=)', opAt);
      fail(`unknown operator "${raw.slice(opAt, opAt + 2)}" (expected ==, !=, =+, !+, <, <=, >, =>, >=)`, opAt);
    }
    i = operator.end;
    const amp = raw.indexOf('&', i);
    const end = amp < 0 ? raw.length : amp;
    if (end === i) fail('missing value', i);
    const valueAt = i;
    const rawValue = raw.slice(valueAt, end);
    const decoded = decode(rawValue, (problem, position) => fail(problem, valueAt + position));
    const compiled = compileCondition(key, operator.op, decoded, rawValue.length, (problem, position) =>
      fail(problem, position < 0 ? opAt : valueAt + position),
    );
    conditions.push(compiled as Condition<KeyOf<E>>);
    if (amp < 0) return conditions;
    i = amp + 1;
  }
}

// ---- formatting ----------------------------------------------------------------------------

export interface FormatOptions {
  /**
   * `uri` (default): a valid URI path segment: everything outside RFC 3986 `pchar` is
   * percent-encoded (`|` as `%7C`, `<` as `%3C`). `minimal`: readable text that parses back the
   * same, encoding only `%` and `&` (and the two ambiguous spots below).
   */
  encoding?: 'uri' | 'minimal';
}

// RFC 3986 pchar without `&` (which separates conditions) and `%` (which escapes).
const PCHAR = /[A-Za-z0-9\-._~!$'()*+,;=:@]/;
const utf8Encoder = new TextEncoder();

function encodeValue(value: string, encoding: 'uri' | 'minimal', leading?: string): string {
  let out = '';
  let first = true;
  for (const ch of value) {
    const keep = encoding === 'uri' ? PCHAR.test(ch) : ch !== '%' && ch !== '&';
    if (keep && !(first && ch === leading)) out += ch;
    else for (const byte of utf8Encoder.encode(ch)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    first = false;
  }
  return out;
}

const URI_OPERATORS: Readonly<Record<Operator, string>> = { '==': '==', '!=': '!=', '=+': '=+', '!+': '!+', '<': '%3C', '<=': '%3C=', '>': '%3E', '=>': '=%3E' };

/**
 * Prints a selector so that {@link parseSelector} reads it back the same. A literal starting with
 * `*` is written `%2A…`; after `<` or `>`, a value starting with `=` is written `%3D…`.
 */
export function formatSelector(selector: Selector, options: FormatOptions = {}): string {
  const encoding = options.encoding ?? 'uri';
  switch (selector.kind) {
    case 'all':
      return '*';
    case 'literal':
      return encodeValue(selector.value, encoding, '*');
    case 'query':
      return `*+${selector.conditions
        .map(({ key, op, value }) => `${key}${encoding === 'uri' ? URI_OPERATORS[op] : op}${encodeValue(value, encoding, op === '<' || op === '>' ? '=' : undefined)}`)
        .join('&')}`;
  }
}

// ---- evaluation ----------------------------------------------------------------------------

const fieldOf = (key: ConditionKey) => (key === 'tag' ? 'tags' : key);

/**
 * Whether `subject` (the fields of one device, block, block index, datapoint or logged value) is
 * selected. `*` selects everything; a literal selects when the element's primary field (device
 * `id`, block `name`, block `index`, datapoint `name`, value `id`) equals it exactly; a query when
 * every condition holds:
 * - `==` / `!=`: equality, numeric when the field is a number and the value a number, by time for
 *   `timestamp`, else exact text. On `tag`: any tag equals / no tag equals.
 * - `=+` / `!+`: the case-insensitive pattern matches / does not match the field's text (on `tag`:
 *   any tag / no tag).
 * - `<`, `<=`, `>`, `=>`: by time for `timestamp`; numeric when the value is a number and the field a
 *   number or numeric text; else by text (UTF-16 code unit order).
 * A missing field satisfies only `!=` and `!+`.
 */
export function matches<E extends ElementName>(selector: Selector<E>, subject: Subjects[E]): boolean {
  const fields = subject as Readonly<Record<string, FieldValue | readonly string[]>>;
  switch (selector.kind) {
    case 'all':
      return true;
    case 'literal': {
      const field = fields[PRIMARY_KEY[selector.element]];
      return (typeof field === 'string' || typeof field === 'number') && String(field) === selector.value;
    }
    case 'query':
      return selector.conditions.every((c) => holds(c, fields[fieldOf(c.key)]));
  }
}

function holds(c: Condition, field: FieldValue | readonly string[]): boolean {
  if (c.key === 'tag') {
    const tags: readonly string[] = Array.isArray(field) ? field : [];
    switch (c.op) {
      case '==': return tags.includes(c.value);
      case '!=': return !tags.includes(c.value);
      case '=+': return tags.some((t) => c.regex!.test(t));
      case '!+': return !tags.some((t) => c.regex!.test(t));
      default: return false;
    }
  }
  if (field === null || field === undefined || typeof field === 'object') return c.op === '!=' || c.op === '!+';
  switch (c.op) {
    case '=+': return c.regex!.test(String(field));
    case '!+': return !c.regex!.test(String(field));
    case '==': return equal(c, field);
    case '!=': return !equal(c, field);
  }
  const order = compare(c, field);
  if (Number.isNaN(order)) return false;
  switch (c.op) {
    case '<': return order < 0;
    case '<=': return order <= 0;
    case '>': return order > 0;
    case '=>': return order >= 0;
  }
}

function timeOf(field: string | number | boolean): number | undefined {
  return typeof field === 'number' ? field : typeof field === 'string' ? parseTimestamp(field) : undefined;
}

function equal(c: Condition, field: string | number | boolean): boolean {
  if (c.time !== undefined) return timeOf(field) === c.time;
  if (typeof field === 'number' && c.number !== undefined) return field === c.number;
  return String(field) === c.value;
}

/** Sign of field − value, or NaN when they cannot be ordered. */
function compare(c: Condition, field: string | number | boolean): number {
  if (c.time !== undefined) {
    const time = timeOf(field);
    return time === undefined ? NaN : Math.sign(time - c.time);
  }
  if (c.number !== undefined && (typeof field === 'number' || (typeof field === 'string' && NUMBER.test(field)))) {
    return Math.sign(Number(field) - c.number);
  }
  const text = String(field);
  return text < c.value ? -1 : text > c.value ? 1 : 0;
}

// ---- the whole address, the level, paging ---------------------------------------------------

export interface DatapointAddress {
  id: Selector<'id'>;
  block: Selector<'block'>;
  blockIndex: Selector<'block_index'>;
  datapoint: Selector<'datapoint_name'>;
  /** Present on `…/logs/value/{value_param}` routes. */
  valueParam?: Selector<'value_param'>;
}

/** Parses the path parameters of an IAP logs route (as API Gateway names them). */
export function parseAddress(params: Readonly<Record<string, string | undefined>> | undefined): DatapointAddress {
  const get = (name: ElementName) => {
    const text = params?.[name];
    if (text === undefined) throw new AddressError(name, 'missing path element');
    return text;
  };
  const address: DatapointAddress = {
    id: parseSelector('id', get('id')),
    block: parseSelector('block', get('block')),
    blockIndex: parseSelector('block_index', get('block_index')),
    datapoint: parseSelector('datapoint_name', get('datapoint_name')),
  };
  const valueParam = params?.value_param;
  if (valueParam !== undefined) address.valueParam = parseSelector('value_param', valueParam);
  return address;
}

export const LOG_LEVELS = [1, 2, 3] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Parses `{level}`: `1`, `2`, `3`, or `level1` … `level3` (any case), percent-decoded. */
export function parseLevel(text: string): LogLevel {
  const m = /^(?:level)?([123])$/i.exec(percentDecode('level', text));
  if (!m) throw new AddressError('level', 'expected 1, 2 or 3 (or level1, level2, level3)', 0, text);
  return Number(m[1]) as LogLevel;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;
const PAGING_PARAMETERS = ['pg', 'sz', 'xs'];
const SNAPSHOT = /^[A-Za-z0-9_-]{1,200}$/;

export interface Paging {
  /** Page number; the first page is 0. */
  page: number;
  /** Page size, 1-1000; 50 unless `sz` is given. */
  size: number;
  /** `xs`: the snapshot token of a previous paged reply, to page over the same snapshot. */
  snapshot?: string;
}

/**
 * Reads `?pg=&sz=&xs=`; undefined when the request is not paged (no `pg`). `sz` and `xs` without
 * `pg` are a 400 rather than ignored (the caller would otherwise get one unpaged reply while
 * believing it pages), and so is any other parameter. Errors are `BadQuery`.
 */
export function parsePaging(query: Readonly<Record<string, string | undefined>> | null | undefined): Paging | undefined {
  const given = Object.entries(query ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
  for (const [name] of given) {
    if (!PAGING_PARAMETERS.includes(name)) {
      throw new AddressError('query', `unknown parameter ${quote(name)} (expected pg, sz, xs)`, undefined, undefined, 'BadQuery');
    }
  }
  const params = Object.fromEntries(given) as Partial<Record<'pg' | 'sz' | 'xs', string>>;
  const bad = (name: string, problem: string, text: string, position: number): never => {
    throw new AddressError(name, problem, position, text, 'BadQuery');
  };
  const integer = (name: string, text: string, expected: string, min: number, max: number): number => {
    const wrong = text.search(/[^0-9]/);
    if (text === '' || wrong >= 0 || text.length > 9) bad(name, expected, text, text === '' ? 0 : wrong >= 0 ? wrong : 9);
    const n = Number(text);
    if (n < min || n > max) bad(name, expected, text, 0);
    return n;
  };
  if (params.pg === undefined) {
    for (const name of ['sz', 'xs'] as const) {
      if (params[name] !== undefined) throw new AddressError(name, 'needs pg (paging starts at pg=0)', undefined, params[name], 'BadQuery');
    }
    return undefined;
  }
  const paging: Paging = {
    page: integer('pg', params.pg, 'expected a page number, an integer ≥ 0 (the first page is 0)', 0, 999_999_999),
    size: params.sz === undefined ? DEFAULT_PAGE_SIZE : integer('sz', params.sz, `expected a page size, an integer from 1 to ${MAX_PAGE_SIZE}`, 1, MAX_PAGE_SIZE),
  };
  if (params.xs !== undefined) {
    if (!SNAPSHOT.test(params.xs)) {
      const wrong = params.xs.search(/[^A-Za-z0-9_-]/);
      bad('xs', 'expected the snapshot token of a previous paged reply (1-200 letters, digits, _ or -)', params.xs, wrong >= 0 ? wrong : Math.min(params.xs.length, 200));
    }
    paging.snapshot = params.xs;
  }
  return paging;
}
