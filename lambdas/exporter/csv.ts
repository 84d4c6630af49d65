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

/** Plain rendering: null → empty, booleans and numbers as JSON writes them, objects as JSON text. */
function plain(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** JSON text of a metadata or resource_tags value, base64-encoded; empty when null or empty. */
function encodedJson(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value) ? value.length === 0 : typeof value === 'object' && Object.keys(value).length === 0) return '';
  return base64(JSON.stringify(value));
}

/** The value of one column for an event: envelope metadata first, then the type's body. */
function field(event: DeviceEvent, type: EventType, column: string): string {
  const metadata = event.metadata as Record<string, unknown>;
  const body = (event as unknown as Record<string, Record<string, unknown>>)[BODY_KEY[type]]!;
  switch (column) {
    case 'resource_tags':
      return encodedJson(metadata.resource_tags);
    case 'metadata':
      return encodedJson(body.metadata);
    case 'display_name':
      return metadata.display_name == null ? '' : base64(String(metadata.display_name));
    case 'value': {
      const value = body.value;
      if (value === null || value === undefined) return '';
      return STRING_LIKE.has(String(metadata.base_type)) ? base64(plain(value)) : plain(value);
    }
    default:
      return plain(column in metadata ? metadata[column] : body[column]);
  }
}

export function headerRow(type: EventType): string {
  return COLUMNS[type].join(',');
}

/** One CSV row (without line end) for an event of `type`. */
export function csvRow(event: DeviceEvent, type: EventType): string {
  const columns = COLUMNS[type];
  let row = '';
  for (let i = 0; i < columns.length; i++) {
    if (i > 0) row += ',';
    row += quote(field(event, type, columns[i]!));
  }
  return row;
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
