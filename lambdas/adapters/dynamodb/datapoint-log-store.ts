import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  BY_NAME_INDEX, COUNTER_KEY, datapointKey, datapointNameKey, datapointPrefix, deviceKey, namePrefix, oemPartition, refId,
  registryPartition, registryPartitions,
} from '../../domain/datapoint-logs/keys';
import { DEFAULT_CONFIG, type ConfigPatch } from '../../domain/datapoint-logs/log-settings';
import type { DatapointRegistry } from '../../domain/datapoint-logs/ports';
import type { DatapointRecord, DatapointRef, DatapointScope, DeviceChange, DeviceRecord } from '../../domain/datapoint-logs/records';
import { datapointFromItem, deviceFromItem, patchAttributes, SELECTION_ATTRIBUTES, type Item } from './datapoint-log-items';

/** Items per query page of a registry read: what one partition's stream holds at most while buckets are merged. */
export const REGISTRY_PAGE_ITEMS = 500;

type Key = { pk: string; sk: string };

/**
 * Merges sorted streams into one, by `key` (each stream's items come in ascending key order): one item
 * held per stream, and a stream's next page asked for only when its last item has been taken.
 */
async function* mergeSorted<T>(streams: ReadonlyArray<AsyncIterator<T>>, key: (item: T) => string): AsyncGenerator<T> {
  const heads = await Promise.all(streams.map((s) => s.next()));
  for (;;) {
    let least = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i]!;
      if (head.done) continue;
      if (least < 0 || key(head.value) < key((heads[least] as IteratorYieldResult<T>).value)) least = i;
    }
    if (least < 0) return;
    yield (heads[least] as IteratorYieldResult<T>).value;
    heads[least] = await streams[least]!.next();
  }
}

/**
 * The datapoint log table for the registry and the log configuration. Every read and write is inside
 * one OEM's partitions (spread over buckets by device, `keys.ts`); queries use the main key or the
 * `byName` index, never a scan.
 */
export class DatapointLogStore implements DatapointRegistry {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * Datapoints of the OEM within `scope`, by the narrowest key prefix that scope allows, in key order
   * (device, block, index, name; by name first when the index is used). A scope with a device reads
   * its one bucket; otherwise every bucket is queried, a page of at most {@link REGISTRY_PAGE_ITEMS}
   * at a time each, and the buckets are merged in key order (memory: a page per bucket). Without the
   * logger's state: selections need only the configuration.
   */
  queryDatapoints(oemId: string, scope: DatapointScope): AsyncGenerator<DatapointRecord> {
    const byName = scope.name !== undefined && (scope.dsn === undefined || scope.block === undefined);
    const sortKey = byName ? 'gsi1sk' : 'sk';
    const partitions = scope.dsn !== undefined ? [registryPartition(oemId, scope.dsn)] : registryPartitions(oemId);
    const streams = partitions.map((pk) => this.queryPartition(pk, scope, byName));
    const items = streams.length === 1 ? streams[0]! : mergeSorted(streams, (item) => item[sortKey] as string);
    return (async function* () {
      for await (const item of items) yield datapointFromItem(item);
    })();
  }

  private async *queryPartition(pk: string, scope: DatapointScope, byName: boolean): AsyncGenerator<Item> {
    const projected = byName ? [...SELECTION_ATTRIBUTES, 'gsi1sk'] : [...SELECTION_ATTRIBUTES, 'sk'];
    const projection = {
      ProjectionExpression: projected.map((_, i) => `#p${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(projected.map((name, i) => [`#p${i}`, name])),
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
      const page = await this.doc.send(new QueryCommand({ ...input, Limit: REGISTRY_PAGE_ITEMS, ExclusiveStartKey: startKey }));
      yield* page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** The datapoints among `refs` that exist, by {@link refId}. */
  async getDatapoints(oemId: string, refs: readonly DatapointRef[]): Promise<Map<string, DatapointRecord>> {
    const keys = new Map(refs.map((ref) => [refId(ref), { pk: registryPartition(oemId, ref.dsn), sk: datapointKey(ref) }]));
    return this.records(await this.batchGet([...keys.values()]));
  }

  async getDevices(oemId: string, dsns: readonly string[]): Promise<Map<string, DeviceRecord>> {
    const unique = [...new Set(dsns)];
    const items = await this.batchGet(unique.map((dsn) => ({ pk: registryPartition(oemId, dsn), sk: deviceKey(dsn) })));
    const byDsn = new Map(items.map((item) => [item.dsn as string, item]));
    return new Map(unique.map((dsn) => [dsn, deviceFromItem(dsn, byDsn.get(dsn))]));
  }

  /**
   * Registers the datapoints among `refs` that are not known yet. One kept under the OEM's single
   * partition of before the registry was spread over buckets is moved to its bucket as it was (id,
   * configuration, logger state); the others get ids reserved with one counter update and are
   * created only if absent (a concurrent registration wins). Returns every ref's record, existing or new.
   */
  async registerDatapoints(oemId: string, refs: readonly DatapointRef[], now: number, known?: Map<string, DatapointRecord>): Promise<Map<string, DatapointRecord>> {
    const records = known ?? (await this.getDatapoints(oemId, refs));
    let missing = [...new Map(refs.filter((r) => !records.has(refId(r))).map((r) => [refId(r), r])).values()];
    if (missing.length === 0) return records;
    const legacy = await this.batchGet(missing.map((ref) => ({ pk: oemPartition(oemId), sk: datapointKey(ref) })));
    await Promise.all(legacy.map((item) => this.createDatapoint(oemId, { ...datapointFromItem(item) }, item, records)));
    missing = missing.filter((r) => !records.has(refId(r)));
    if (missing.length === 0) return records;
    const counter = await this.doc.send(new UpdateCommand({
      TableName: this.table,
      Key: { pk: oemPartition(oemId), sk: COUNTER_KEY },
      UpdateExpression: 'ADD n :count',
      ExpressionAttributeValues: { ':count': missing.length },
      ReturnValues: 'UPDATED_NEW',
    }));
    let id = (counter.Attributes?.n as number) - missing.length;
    await Promise.all(missing.map((ref) => this.createDatapoint(oemId, { ...ref, id: ++id, registeredAt: now, config: DEFAULT_CONFIG }, undefined, records)));
    return records;
  }

  /** Puts a datapoint in its bucket unless it is there; `from` is the item it is moved from, if any. */
  private async createDatapoint(oemId: string, record: DatapointRecord, from: Item | undefined, records: Map<string, DatapointRecord>): Promise<void> {
    const ref: DatapointRef = { dsn: record.dsn, block: record.block, blockIndex: record.blockIndex, name: record.name };
    const pk = registryPartition(oemId, ref.dsn);
    const item: Item = from
      ? { ...from, pk, gsi1pk: pk }
      : { pk, sk: datapointKey(ref), gsi1pk: pk, gsi1sk: datapointNameKey(ref), ...ref, id: record.id, registeredAt: record.registeredAt };
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
      records.set(refId(ref), record);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const [existing] = (await this.getDatapoints(oemId, [ref])).values();
      if (existing) records.set(refId(ref), existing);
    }
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
      Key: { pk: registryPartition(oemId, ref.dsn), sk: datapointKey(ref) },
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
    const key = { pk: registryPartition(oemId, dsn), sk: deviceKey(dsn) };
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

  private records(items: readonly Item[]): Map<string, DatapointRecord> {
    return new Map(items.map((item) => {
      const record = datapointFromItem(item);
      return [refId(record), record];
    }));
  }

  /** The items of `keys` that exist, 100 keys a request, retrying what DynamoDB leaves unprocessed. */
  private async batchGet(all: readonly Key[]): Promise<Item[]> {
    const items: Item[] = [];
    for (let i = 0; i < all.length; i += 100) {
      let keys: Item[] = all.slice(i, i + 100);
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
