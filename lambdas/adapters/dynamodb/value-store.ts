import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { datapointKey, lastValueSortKeyAt, refId, registryPartition, valuePartition, valueSortKey } from '../../domain/datapoint-logs/keys';
import type { LoggerState } from '../../domain/datapoint-logs/logging-rules';
import type { LoggedEntry, ValueLog, ValuePage } from '../../domain/datapoint-logs/ports';
import type { DatapointRef, StoredValue, TimeRange } from '../../domain/datapoint-logs/records';
import { stateFromValueItem, valueFromItem, valueToItem, type Item } from './datapoint-log-items';

/** Queries in flight when the logger reads the latest value of each datapoint of a batch. */
export const STATE_READS_IN_FLIGHT = 16;

/**
 * Logged values, one partition per datapoint (keys in `keys.ts`). The logger's state of a datapoint is
 * carried by its latest value, so logging a value is one item written.
 */
export class ValueStore implements ValueLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Writes values in batches of 25 (one write request per value), retrying what DynamoDB leaves unprocessed. */
  async putValues(oemId: string, entries: readonly LoggedEntry[]): Promise<void> {
    const requests = entries.map(({ ref, value, state }) => ({
      PutRequest: { Item: { pk: valuePartition(oemId, ref), sk: valueSortKey(value.at, value.sequence), ...valueToItem(value, state) } },
    }));
    await this.batchWrite(requests);
  }

  /**
   * The logger's state of each of `refs`, by `refId`: the state its latest value carries (one strongly
   * consistent query of one item per datapoint, {@link STATE_READS_IN_FLIGHT} at once). A datapoint
   * without values, or whose latest value was written before values carried the state, is absent.
   */
  async loggerStates(oemId: string, refs: readonly DatapointRef[]): Promise<Map<string, LoggerState>> {
    const states = new Map<string, LoggerState>();
    let next = 0;
    const worker = async () => {
      while (next < refs.length) {
        const ref = refs[next++]!;
        const page = await this.doc.send(new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': valuePartition(oemId, ref) },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }));
        const item = page.Items?.[0];
        const state = item ? stateFromValueItem(item) : undefined;
        if (state) states.set(refId(ref), state);
      }
    };
    await Promise.all(Array.from({ length: Math.min(STATE_READS_IN_FLIGHT, refs.length) }, worker));
    return states;
  }

  /**
   * Deletes values. First each datapoint's registry item notes the highest sequence deleted (`seqFloor`,
   * only raised), so the logger never gives a later value the id of a deleted one, even when the deleted
   * values were the latest (whose state the logger reads).
   */
  async deleteValues(oemId: string, entries: ReadonlyArray<{ ref: DatapointRef; value: StoredValue }>): Promise<void> {
    const highest = new Map<string, { ref: DatapointRef; sequence: number }>();
    for (const { ref, value } of entries) {
      const id = refId(ref);
      if ((highest.get(id)?.sequence ?? -1) < value.sequence) highest.set(id, { ref, sequence: value.sequence });
    }
    await Promise.all([...highest.values()].map(({ ref, sequence }) => this.doc.send(new UpdateCommand({
      TableName: this.table,
      Key: { pk: registryPartition(oemId, ref.dsn), sk: datapointKey(ref) },
      UpdateExpression: 'SET seqFloor = :s',
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(seqFloor) OR seqFloor < :s)',
      ExpressionAttributeValues: { ':s': sequence },
    })).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    })));
    await this.batchWrite(entries.map(({ ref, value }) => ({
      DeleteRequest: { Key: { pk: valuePartition(oemId, ref), sk: valueSortKey(value.at, value.sequence) } },
    })));
  }

  /** One query of a datapoint's values: the key range of `range`, from after `after`, at most `limit` items. */
  async valuePage(oemId: string, ref: DatapointRef, range: TimeRange, limit: number, after?: string): Promise<ValuePage> {
    const pk = valuePartition(oemId, ref);
    const page = await this.doc.send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': pk,
        ':from': valueSortKey(range.from ?? 0, 0),
        ':to': lastValueSortKeyAt(range.to ?? 999_999_999_999_999),
      },
      ...(after !== undefined ? { ExclusiveStartKey: { pk, sk: after } } : {}),
      Limit: limit,
    }));
    const values = (page.Items ?? []).map(valueFromItem);
    const next = page.LastEvaluatedKey?.sk;
    return typeof next === 'string' ? { values, next } : { values };
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
