import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { formatLocal, formatUtc } from '../../lambdas/domain/datapoint-logs/time-format';
import { valuePartition } from '../../lambdas/domain/datapoint-logs/keys';
import type { Deployment } from './deployment';
import { call, datapointEvent, logsPath, uniqueOem, type ApiReply, type ReplyEntry } from './iap-helpers';
import { eventually } from './local-cloud-helpers';

/** What the IAP log value suites share: the reply shapes, event and expectation builders, and calls bound to a deployment. */

export type Json = Record<string, unknown>;
export type Tag = Record<string, null>;
export interface Value extends ReplyEntry {
  value: unknown;
  tags: Tag[];
}
export interface Page {
  snapshot: number;
  resources: Value[];
  remainingPages: number;
  /** Where the next page starts (pass it back as `xs`); present while another page follows. */
  next?: string;
}
export interface ErrorBody {
  code: string;
  message: string;
}

export const S = 1000;
export const VALUE_KEYS = ['id', 'local', 'utc', 'deviceId', 'deviceName', 'blockName', 'blockIndex', 'datapointName', 'deviceState', 'deviceHealth', 'value', 'tags'];

/** `…/logs/value/{value_param}` of an address, elements as they go on the wire. */
export const valuesPath = (id: string, block: string, index: string, name: string, valueParam = '*') => logsPath(id, block, index, name, `value/${valueParam}`);

/** A recent whole second plus `ms` milliseconds: event times for a test, in the past so nothing is after "now". */
export const baseTime = (secondsAgo = 600, ms = 123) => Math.floor(Date.now() / 1000) * 1000 - secondsAgo * S + ms;

/** A datapoint event at `at`, to the millisecond. */
export function update(oemId: string, dsn: string, name: string, value: unknown, at: number, options: { block?: string; blockIndex?: number } = {}): Json {
  const event = datapointEvent(oemId, dsn, name, { ...options, value, at });
  const body = event.datapoint as Json;
  body.updated_at = body.created_at = new Date(at).toISOString();
  return event;
}

export type LevelSetting = { interval: number; retention: number };
export interface Root {
  level1?: LevelSetting;
  level2?: LevelSetting;
  level3?: LevelSetting;
  minDeltaValue?: string | number;
  minDeltaTime?: number;
}
export const EVERY: Root = { level1: { interval: 0, retention: 1 }, minDeltaValue: 'always' };

export function expectOk<T>(reply: ApiReply<T>): T {
  expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: expect.anything() });
  expect(reply.contentType).toMatch(/application\/json/);
  return reply.body;
}

export function expectError(reply: ApiReply<unknown>, status: number, code?: string): ErrorBody {
  expect({ status: reply.status, body: reply.body }).toEqual({ status, body: { code: code ?? expect.any(String), message: expect.any(String) } });
  return reply.body as ErrorBody;
}

export const tags = (...levels: number[]): Tag[] => levels.map((l) => ({ [`log_level_${l}`]: null }));

/** A value as the reply must show it (id checked separately). */
export function expected(dsn: string, name: string, at: number, value: unknown, levels: number[], device: { state?: string; health?: string; timeZone?: string; block?: string; index?: string } = {}): Value {
  return {
    id: expect.any(Number) as unknown as number,
    local: formatLocal(at, device.timeZone),
    utc: formatUtc(at),
    deviceId: dsn,
    deviceName: dsn,
    blockName: device.block ?? 'device',
    blockIndex: device.index ?? '0',
    datapointName: name,
    deviceState: device.state ?? 'provisioned',
    deviceHealth: device.health ?? 'normal',
    value,
    tags: tags(...levels),
  };
}

export const summary = (values: Value[]) => values.map((v) => `${v.deviceId}/${v.datapointName}=${JSON.stringify(v.value)}`);
export const utcMs = (v: Value) => Date.parse(`${v.utc.slice(0, 23).replace(' ', 'T')}Z`);

export function expectSortedByUtc(values: Value[]): void {
  const times = values.map(utcMs);
  expect(times).toEqual([...times].sort((a, b) => a - b));
}

/** What the calls below need, read when they run (the suite sets it up in beforeAll). */
export interface ValuesTarget {
  deployment: Pick<Deployment, 'apiUrl' | 'token'>;
  doc: DynamoDBDocumentClient;
  table: string;
}

/** The API calls and table reads of the value suites, against `target()`. */
export function valuesApi(target: () => ValuesTarget) {
  async function tenant(label: string): Promise<{ oemId: string; token: string }> {
    const oemId = uniqueOem(label);
    return { oemId, token: await target().deployment.token({ oemId }) };
  }

  const api = <T = Value[]>(method: string, path: string, token?: string, body?: unknown) => call<T>(target().deployment, method, path, token, body);

  /** PUTs a datapoint's configuration on its literal path (which registers it); returns the datapoint's id. */
  async function configure(token: string, dsn: string, name: string, root: Root, block = 'device', index = '0'): Promise<number> {
    const reply = await api<Array<{ id: number }>>('PUT', logsPath(dsn, block, index, name), token, root);
    expect({ status: reply.status, entries: Array.isArray(reply.body) ? reply.body.length : reply.body }).toEqual({ status: 200, entries: 1 });
    return reply.body[0]!.id;
  }

  /** Polls GET `path` until it answers at least `count` values (the logger has caught up). */
  async function valuesWhen(token: string, path: string, count: number, timeoutMs = 20_000): Promise<Value[]> {
    return eventually(async () => {
      const reply = await api('GET', path, token);
      return reply.status === 200 && Array.isArray(reply.body) && reply.body.length >= count ? reply.body : undefined;
    }, timeoutMs, `${count} values at ${path}`);
  }

  /** The value items of a datapoint as stored in the table (for checks behind the API). */
  async function storedItems(oemId: string, dsn: string, name: string, block = 'device', blockIndex = 0): Promise<Json[]> {
    const items: Json[] = [];
    let startKey: Json | undefined;
    do {
      const page = await target().doc.send(new QueryCommand({
        TableName: target().table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': valuePartition(oemId, { dsn, block, blockIndex, name }) },
        ExclusiveStartKey: startKey,
      }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  return { tenant, api, configure, valuesWhen, storedItems };
}
