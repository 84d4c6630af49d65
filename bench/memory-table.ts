/**
 * The datapoint log table in memory, as a document client that answers the requests the stores send
 * (BatchGet, Query on the table or the `byName` index with `begins_with` and paging, the latest value,
 * conditional Put, Update with SET/ADD, BatchWrite): for fleet-sized benchmarks where dynalite would take
 * minutes. It counts item writes per partition key as `bench/dynamo-meter.ts` does. Not DynamoDB: it
 * checks only the conditions the stores use (`attribute_not_exists(pk)`), enough to count and spread keys.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type Item = Record<string, unknown>;
type Input = Record<string, unknown> & {
  Key?: Item; Item?: Item; RequestItems?: Record<string, unknown>; IndexName?: string; KeyConditionExpression?: string;
  ExpressionAttributeValues?: Record<string, unknown>; ExpressionAttributeNames?: Record<string, string>; UpdateExpression?: string;
  ConditionExpression?: string; ExclusiveStartKey?: Item; Limit?: number; ScanIndexForward?: boolean; ReturnValues?: string;
};

class Partition {
  readonly items = new Map<string, Item>();
  private sorted?: Item[];
  private sortedBy?: string;

  put(sk: string, item: Item) {
    if (!this.items.has(sk)) this.sorted = undefined;
    this.items.set(sk, item);
  }

  delete(sk: string) {
    if (this.items.delete(sk)) this.sorted = undefined;
  }

  inOrder(key: string): Item[] {
    if (!this.sorted || this.sortedBy !== key) {
      this.sorted = [...this.items.values()].filter((i) => typeof i[key] === 'string').sort((a, b) => ((a[key] as string) < (b[key] as string) ? -1 : 1));
      this.sortedBy = key;
    }
    return this.sorted;
  }
}

export interface MemoryTable {
  doc: DynamoDBDocumentClient;
  writesByKey: Map<string, number>;
  requests: Map<string, number>;
  /** Items in the table. */
  size(): number;
}

export function memoryTable(): MemoryTable {
  const table = new Map<string, Partition>();
  const index = new Map<string, Partition>();
  const writesByKey = new Map<string, number>();
  const requests = new Map<string, number>();
  const partition = (map: Map<string, Partition>, pk: string) => {
    let p = map.get(pk);
    if (!p) map.set(pk, (p = new Partition()));
    return p;
  };
  const get = (key: Item) => table.get(key.pk as string)?.items.get(key.sk as string);
  const store = (item: Item) => {
    const old = get(item);
    if (old?.gsi1pk) index.get(old.gsi1pk as string)?.delete(`${old.pk as string}\u0000${old.sk as string}`);
    partition(table, item.pk as string).put(item.sk as string, item);
    if (typeof item.gsi1pk === 'string') partition(index, item.gsi1pk).put(`${item.pk as string}\u0000${item.sk as string}`, item);
    writesByKey.set(item.pk as string, (writesByKey.get(item.pk as string) ?? 0) + 1);
  };
  const remove = (key: Item) => {
    const old = get(key);
    if (old?.gsi1pk) index.get(old.gsi1pk as string)?.delete(`${old.pk as string}\u0000${old.sk as string}`);
    table.get(key.pk as string)?.delete(key.sk as string);
    writesByKey.set(key.pk as string, (writesByKey.get(key.pk as string) ?? 0) + 1);
  };
  const copy = <T>(x: T): T => structuredClone(x);

  const handlers: Record<string, (input: Input) => unknown> = {
    BatchGetCommand: (input) => {
      const [[name, { Keys }]] = Object.entries(input.RequestItems as Record<string, { Keys: Item[] }>) as [[string, { Keys: Item[] }]];
      return { Responses: { [name]: Keys.map(get).filter((i): i is Item => i !== undefined).map(copy) } };
    },
    QueryCommand: (input) => {
      const values = input.ExpressionAttributeValues ?? {};
      const onIndex = input.IndexName !== undefined;
      const sortKey = onIndex ? 'gsi1sk' : 'sk';
      const rows = (onIndex ? index : table).get(values[':pk'] as string)?.inOrder(sortKey) ?? [];
      const condition = input.KeyConditionExpression ?? '';
      const prefix = /begins_with/.test(condition) ? (values[':prefix'] as string) : undefined;
      const between = /BETWEEN/.test(condition) ? [values[':from'] as string, values[':to'] as string] : undefined;
      let selected = rows.filter((r) => {
        const k = r[sortKey] as string;
        return (prefix === undefined || k.startsWith(prefix)) && (!between || (k >= between[0]! && k <= between[1]!));
      });
      if (input.ScanIndexForward === false) selected = [...selected].reverse();
      const after = input.ExclusiveStartKey?.[sortKey] as string | undefined;
      if (after !== undefined) selected = selected.filter((r) => (input.ScanIndexForward === false ? (r[sortKey] as string) < after : (r[sortKey] as string) > after));
      const limit = input.Limit ?? Number.POSITIVE_INFINITY;
      const page = selected.slice(0, limit);
      const last = page[page.length - 1];
      return {
        Items: page.map(copy),
        ...(selected.length > limit && last ? { LastEvaluatedKey: { pk: last.pk, sk: last.sk, ...(onIndex ? { gsi1pk: last.gsi1pk, gsi1sk: last.gsi1sk } : {}) } } : {}),
      };
    },
    PutCommand: (input) => {
      if (input.ConditionExpression === 'attribute_not_exists(pk)' && get(input.Item!)) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      store(copy(input.Item!));
      return {};
    },
    UpdateCommand: (input) => {
      const names = input.ExpressionAttributeNames ?? {};
      const values = input.ExpressionAttributeValues ?? {};
      const exists = get(input.Key!);
      if (input.ConditionExpression === 'attribute_exists(pk)' && !exists) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      const item: Item = { ...(exists ?? {}), ...input.Key };
      const expression = input.UpdateExpression ?? '';
      const set = /SET (.*?)(?: ADD |$)/.exec(expression)?.[1];
      for (const clause of set ? set.split(',') : []) {
        const [lhs, rhs] = clause.split('=').map((s) => s.trim()) as [string, string];
        item[names[lhs] ?? lhs] = values[rhs];
      }
      const add = /ADD (\S+) (:\w+)/.exec(expression);
      if (add) item[add[1]!] = ((item[add[1]!] as number | undefined) ?? 0) + (values[add[2]!] as number);
      store(item);
      return { Attributes: copy(item) };
    },
    BatchWriteCommand: (input) => {
      for (const request of Object.values(input.RequestItems as Record<string, Array<{ PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }>>).flat()) {
        if (request.PutRequest) store(copy(request.PutRequest.Item));
        else if (request.DeleteRequest) remove(request.DeleteRequest.Key);
      }
      return {};
    },
  };

  const doc = {
    send: async (command: { constructor: { name: string }; input: Input }) => {
      const name = command.constructor.name;
      requests.set(name, (requests.get(name) ?? 0) + 1);
      const handler = handlers[name];
      if (!handler) throw new Error(`memory table: ${name} is not supported`);
      return handler(command.input);
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, writesByKey, requests, size: () => [...table.values()].reduce((n, p) => n + p.items.size, 0) };
}
