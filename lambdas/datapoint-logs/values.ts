import { BatchWriteCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { datapointKey, escape, oemPartition, type DatapointRef } from './keys';
import type { LoggerState } from './logging-rules';
import type { DeviceHealth, DeviceState } from './store';

/**
 * Logged values, one partition per datapoint: `pk = VAL#<oem>#<dsn>#<block>#<index>#<name>`,
 * `sk = <event time ms, 15 digits>#<sequence, 10 digits>`, so a time range is a key range and the
 * order of the key is the order of the reply. The key depends only on the value, so writing a
 * value again (a batch retried before the logger's state was saved) overwrites it.
 */
export interface StoredValue {
  /** Unique in the OEM: the datapoint's id × 10⁹ + the value's sequence. */
  id: number;
  sequence: number;
  at: number;
  value: string | number | boolean | null;
  levels: Array<1 | 2 | 3>;
  deviceState: DeviceState;
  deviceHealth: DeviceHealth;
  timeZone?: string;
  /** TTL (epoch seconds): the latest retention end of its levels when it was logged. */
  expiresAt: number;
  /** When the logger wrote it (epoch ms): paging snapshots leave out what was logged after them. */
  loggedAt?: number;
}

const SEQUENCE_SPAN = 1_000_000_000;

export const valueId = (datapointId: number, sequence: number) => datapointId * SEQUENCE_SPAN + sequence;

export const valuePartition = (oemId: string, ref: DatapointRef) => `VAL#${escape(oemId)}#${datapointKey(ref).slice(3)}`;

const pad = (n: number, width: number) => String(Math.max(0, Math.floor(n))).padStart(width, '0');
export const valueSortKey = (at: number, sequence: number) => `${pad(at, 15)}#${pad(sequence, 10)}`;

/** Inclusive time bounds (epoch ms) of a value query. */
export interface TimeRange {
  from?: number;
  to?: number;
}

type Item = Record<string, unknown>;

function valueFromItem(item: Item): StoredValue {
  return {
    id: item.id as number,
    sequence: item.sequence as number,
    at: item.at as number,
    value: (item.value ?? null) as StoredValue['value'],
    levels: item.levels as StoredValue['levels'],
    deviceState: item.deviceState as DeviceState,
    deviceHealth: item.deviceHealth as DeviceHealth,
    ...(item.timeZone ? { timeZone: item.timeZone as string } : {}),
    expiresAt: item.expiresAt as number,
    ...(typeof item.loggedAt === 'number' ? { loggedAt: item.loggedAt } : {}),
  };
}

/** The logger's state as an item attribute: gaps in the per-level list kept as null. */
export function loggerStateToItem(state: LoggerState): Record<string, unknown> {
  return JSON.parse(JSON.stringify(state, (_, v: unknown) => (v === undefined ? null : v))) as Record<string, unknown>;
}

export function loggerStateFromItem(item: Record<string, unknown>): LoggerState {
  const orUndefined = <T>(v: unknown) => (v === null || v === undefined ? undefined : (v as T));
  const levels = (item.levelLastAt as unknown[] | undefined) ?? [];
  return {
    ...(orUndefined<number>(item.lastEventAt) !== undefined ? { lastEventAt: item.lastEventAt as number } : {}),
    ...(Array.isArray(item.lastEventIds) ? { lastEventIds: item.lastEventIds as string[] } : {}),
    ...(orUndefined<number>(item.lastLoggedAt) !== undefined ? { lastLoggedAt: item.lastLoggedAt as number } : {}),
    ...('lastLoggedValue' in item ? { lastLoggedValue: item.lastLoggedValue as LoggerState['lastLoggedValue'] } : {}),
    levelLastAt: [orUndefined<number>(levels[0]), orUndefined<number>(levels[1]), orUndefined<number>(levels[2])],
    logged: (item.logged as number | undefined) ?? 0,
  };
}

export class ValueStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Writes values in batches of 25 (one write request per value), retrying what DynamoDB leaves unprocessed. */
  async putValues(oemId: string, entries: ReadonlyArray<{ ref: DatapointRef; value: StoredValue }>): Promise<void> {
    const requests = entries.map(({ ref, value }) => ({
      PutRequest: { Item: { pk: valuePartition(oemId, ref), sk: valueSortKey(value.at, value.sequence), type: 'value', ...value } },
    }));
    await this.batchWrite(requests);
  }

  async deleteValues(oemId: string, entries: ReadonlyArray<{ ref: DatapointRef; value: StoredValue }>): Promise<void> {
    await this.batchWrite(entries.map(({ ref, value }) => ({
      DeleteRequest: { Key: { pk: valuePartition(oemId, ref), sk: valueSortKey(value.at, value.sequence) } },
    })));
  }

  /**
   * A datapoint's values in time order within `range`, read page by page (`pageSize` items) as
   * the caller consumes them: stopping early reads no further. Reads only the key range asked for.
   */
  async *values(oemId: string, ref: DatapointRef, range: TimeRange, pageSize = 250): AsyncGenerator<StoredValue> {
    let startKey: Item | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': valuePartition(oemId, ref),
          ':from': valueSortKey(range.from ?? 0, 0),
          ':to': `${pad(range.to ?? 999_999_999_999_999, 15)}#9999999999`,
        },
        ExclusiveStartKey: startKey,
        Limit: pageSize,
      }));
      for (const item of page.Items ?? []) yield valueFromItem(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** Saves the logger's state of a datapoint (only that attribute: configuration changes are untouched). */
  async saveLoggerState(oemId: string, ref: DatapointRef, state: LoggerState): Promise<void> {
    await this.doc.send(new UpdateCommand({
      TableName: this.table,
      Key: { pk: oemPartition(oemId), sk: datapointKey(ref) },
      UpdateExpression: 'SET #logger = :state',
      ExpressionAttributeNames: { '#logger': 'logger' },
      ExpressionAttributeValues: { ':state': loggerStateToItem(state) },
      ConditionExpression: 'attribute_exists(pk)',
    }));
  }

  private async batchWrite(requests: Array<Record<string, unknown>>): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let chunk = requests.slice(i, i + 25);
      for (let attempt = 0; chunk.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2000)));
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: chunk } }));
        chunk = (out.UnprocessedItems?.[this.table] ?? []) as Array<Record<string, unknown>>;
      }
    }
  }
}
