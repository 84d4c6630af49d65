import { z } from 'zod';

/**
 * Device events on the stream, in the Ayla Datastream (DSS) shape: one UTF-8 JSON event per
 * Kinesis record, `metadata.event_type` naming the type and the body under its own key.
 * Unknown keys are ignored; what the export and the logs rely on is checked.
 */

export const EVENT_TYPES = ['datapoint', 'datapointack', 'connectivity', 'location', 'registration'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The key of each type's body. */
export const BODY_KEY = {
  datapoint: 'datapoint',
  datapointack: 'datapointack',
  connectivity: 'connection',
  location: 'location_event',
  registration: 'registration_event',
} as const satisfies Record<EventType, string>;

export const BASE_TYPES = ['boolean', 'integer', 'decimal', 'float', 'string', 'message', 'file'] as const;

/**
 * OEM ids name the top-level folders of the export bucket and scope OEM credentials, so they are
 * restricted to safe folder names: no `/`, no leading `_` (the bucket's own `_errors/`, `_exporter/`),
 * and not `aws` (Lambda's failure records live under `aws/`).
 */
export const OEM_ID_PATTERN = /^(?!aws$)[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/i;
const DSN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

const timestamp = z.string().regex(TIMESTAMP_PATTERN, 'expected an ISO 8601 timestamp like 2018-09-24T10:25:14Z');
const optionalTimestamp = timestamp.nullish();
const text = z.string().max(4096);
const optionalText = text.nullish();
const flag = z.boolean().nullish();
const scalar = z.union([z.string(), z.number(), z.boolean()]).nullish();

const commonMetadata = {
  oem_id: z.string().regex(OEM_ID_PATTERN, 'oem_id must be 1-64 letters, digits, _ or -, not starting with _ and not "aws"'),
  oem_model: optionalText,
  dsn: z.string().regex(DSN_PATTERN, 'dsn must be 1-64 letters, digits, ., _, : or -'),
  resource_tags: z.array(z.unknown()).nullish(),
};

const propertyMetadata = {
  ...commonMetadata,
  property_name: z.string().min(1).max(256),
  display_name: optionalText,
  base_type: z.enum(BASE_TYPES),
  block: z.string().min(1).max(256).optional(),
  block_index: z.number().int().min(0).optional(),
};

const datapointBody = z.object({
  id: optionalText,
  created_at_from_device: optionalTimestamp,
  updated_at: optionalTimestamp,
  created_at: optionalTimestamp,
  user_uuid: optionalText,
  echo: flag,
  closed: flag,
  value: z.union([z.string().max(1_000_000), z.number(), z.boolean()]).nullable(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});

export const DatapointEventSchema = z.object({
  seq: scalar,
  metadata: z.object({ ...propertyMetadata, event_type: z.literal('datapoint') }),
  datapoint: datapointBody.refine((b) => b.updated_at ?? b.created_at, 'datapoint needs updated_at or created_at'),
});

const datapointAckBody = datapointBody.extend({
  ack_id: optionalText,
  ack_message: scalar,
  ack_status: scalar,
  acked_at: optionalTimestamp,
});

export const DatapointAckEventSchema = z.object({
  seq: scalar,
  metadata: z.object({ ...propertyMetadata, event_type: z.literal('datapointack') }),
  datapointack: datapointAckBody,
});

export const ConnectivityEventSchema = z.object({
  seq: scalar,
  metadata: z.object({ ...commonMetadata, event_type: z.literal('connectivity') }),
  connection: z.object({
    event_time: timestamp,
    user_uuid: optionalText,
    status: z.string().min(1).max(64),
  }),
});

export const LocationEventSchema = z.object({
  seq: scalar,
  metadata: z.object({ ...commonMetadata, event_type: z.literal('location') }),
  location_event: z.object({
    ip: optionalText,
    lat: z.union([z.string().max(64), z.number()]).nullish(),
    long: z.union([z.string().max(64), z.number()]).nullish(),
    provider: optionalText,
    user_uuid: optionalText,
    created_at: timestamp,
  }),
});

export const RegistrationEventSchema = z.object({
  seq: scalar,
  metadata: z.object({ ...commonMetadata, event_type: z.literal('registration') }),
  registration_event: z.object({
    registered: z.boolean(),
    registration_type: optionalText,
    unregistered_at: optionalTimestamp,
    user_uuid: optionalText,
  }),
});

const SCHEMAS = {
  datapoint: DatapointEventSchema,
  datapointack: DatapointAckEventSchema,
  connectivity: ConnectivityEventSchema,
  location: LocationEventSchema,
  registration: RegistrationEventSchema,
} as const;

export type DatapointEvent = z.infer<typeof DatapointEventSchema>;
export type DatapointAckEvent = z.infer<typeof DatapointAckEventSchema>;
export type ConnectivityEvent = z.infer<typeof ConnectivityEventSchema>;
export type LocationEvent = z.infer<typeof LocationEventSchema>;
export type RegistrationEvent = z.infer<typeof RegistrationEventSchema>;
export type DeviceEvent = DatapointEvent | DatapointAckEvent | ConnectivityEvent | LocationEvent | RegistrationEvent;
export type DeviceEventOf<T extends EventType> = z.infer<(typeof SCHEMAS)[T]>;

export type DecodeResult = { ok: true; event: DeviceEvent; type: EventType } | { ok: false; reason: string };

const isEventType = (value: unknown): value is EventType => typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);

/** Validates one parsed JSON value as a device event; the reason names the first problems found. */
export function validateEvent(value: unknown): DecodeResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const type = (value as { metadata?: { event_type?: unknown } }).metadata?.event_type;
  if (!isEventType(type)) {
    return { ok: false, reason: `metadata.event_type must be one of ${EVENT_TYPES.join(', ')}, got ${JSON.stringify(type)?.slice(0, 64) ?? 'nothing'}` };
  }
  // datapointack events may carry their body under `datapoint` (DESIGN §3).
  const candidate = type === 'datapointack' && !('datapointack' in value) && 'datapoint' in value
    ? { ...value, datapointack: (value as { datapoint: unknown }).datapoint }
    : value;
  const parsed = SCHEMAS[type].safeParse(candidate);
  if (!parsed.success) {
    const reason = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, reason: `invalid ${type} event: ${reason}` };
  }
  return { ok: true, event: parsed.data, type };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a Kinesis record's data (UTF-8 JSON) into a device event, or says why it is not one. */
export function decodeEvent(data: Buffer): DecodeResult {
  let text: string;
  try {
    text = UTF8.decode(data);
  } catch {
    return { ok: false, reason: 'not UTF-8' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message.slice(0, 200)}` };
  }
  return validateEvent(value);
}
