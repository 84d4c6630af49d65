import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { randomUUID } from 'node:crypto';
import { NULL_UUID } from '../unit/lambdas/domain/export/seed-events';

/** An OEM id no other test uses (the registry is per OEM, so tests never see each other's data). */
export const uniqueOem = (label: string) => `it-${label}-${randomUUID().slice(0, 8)}`;

export interface ApiReply<T = unknown> {
  status: number;
  contentType: string | null;
  body: T;
}

/** Calls the HTTP API as a client would: `path` as it goes on the wire (percent-encoding kept). */
export async function call<T = unknown>(target: { apiUrl: string }, method: string, path: string, token?: string, body?: unknown): Promise<ApiReply<T>> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(`${target.apiUrl}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Left as text: the test says what it expected.
  }
  return { status: response.status, contentType: response.headers.get('content-type'), body: parsed as T };
}

/** `/iap/devs/{id}/if/{block}/{block_index}/{datapoint_name}/logs[/{setting}]`, elements as given. */
export const logsPath = (id: string, block: string, blockIndex: string, name: string, setting?: string) =>
  `/iap/devs/${id}/if/${block}/${blockIndex}/${name}/logs${setting === undefined ? '' : `/${setting}`}`;

// ---- device events in the DSS shape (DESIGN §3) ------------------------------------------------

type Json = Record<string, unknown>;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function datapointEvent(oemId: string, dsn: string, name: string, options: { block?: string; blockIndex?: number; value?: unknown; at?: number } = {}): Json {
  const at = iso(options.at ?? Date.now());
  return {
    seq: '123',
    metadata: {
      oem_id: oemId, oem_model: 'linuxevb', dsn, resource_tags: [], event_type: 'datapoint', property_name: name, display_name: name, base_type: 'integer',
      ...(options.block !== undefined ? { block: options.block } : {}),
      ...(options.blockIndex !== undefined ? { block_index: options.blockIndex } : {}),
    },
    datapoint: {
      id: randomUUID(), created_at_from_device: null, updated_at: at, created_at: at, user_uuid: NULL_UUID, echo: true, closed: false,
      value: options.value ?? 1, metadata: {},
    },
  };
}

export function connectivityEvent(oemId: string, dsn: string, status: 'Online' | 'Offline', at = Date.now()): Json {
  return {
    seq: '1',
    metadata: { oem_id: oemId, oem_model: 'ledevb', dsn, resource_tags: [], event_type: 'connectivity' },
    connection: { event_time: iso(at), user_uuid: NULL_UUID, status },
  };
}

export function registrationEvent(oemId: string, dsn: string, registered: boolean, at = Date.now()): Json {
  return {
    seq: '9',
    metadata: { oem_id: oemId, oem_model: 'ledevb', dsn, resource_tags: [], event_type: 'registration' },
    registration_event: { registered, registration_type: 'AP-Mode', unregistered_at: registered ? null : iso(at), user_uuid: null },
  };
}

export function locationEvent(oemId: string, dsn: string, position: { lat?: string; long?: string; time_zone?: string }, at = Date.now()): Json {
  return {
    seq: '5',
    metadata: { oem_id: oemId, oem_model: 'ledevb', dsn, resource_tags: [], event_type: 'location' },
    location_event: { created_at: iso(at), ip: '67.255.234.73', provider: 'ip-based', user_uuid: NULL_UUID, ...position },
  };
}

/** Puts events on the stream as DSS does: one JSON record each, partition key = dsn. */
export async function putEvents(kinesis: KinesisClient, streamName: string, events: ReadonlyArray<Json | string>): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const { FailedRecordCount } = await kinesis.send(new PutRecordsCommand({
      StreamName: streamName,
      Records: events.slice(i, i + 500).map((event) => ({
        PartitionKey: typeof event === 'string' ? `raw-${i}` : String((event.metadata as Json).dsn),
        Data: Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)),
      })),
    }));
    if (FailedRecordCount) throw new Error(`${FailedRecordCount} records were not put`);
  }
}

/** The fields every IAP logs reply entry starts with (the seed's reply shape). */
export interface ReplyEntry {
  id: number;
  local: string;
  utc: string;
  deviceId: string;
  deviceName: string;
  blockName: string;
  blockIndex: string;
  datapointName: string;
  deviceState: string;
  deviceHealth: string;
}
