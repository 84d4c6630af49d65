import { BODY_KEY, type DeviceEvent, type EventType } from '../shared/device-events';

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

/** Base types whose `value` is text and therefore exported base64-encoded. */
const STRING_LIKE = new Set(['string', 'message', 'file']);

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

type Fields = Record<string, unknown>;
type Extractor = (metadata: Fields, body: Fields) => string;

function extractor(column: string): Extractor {
  switch (column) {
    case 'resource_tags':
      return (m) => encodedJson(m.resource_tags);
    case 'metadata':
      return (_, b) => encodedJson(b.metadata);
    case 'display_name':
      return (m) => (m.display_name == null ? '' : cachedBase64(String(m.display_name)));
    case 'value':
      return (m, b) => {
        const value = b.value;
        if (value === null || value === undefined) return '';
        return STRING_LIKE.has(m.base_type as string) ? base64(plain(value)) : plain(value);
      };
    default:
      return METADATA_COLUMNS.has(column) ? (m) => plain(m[column]) : (_, b) => plain(b[column]);
  }
}

/**
 * Columns that never need quoting: base64 (or empty), or a format validation already restricts to
 * letters, digits and `-_.:+` (ids, timestamps, enums, booleans). Skipping them keeps rows cheap.
 */
const UNQUOTED_COLUMNS = new Set([
  'resource_tags', 'metadata', 'display_name', 'oem_id', 'dsn', 'event_type', 'base_type',
  'created_at_from_device', 'updated_at', 'created_at', 'acked_at', 'event_time', 'unregistered_at',
  'echo', 'closed', 'registered',
]);

/** Each type's columns as extractors that also quote, built once. */
const EXTRACTORS = Object.fromEntries(
  Object.entries(COLUMNS).map(([type, columns]) => [
    type,
    columns.map((column): Extractor => {
      const extract = extractor(column);
      return UNQUOTED_COLUMNS.has(column) ? extract : (m, b) => quote(extract(m, b));
    }),
  ]),
) as Record<EventType, Extractor[]>;

export function headerRow(type: EventType): string {
  return COLUMNS[type].join(',');
}

/** One CSV row (without line end) for an event of `type`. */
export function csvRow(event: DeviceEvent, type: EventType): string {
  const extractors = EXTRACTORS[type];
  const metadata = event.metadata as unknown as Fields;
  const body = (event as unknown as Record<string, Fields>)[BODY_KEY[type]]!;
  // One join makes a flat string; `+=` would build a rope of dozens of fragments per row,
  // which costs much more to keep while a batch's rows are grouped.
  const fields = new Array<string>(extractors.length);
  for (let i = 0; i < extractors.length; i++) fields[i] = extractors[i]!(metadata, body);
  return fields.join(',');
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
