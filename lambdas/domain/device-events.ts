import { isUtf8 } from 'node:buffer';

/**
 * Device events on the stream, in the Ayla Datastream (DSS) shape: one UTF-8 JSON event per
 * Kinesis record, `metadata.event_type` naming the type and the body under its own key.
 *
 * Validation is a small declarative schema checked in place, without copying the event: the
 * exporter validates 10,000 records per batch, and a copying schema library (zod) costs more than
 * decoding the records (measured in bench/). Unknown keys are ignored; what the export and the
 * logs rely on is checked, and a failure names the field and the rule.
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
export type BaseType = (typeof BASE_TYPES)[number];

/** Base types whose `value` is text (the export writes it base64-encoded). */
export const STRING_LIKE_BASE_TYPES: readonly BaseType[] = ['string', 'message', 'file'];

/** IAP block of a property event without `metadata.block` / `metadata.block_index`. */
export const DEFAULT_BLOCK = 'device';
export const DEFAULT_BLOCK_INDEX = 0;

/**
 * OEM ids name the top-level folders of the export bucket and scope OEM credentials, so they are
 * restricted to safe folder names: no `/`, no leading `_` (the bucket's own `_errors/`, `_staging/`, `_compaction/`),
 * and not `aws` (Lambda's failure records live under `aws/`).
 */
export const OEM_ID_PATTERN = /^(?!aws$)[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/i;
/** {@link OEM_ID_PATTERN} in words, for error messages. */
export const OEM_ID_RULE = '1-64 letters, digits, _ or -, not starting with _ and not "aws"';
/** Whether `text` is an OEM id the pipeline accepts. */
export const isOemId = (text: string): boolean => OEM_ID_PATTERN.test(text);

const DSN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export type Timestamp = string;
type Maybe<T> = T | null | undefined;

interface CommonMetadata {
  oem_id: string;
  oem_model?: Maybe<string>;
  dsn: string;
  resource_tags?: Maybe<unknown[]>;
}

interface PropertyMetadata extends CommonMetadata {
  property_name: string;
  display_name?: Maybe<string>;
  base_type: BaseType;
  /** IAP block; `device` when absent. */
  block?: string;
  /** IAP block index; `0` when absent. */
  block_index?: number;
}

export interface DatapointBody {
  id?: Maybe<string>;
  created_at_from_device?: Maybe<Timestamp>;
  updated_at?: Maybe<Timestamp>;
  created_at?: Maybe<Timestamp>;
  user_uuid?: Maybe<string>;
  echo?: Maybe<boolean>;
  closed?: Maybe<boolean>;
  /** A scalar, or structured (an object or a list, e.g. `{"state": 1, "value": 100}`): within the event's depth and size limits. */
  value: string | number | boolean | null | unknown[] | Record<string, unknown>;
  metadata?: Maybe<Record<string, unknown>>;
}

export interface DatapointAckBody extends DatapointBody {
  ack_id?: Maybe<string>;
  ack_message?: Maybe<string | number | boolean>;
  ack_status?: Maybe<string | number | boolean>;
  acked_at?: Maybe<Timestamp>;
}

type Seq = Maybe<string | number | boolean>;

export interface DatapointEvent {
  seq?: Seq;
  metadata: PropertyMetadata & { event_type: 'datapoint' };
  datapoint: DatapointBody;
}
export interface DatapointAckEvent {
  seq?: Seq;
  metadata: PropertyMetadata & { event_type: 'datapointack' };
  datapointack: DatapointAckBody;
}
export interface ConnectivityEvent {
  seq?: Seq;
  metadata: CommonMetadata & { event_type: 'connectivity' };
  connection: { event_time: Timestamp; user_uuid?: Maybe<string>; status: string };
}
export interface LocationEvent {
  seq?: Seq;
  metadata: CommonMetadata & { event_type: 'location' };
  location_event: { ip?: Maybe<string>; lat?: Maybe<string | number>; long?: Maybe<string | number>; provider?: Maybe<string>; user_uuid?: Maybe<string>; created_at: Timestamp };
}
export interface RegistrationEvent {
  seq?: Seq;
  metadata: CommonMetadata & { event_type: 'registration' };
  registration_event: { registered: boolean; registration_type?: Maybe<string>; unregistered_at?: Maybe<Timestamp>; user_uuid?: Maybe<string> };
}

export type DeviceEvent = DatapointEvent | DatapointAckEvent | ConnectivityEvent | LocationEvent | RegistrationEvent;

/** A check of one value: undefined when it passes, else what was expected. */
type Check = (value: unknown) => string | undefined;
type Shape = Record<string, Check>;

/**
 * A shape compiled to straight-line code: `v["oem_id"]` with a constant name is a fast named load,
 * where a loop over keys (`v[key]`) makes one megamorphic keyed load that costs more than the
 * checks. The generated code only names the schema's own keys; it never contains input.
 */
type CompiledShape = (value: Record<string, unknown>, path: string, problems: string[] | undefined) => string[] | undefined;

function compile(shape: Shape): CompiledShape {
  const keys = Object.keys(shape);
  const checks = keys.map((key) => shape[key]!);
  // A missing field reads `metadata.oem_id is missing`, any other problem `metadata.oem_id: <what was expected>`.
  const body = keys
    .map(
      (key, i) =>
        `p = c[${i}](v[${JSON.stringify(key)}]); if (p !== undefined) (problems ??= []).push(path + ` +
        `(p === m ? ${JSON.stringify(`.${key} ${MISSING}`)} : ${JSON.stringify(`.${key}: `)} + p));`,
    )
    .join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from the static schema above
  const make = new Function('c', 'm', `return function (v, path, problems) { let p;\n${body}\nreturn problems; };`) as (c: Check[], m: string) => CompiledShape;
  return make(checks, MISSING);
}

/** What a required field that is absent (or null) reports, instead of the format it should have had. */
const MISSING = 'is missing';
/** A required field: absent or null is `is missing`; otherwise `check` says what is wrong. */
const required = (check: Check): Check => (v) => (v === undefined || v === null ? MISSING : check(v));

const isNullish = (v: unknown) => v === null || v === undefined;
const nullish = (check: Check): Check => (v) => (isNullish(v) ? undefined : check(v));
const string = (max: number, min = 0): Check => (v) =>
  typeof v === 'string' && v.length >= min && v.length <= max ? undefined : `expected a string of ${min}-${max} characters`;
const matching = (pattern: RegExp, expected: string): Check => (v) => (typeof v === 'string' && pattern.test(v) ? undefined : expected);

/**
 * `matching`, remembering values that passed (bounded): OEM ids and DSNs repeat on most events of
 * a batch, and a Set lookup is cheaper than the pattern.
 */
const matchingCached = (pattern: RegExp, expected: string): Check => {
  const valid = new Set<string>();
  return (v) => {
    if (typeof v !== 'string') return expected;
    if (valid.has(v)) return undefined;
    if (!pattern.test(v)) return expected;
    if (valid.size >= 10_000) valid.clear();
    valid.add(v);
    return undefined;
  };
};

const isDigit = (s: string, i: number) => {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
};

/** `YYYY-MM-DDTHH:MM:SSZ`, the form DSS uses, checked without a regex. */
function isCanonicalTimestamp(s: string): boolean {
  return s.length === 20 && s[4] === '-' && s[7] === '-' && s[10] === 'T' && s[13] === ':' && s[16] === ':' && s[19] === 'Z' &&
    isDigit(s, 0) && isDigit(s, 1) && isDigit(s, 2) && isDigit(s, 3) && isDigit(s, 5) && isDigit(s, 6) && isDigit(s, 8) &&
    isDigit(s, 9) && isDigit(s, 11) && isDigit(s, 12) && isDigit(s, 14) && isDigit(s, 15) && isDigit(s, 17) && isDigit(s, 18);
}

const TIMESTAMP_EXPECTED = 'expected an ISO 8601 timestamp like 2018-09-24T10:25:14Z';
const timestamp: Check = (v) => (typeof v === 'string' && (isCanonicalTimestamp(v) || TIMESTAMP_PATTERN.test(v)) ? undefined : TIMESTAMP_EXPECTED);
const boolean: Check = (v) => (typeof v === 'boolean' ? undefined : 'expected true or false');
const scalar: Check = (v) => (['string', 'number', 'boolean'].includes(typeof v) ? undefined : 'expected a string, number or boolean');
const oneOf = (values: readonly string[]): Check => (v) => (typeof v === 'string' && values.includes(v) ? undefined : `expected one of ${values.join(', ')}`);
const array: Check = (v) => (Array.isArray(v) ? undefined : 'expected a list');
const object: Check = (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? undefined : 'expected an object');
const optional = (check: Check): Check => (v) => (v === undefined ? undefined : check(v));
const text = nullish(string(4096));

const commonMetadata: Shape = {
  oem_id: required(matchingCached(OEM_ID_PATTERN, `oem_id must be ${OEM_ID_RULE}`)),
  oem_model: text,
  dsn: required(matchingCached(DSN_PATTERN, 'dsn must be 1-64 letters, digits, ., _, : or -')),
  resource_tags: nullish(array),
};

const propertyMetadata: Shape = {
  ...commonMetadata,
  property_name: required(string(256, 1)),
  display_name: text,
  base_type: required(oneOf(BASE_TYPES)),
  block: optional(string(256, 1)),
  block_index: optional((v) => (Number.isInteger(v) && (v as number) >= 0 ? undefined : 'expected an integer ≥ 0')),
};

const datapointBody: Shape = {
  id: text,
  created_at_from_device: nullish(timestamp),
  updated_at: nullish(timestamp),
  created_at: nullish(timestamp),
  user_uuid: text,
  echo: nullish(boolean),
  closed: nullish(boolean),
  value: (v) => (v === undefined ? MISSING : v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'object' || (typeof v === 'string' && v.length <= 1_000_000) ? undefined : 'expected a value'),
  metadata: nullish(object),
};

interface TypeSchema {
  metadata: CompiledShape;
  body: CompiledShape;
  /** A rule across fields of the body. */
  rule?: (body: Record<string, unknown>) => string | undefined;
}

const SCHEMAS: Record<EventType, TypeSchema> = {
  datapoint: {
    metadata: compile(propertyMetadata),
    body: compile(datapointBody),
    rule: (b) => (isNullish(b.updated_at) && isNullish(b.created_at) ? 'datapoint needs updated_at or created_at' : undefined),
  },
  datapointack: {
    metadata: compile(propertyMetadata),
    body: compile({ ...datapointBody, ack_id: text, ack_message: nullish(scalar), ack_status: nullish(scalar), acked_at: nullish(timestamp) }),
  },
  connectivity: {
    metadata: compile(commonMetadata),
    body: compile({ event_time: required(timestamp), user_uuid: text, status: required(string(64, 1)) }),
  },
  location: {
    metadata: compile(commonMetadata),
    body: compile({
      ip: text,
      lat: nullish((v) => (typeof v === 'number' || (typeof v === 'string' && v.length <= 64) ? undefined : 'expected a number')),
      long: nullish((v) => (typeof v === 'number' || (typeof v === 'string' && v.length <= 64) ? undefined : 'expected a number')),
      provider: text,
      user_uuid: text,
      created_at: required(timestamp),
    }),
  },
  registration: {
    metadata: compile(commonMetadata),
    body: compile({ registered: required(boolean), registration_type: text, unregistered_at: nullish(timestamp), user_uuid: text }),
  },
};

const EVENT_SHAPE = compile({ seq: nullish(scalar) });

/**
 * A rejected record says why, and names its OEM when it carries a valid OEM id, so that OEM can read
 * its own rejects (the id is only taken from a parsed JSON object, never guessed from bytes).
 */
export type DecodeResult = { ok: true; event: DeviceEvent; type: EventType } | { ok: false; reason: string; oemId?: string };

/** Kinesis' record size limit: anything larger did not come from the stream and is not parsed. */
export const MAX_EVENT_BYTES = 1024 * 1024;
/**
 * Deepest nesting accepted. DSS events are 3-4 levels deep; far deeper values would make the
 * recursive JSON.stringify of the export (metadata, resource_tags) overflow the stack.
 */
export const MAX_EVENT_DEPTH = 64;

type StructureProblem = { kind: 'depth' | 'non-finite'; path: string[] };

/**
 * The first value nested deeper than {@link MAX_EVENT_DEPTH} or the first number that is not finite
 * (JSON.parse turns `1e400` into Infinity, which JSON.stringify would write as `null`). Recursion
 * stops at the depth limit, so the check itself cannot overflow; the path is built only on failure.
 */
function structureProblem(value: unknown, depth: number): StructureProblem | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { kind: 'non-finite', path: [] };
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_EVENT_DEPTH) return { kind: 'depth', path: [] };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = structureProblem(value[i], depth + 1);
      if (problem) return (problem.path.push(`[${i}]`), problem);
    }
    return undefined;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    const problem = structureProblem(object[key], depth + 1);
    if (problem) return (problem.path.push(`.${key.slice(0, 64)}`), problem);
  }
  return undefined;
}

function describeStructureProblem(problem: StructureProblem): string {
  const field = problem.path.reverse().join('').replace(/^\./, '') || 'the event';
  return problem.kind === 'depth'
    ? `${field.slice(0, 200)}: nested deeper than ${MAX_EVENT_DEPTH} levels`
    : `${field.slice(0, 200)}: value is not a finite number`;
}

/** The OEM a rejected value names, when it is a valid OEM id. */
function namedOem(value: unknown): string | undefined {
  const metadata = isObject(value) ? value.metadata : undefined;
  const oemId = isObject(metadata) ? metadata.oem_id : undefined;
  return typeof oemId === 'string' && isOemId(oemId) ? oemId : undefined;
}

function rejected(value: unknown, reason: string): DecodeResult {
  const oemId = namedOem(value);
  return oemId === undefined ? { ok: false, reason } : { ok: false, reason, oemId };
}

const isEventType = (value: unknown): value is EventType => typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** Validates one parsed JSON value as a device event; the reason names the first problems found. */
export function validateEvent(value: unknown): DecodeResult {
  if (!isObject(value)) return { ok: false, reason: 'not a JSON object' };
  const structure = structureProblem(value, 0);
  if (structure) return rejected(value, describeStructureProblem(structure));
  const metadata = value.metadata;
  const type = isObject(metadata) ? metadata.event_type : undefined;
  if (metadata === undefined || metadata === null) return rejected(value, `metadata ${MISSING}`);
  if (isObject(metadata) && (type === undefined || type === null)) return rejected(value, `metadata.event_type ${MISSING}`);
  if (!isObject(metadata) || !isEventType(type)) {
    if (!isObject(metadata)) return rejected(value, 'metadata: expected an object');
    return rejected(value, `metadata.event_type must be one of ${EVENT_TYPES.join(', ')}, got ${JSON.stringify(type).slice(0, 64)}`);
  }
  const schema = SCHEMAS[type];
  const bodyKey = BODY_KEY[type];
  // datapointack events may carry their body under `datapoint` (DESIGN §3).
  if (type === 'datapointack' && value.datapointack === undefined && value.datapoint !== undefined) {
    value = { ...value, datapointack: value.datapoint };
  }
  const event = value as Record<string, unknown>;
  const body = event[bodyKey];
  let problems = EVENT_SHAPE(event, '', undefined);
  problems = schema.metadata(metadata, 'metadata', problems);
  if (body === undefined || body === null) (problems ??= []).push(`${bodyKey} ${MISSING}`);
  else if (!isObject(body)) (problems ??= []).push(`${bodyKey}: expected an object`);
  else {
    problems = schema.body(body, bodyKey, problems);
    const broken = problems ? undefined : schema.rule?.(body);
    if (broken) (problems ??= []).push(`${bodyKey}: ${broken}`);
  }
  if (problems) return rejected(event, `invalid ${type} event: ${problems.slice(0, 3).map((p) => p.replace(/^\./, '')).join('; ')}`);
  return { ok: true, event: event as unknown as DeviceEvent, type };
}

/** Decodes a Kinesis record's data (UTF-8 JSON) into a device event, or says why it is not one. */
export function decodeEvent(data: Buffer): DecodeResult {
  if (data.length > MAX_EVENT_BYTES) return { ok: false, reason: `larger than ${MAX_EVENT_BYTES} bytes (${data.length})` };
  const text = data.toString('utf8');
  // Decoding replaces invalid sequences with U+FFFD: only then is the (slower) strict check needed.
  if (text.includes('\uFFFD') && !isUtf8(data)) return { ok: false, reason: 'not UTF-8' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message.slice(0, 200)}` };
  }
  return validateEvent(value);
}
