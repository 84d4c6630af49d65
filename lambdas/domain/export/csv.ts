import { BODY_KEY, STRING_LIKE_BASE_TYPES, type DeviceEvent, type EventType } from '../device-events';

/**
 * The export file columns of each event type: exactly the keys of the seed's tables, in the
 * seed's order (the datapointack table is alphabetical there, and so is its file).
 */
export const COLUMNS: Record<EventType, readonly string[]> = {
  connectivity: ['oem_id', 'oem_model', 'dsn', 'resource_tags', 'event_type', 'event_time', 'user_uuid', 'status'],
  datapoint: [
    'oem_id', 'oem_model', 'dsn', 'property_name', 'display_name', 'base_type', 'resource_tags', 'event_type', 'id',
    'created_at_from_device', 'updated_at', 'created_at', 'user_uuid', 'echo', 'closed', 'value', 'metadata',
  ],
  datapointack: [
    'ack_id', 'ack_message', 'ack_status', 'acked_at', 'base_type', 'closed', 'created_at_from_device', 'created_at',
    'display_name', 'dsn', 'echo', 'event_type', 'id', 'metadata', 'oem_id', 'oem_model', 'property_name',
    'resource_tags', 'updated_at', 'user_uuid', 'value',
  ],
  location: ['created_at', 'dsn', 'event_type', 'ip', 'lat', 'long', 'oem_id', 'oem_model', 'provider', 'resource_tags', 'user_uuid'],
  registration: ['dsn', 'event_type', 'oem_id', 'oem_model', 'registered', 'registration_type', 'resource_tags', 'unregistered_at', 'user_uuid'],
};

/** The base types exported base64-encoded, as a Set: looked up once per exported row. */
const STRING_LIKE = new Set<string>(STRING_LIKE_BASE_TYPES);

export const CRLF = '\r\n';

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled. */
export function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

export function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** Display names repeat on every event of a property: their encodings are kept (bounded). */
const displayNames = new Map<string, string>();
function cachedBase64(text: string): string {
  let encoded = displayNames.get(text);
  if (encoded === undefined) {
    if (displayNames.size >= 10_000) displayNames.clear();
    encoded = base64(text);
    displayNames.set(text, encoded);
  }
  return encoded;
}

/** Plain rendering: null → empty, booleans and numbers as JSON writes them, objects as JSON text. */
function plain(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** A number as JSON writes it (`-12.5`, `3.5e-7`): such a cell stays a number. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/**
 * A text cell a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, TAB or CR) gets
 * a leading `'` (OWASP CSV injection guidance), except a number as JSON writes it: numbers stay numbers.
 */
export function neutralise(text: string): string {
  const c = text.charCodeAt(0);
  // = + - @ TAB CR
  if (c !== 61 && c !== 43 && c !== 45 && c !== 64 && c !== 9 && c !== 13) return text;
  return c === 45 && JSON_NUMBER.test(text) ? text : `'${text}`;
}

/** A plain text cell: neutralised, then quoted as RFC 4180 asks. */
const cell = (value: unknown) => quote(neutralise(plain(value)));

function isEmpty(value: object): boolean {
  if (Array.isArray(value)) return value.length === 0;
  for (const _ in value) return false;
  return true;
}

/** JSON text of a metadata or resource_tags value, base64-encoded; empty when null or empty. */
function encodedJson(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object' && isEmpty(value)) return '';
  return base64(JSON.stringify(value));
}

/** Columns taken from the event's `metadata` envelope; the others come from the type's body. */
const METADATA_COLUMNS = new Set(['oem_id', 'oem_model', 'dsn', 'property_name', 'display_name', 'base_type', 'resource_tags', 'event_type']);

/**
 * Columns that never need quoting: base64 (or empty), or a format validation already restricts to
 * letters, digits and `-_.:+` (ids, timestamps, enums, booleans). Skipping them keeps rows cheap.
 */
const UNQUOTED_COLUMNS = new Set([
  'resource_tags', 'metadata', 'display_name', 'oem_id', 'dsn', 'event_type', 'base_type',
  'created_at_from_device', 'updated_at', 'created_at', 'acked_at', 'event_time', 'unregistered_at',
  'echo', 'closed', 'registered',
]);

type Fields = Record<string, unknown>;
type RowBuilder = (metadata: Fields, body: Fields) => string;

/** The value column: base64 for text base types, plain otherwise. */
function valueField(metadata: Fields, value: unknown): string {
  if (value === null || value === undefined) return '';
  // Text base types and structured values (an object or a list, of any base type) are base64 of their text.
  return STRING_LIKE.has(metadata.base_type as string) || typeof value === 'object' ? base64(plain(value)) : cell(value);
}

const displayName = (value: unknown) => (value == null ? '' : cachedBase64(String(value)));

/** The JavaScript expression of one column, reading `m` (metadata) and `b` (body). */
function columnExpression(column: string): string {
  const source = `${METADATA_COLUMNS.has(column) ? 'm' : 'b'}[${JSON.stringify(column)}]`;
  switch (column) {
    case 'resource_tags':
    case 'metadata':
      return `h.encodedJson(${source})`;
    case 'display_name':
      return `h.displayName(${source})`;
    case 'value':
      return `h.valueField(m, ${source})`;
    default:
      return UNQUOTED_COLUMNS.has(column) ? `h.plain(${source})` : `h.cell(${source})`;
  }
}

/**
 * A type's row as straight-line code built once from its column list: named property loads and one
 * join (a flat string). The code names only the static columns above; it never contains input.
 */
function rowBuilder(columns: readonly string[]): RowBuilder {
  const helpers = { plain, cell, encodedJson, displayName, valueField };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the static column list
  const make = new Function('h', `return function (m, b) { return [${columns.map(columnExpression).join(', ')}].join(','); };`) as (h: typeof helpers) => RowBuilder;
  return make(helpers);
}

const ROW_BUILDERS = Object.fromEntries(Object.entries(COLUMNS).map(([type, columns]) => [type, rowBuilder(columns)])) as Record<EventType, RowBuilder>;

export function headerRow(type: EventType): string {
  return COLUMNS[type].join(',');
}

/** One CSV row (without line end) for an event of `type`. */
export function csvRow(event: DeviceEvent, type: EventType): string {
  return ROW_BUILDERS[type](event.metadata as unknown as Fields, (event as unknown as Record<string, Fields>)[BODY_KEY[type]]!);
}

/** A whole file: the header, then the rows, CRLF after each line. */
export function csvFile(type: EventType, rows: readonly string[]): string {
  return headerRow(type) + CRLF + (rows.length ? rows.join(CRLF) + CRLF : '');
}

/** The time a row is sorted by: when the event happened, as the type records it. */
export function eventTime(event: DeviceEvent, type: EventType): string {
  switch (type) {
    case 'datapoint': {
      const body = (event as Extract<DeviceEvent, { datapoint: unknown }>).datapoint;
      return body.updated_at ?? body.created_at ?? '';
    }
    case 'datapointack': {
      const body = (event as Extract<DeviceEvent, { datapointack: unknown }>).datapointack;
      return body.acked_at ?? body.updated_at ?? body.created_at ?? '';
    }
    case 'connectivity':
      return (event as Extract<DeviceEvent, { connection: unknown }>).connection.event_time;
    case 'location':
      return (event as Extract<DeviceEvent, { location_event: unknown }>).location_event.created_at;
    case 'registration':
      return (event as Extract<DeviceEvent, { registration_event: unknown }>).registration_event.unregistered_at ?? '';
  }
}
