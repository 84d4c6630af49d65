import { BatchWriteCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { datapointKey, lastValueSortKeyAt, oemPartition, valuePartition, valueSortKey } from '../../domain/datapoint-logs/keys';
import type { LoggerState } from '../../domain/datapoint-logs/logging-rules';
import type { ValueLog, ValuePage } from '../../domain/datapoint-logs/ports';
import type { DatapointRef, StoredValue, TimeRange } from '../../domain/datapoint-logs/records';
import { loggerStateToItem, valueFromItem, valueToItem, type Item } from './datapoint-log-items';

/** Logged values, one partition per datapoint (keys in `keys.ts`), and the logger's state of each datapoint. */
export class ValueStore implements ValueLog {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Writes values in batches of 25 (one write request per value), retrying what DynamoDB leaves unprocessed. */
  async putValues(oemId: string, entries: ReadonlyArray<{ ref: DatapointRef; value: StoredValue }>): Promise<void> {
    const requests = entries.map(({ ref, value }) => ({
      PutRequest: { Item: { pk: valuePartition(oemId, ref), sk: valueSortKey(value.at, value.sequence), type: 'value', ...valueToItem(value) } },
    }));
    await this.batchWrite(requests);
  }

  async deleteValues(oemId: string, entries: ReadonlyArray<{ ref: DatapointRef; value: StoredValue }>): Promise<void> {
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
