import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  BY_NAME_INDEX, COUNTER_KEY, datapointKey, datapointNameKey, datapointPrefix, deviceKey, namePrefix, oemPartition, refId,
} from '../../domain/datapoint-logs/keys';
import { DEFAULT_CONFIG, type ConfigPatch } from '../../domain/datapoint-logs/log-settings';
import type { DatapointRegistry } from '../../domain/datapoint-logs/ports';
import type { DatapointRecord, DatapointRef, DatapointScope, DeviceChange, DeviceRecord } from '../../domain/datapoint-logs/records';
import { datapointFromItem, deviceFromItem, patchAttributes, SELECTION_ATTRIBUTES, type Item } from './datapoint-log-items';

/**
 * The datapoint log table for the registry and the log configuration. Every read and write is
 * inside one OEM's partition; queries use the main key or the `byName` index, never a scan.
 */
export class DatapointLogStore implements DatapointRegistry {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * Datapoints of the OEM within `scope`, by the narrowest key prefix that scope allows. Without the
   * logger's state (which may hold a last value of up to 350 KB): selections need only the configuration.
   */
  async *queryDatapoints(oemId: string, scope: DatapointScope): AsyncGenerator<DatapointRecord> {
    const pk = oemPartition(oemId);
    const byName = scope.name !== undefined && (scope.dsn === undefined || scope.block === undefined);
    const projection = {
      ProjectionExpression: SELECTION_ATTRIBUTES.map((_, i) => `#p${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(SELECTION_ATTRIBUTES.map((name, i) => [`#p${i}`, name])),
    };
    const input: QueryCommandInput = byName
      ? {
          TableName: this.table,
          IndexName: BY_NAME_INDEX,
          KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': namePrefix(scope.name!, scope.dsn) },
          ...projection,
        }
      : {
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': datapointPrefix(scope) },
          ...projection,
        };
    let startKey: Item | undefined;
    do {
      const page = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) yield datapointFromItem(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** The datapoints among `refs` that exist, by {@link refId}. */
  async getDatapoints(oemId: string, refs: readonly DatapointRef[]): Promise<Map<string, DatapointRecord>> {
    const items = await this.batchGet(oemId, [...new Set(refs.map(datapointKey))]);
    return new Map(items.map((item) => {
      const record = datapointFromItem(item);
      return [refId(record), record];
    }));
  }

  async getDevices(oemId: string, dsns: readonly string[]): Promise<Map<string, DeviceRecord>> {
    const unique = [...new Set(dsns)];
    const items = await this.batchGet(oemId, unique.map(deviceKey));
    const byDsn = new Map(items.map((item) => [item.dsn as string, item]));
    return new Map(unique.map((dsn) => [dsn, deviceFromItem(dsn, byDsn.get(dsn))]));
  }

  /**
   * Registers the datapoints among `refs` that are not known yet: ids are reserved with one
   * counter update, each datapoint is created only if absent (a concurrent registration wins).
   * Returns every ref's record, existing or new.
   */
  async registerDatapoints(oemId: string, refs: readonly DatapointRef[], now: number, known?: Map<string, DatapointRecord>): Promise<Map<string, DatapointRecord>> {
    const records = known ?? (await this.getDatapoints(oemId, refs));
    const missing = [...new Map(refs.filter((r) => !records.has(refId(r))).map((r) => [refId(r), r])).values()];
    if (missing.length === 0) return records;
    const pk = oemPartition(oemId);
    const counter = await this.doc.send(new UpdateCommand({
      TableName: this.table,
      Key: { pk, sk: COUNTER_KEY },
      UpdateExpression: 'ADD n :count',
      ExpressionAttributeValues: { ':count': missing.length },
      ReturnValues: 'UPDATED_NEW',
    }));
    let id = (counter.Attributes?.n as number) - missing.length;
    await Promise.all(missing.map(async (ref) => {
      const record: DatapointRecord = { ...ref, id: ++id, registeredAt: now, config: DEFAULT_CONFIG };
      try {
        await this.doc.send(new PutCommand({
          TableName: this.table,
          Item: { pk, sk: datapointKey(ref), gsi1pk: pk, gsi1sk: datapointNameKey(ref), type: 'datapoint', oemId, ...ref, id: record.id, registeredAt: now },
          ConditionExpression: 'attribute_not_exists(pk)',
        }));
        records.set(refId(ref), record);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const [existing] = (await this.getDatapoints(oemId, [ref])).values();
        if (existing) records.set(refId(ref), existing);
      }
    }));
    return records;
  }

  /**
   * Applies a configuration change to an existing datapoint and returns it as it is now. Only the
   * patched attributes are written, so concurrent changes of different settings do not undo each other.
   */
  async updateConfig(oemId: string, ref: DatapointRef, patch: ConfigPatch, now: number): Promise<DatapointRecord> {
    const attributes: Record<string, unknown> = { ...patchAttributes(patch), configuredAt: now };
    const names = Object.keys(attributes);
    const result = await this.doc.send(new UpdateCommand({
      TableName: this.table,
      Key: { pk: oemPartition(oemId), sk: datapointKey(ref) },
      UpdateExpression: `SET ${names.map((n) => `#${n} = :${n}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((n) => [`#${n}`, n])),
      ExpressionAttributeValues: Object.fromEntries(names.map((n) => [`:${n}`, attributes[n]])),
      ConditionExpression: 'attribute_exists(pk)',
      ReturnValues: 'ALL_NEW',
    }));
    return datapointFromItem(result.Attributes!);
  }

  /** Records device state, health and time zone, each only if newer than what is stored. */
  async updateDevice(oemId: string, dsn: string, change: DeviceChange): Promise<void> {
    const key = { pk: oemPartition(oemId), sk: deviceKey(dsn) };
    await Promise.all(
      (['state', 'health', 'timeZone'] as const).flatMap((attribute) => {
        const value = change[attribute];
        if (!value) return [];
        return [this.doc.send(new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'SET #a = :v, #at = :at, dsn = :dsn, #type = :type',
          ConditionExpression: 'attribute_not_exists(#at) OR #at <= :at',
          ExpressionAttributeNames: { '#a': attribute, '#at': `${attribute}At`, '#type': 'type' },
          ExpressionAttributeValues: { ':v': value.value, ':at': value.at, ':dsn': dsn, ':type': 'device' },
        })).catch((error: unknown) => {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        })];
      }),
    );
  }

  private async batchGet(oemId: string, sortKeys: string[]): Promise<Item[]> {
    const pk = oemPartition(oemId);
    const items: Item[] = [];
    for (let i = 0; i < sortKeys.length; i += 100) {
      let keys: Item[] = sortKeys.slice(i, i + 100).map((sk) => ({ pk, sk }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2000)));
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys } } }));
        items.push(...(out.Responses?.[this.table] ?? []));
        keys = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Item[];
      }
    }
    return items;
  }
}
