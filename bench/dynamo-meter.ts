/**
 * The datapoint log table on dynalite (in process, in memory) with a meter on the document client:
 * requests by command, capacity units as DynamoDB bills them, and item writes per partition key.
 *
 * - Table read and write units are what dynalite answers in `ConsumedCapacity` (the meter asks for
 *   `ReturnConsumedCapacity: TOTAL` on every request): DynamoDB's rules on item sizes (1 KB per write
 *   unit, 4 KB per read unit, half for eventually consistent reads).
 * - dynalite charges nothing for global secondary indexes, so the meter adds the `byName` index's write
 *   units itself, by DynamoDB's rules: a write of an item that is in the index and changes an attribute
 *   the index holds costs ceil(index entry size / 1 KB); an entry's size is its keys and projected
 *   attributes, sized as DynamoDB sizes items (attribute names and values; a number 1 byte per two
 *   significant digits plus 1; lists and maps 3 bytes plus 1 per element).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import type { Server } from 'node:http';
import { listen } from '../infra/local-cloud/aws-protocol/http';
import { SELECTION_ATTRIBUTES } from '../lambdas/adapters/dynamodb/datapoint-log-items';
import { BY_NAME_INDEX } from '../lambdas/domain/datapoint-logs/keys';

const INDEX_KEYS = ['gsi1pk', 'gsi1sk'] as const;
const INDEX_HELD = new Set<string>(['pk', 'sk', ...INDEX_KEYS, ...SELECTION_ATTRIBUTES]);

/** The table as the construct defines it: pk/sk, and the `byName` index holding the selection attributes. */
export const tableDefinition = (TableName: string) => ({
  TableName,
  BillingMode: 'PAY_PER_REQUEST' as const,
  KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' as const }, { AttributeName: 'sk', KeyType: 'RANGE' as const }],
  AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
  GlobalSecondaryIndexes: [{
    IndexName: BY_NAME_INDEX,
    KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' as const }, { AttributeName: 'gsi1sk', KeyType: 'RANGE' as const }],
    Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...SELECTION_ATTRIBUTES] },
  }],
});

/** DynamoDB's size of an attribute value (bytes, without its name), from its document-client form. */
export function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const digits = String(value).replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.length;
  if (value instanceof Set) return [...value].reduce((n: number, v) => n + valueSize(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + valueSize(v), 0);
  if (typeof value === 'object') return 3 + Object.entries(value as object).reduce((n, [k, v]) => (v === undefined ? n : n + 1 + Buffer.byteLength(k) + valueSize(v)), 0);
  return 0;
}

/** DynamoDB's size of an item: every attribute's name and value. */
export const itemSize = (item: Record<string, unknown>) => Object.entries(item).reduce((n, [k, v]) => (v === undefined ? n : n + Buffer.byteLength(k) + valueSize(v)), 0);

/** The write units a `byName` index entry of `item` costs (0 when the item is not in the index). */
export function indexWriteUnits(item: Record<string, unknown> | undefined): number {
  if (!item || !INDEX_KEYS.every((k) => item[k] !== undefined)) return 0;
  const entry = Object.fromEntries(Object.entries(item).filter(([k]) => INDEX_HELD.has(k)));
  return Math.ceil(itemSize(entry) / 1024);
}

export interface Meter {
  requests: Map<string, number>;
  /** Units dynalite reports for the table. */
  readUnits: number;
  writeUnits: number;
  /** Units of the `byName` index, computed (see the module comment). */
  indexWriteUnits: number;
  /** Item writes (put, update, delete, each request of a batch) per partition key. */
  writesByKey: Map<string, number>;
  reset(): void;
}

type Input = Record<string, unknown> & { TableName?: string; Key?: Record<string, unknown>; Item?: Record<string, unknown>; RequestItems?: Record<string, unknown[]> };

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand']);
const METERED = new Set([...WRITES, 'GetItemCommand', 'QueryCommand', 'BatchGetItemCommand']);

/** Names of the attributes an update expression sets or adds (resolving `#names`). */
function updatedAttributes(input: Input): string[] {
  const expression = String(input.UpdateExpression ?? '');
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  return [...expression.matchAll(/(#?[A-Za-z_][\w]*)\s*(?:=|:)/g)].map((m) => (m[1]!.startsWith('#') ? names[m[1]!] ?? m[1]! : m[1]!));
}

export async function startDynamo(table: string): Promise<{ doc: DynamoDBDocumentClient; meter: Meter; close: () => Promise<void> }> {
  const server: Server = dynalite({ createTableMs: 0 });
  const port = await listen(server, 0);
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  await client.send(new CreateTableCommand(tableDefinition(table)));
  const marshallOptions = { removeUndefinedValues: true };
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions });
  // A second client without the meter, to look at an item an update changed.
  const plain = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } }), { marshallOptions });
  const meter: Meter = {
    requests: new Map(), readUnits: 0, writeUnits: 0, indexWriteUnits: 0, writesByKey: new Map(),
    reset() {
      this.requests.clear();
      this.writesByKey.clear();
      this.readUnits = this.writeUnits = this.indexWriteUnits = 0;
    },
  };
  const wrote = (pk: unknown) => meter.writesByKey.set(String(pk), (meter.writesByKey.get(String(pk)) ?? 0) + 1);
  doc.middlewareStack.add((next, context) => async (args) => {
    const name = String(context.commandName ?? 'unknown');
    meter.requests.set(name, (meter.requests.get(name) ?? 0) + 1);
    const input = args.input as Input;
    if (METERED.has(name)) input.ReturnConsumedCapacity = 'TOTAL';
    const result = await next(args);
    const output = result.output as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> };
    const units = [output.ConsumedCapacity ?? []].flat().reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
    if (WRITES.has(name)) meter.writeUnits += units;
    else meter.readUnits += units;
    if (name === 'PutItemCommand') {
      wrote(input.Item?.pk);
      meter.indexWriteUnits += indexWriteUnits(input.Item);
    } else if (name === 'UpdateItemCommand' || name === 'DeleteItemCommand') {
      wrote(input.Key?.pk);
      if (name === 'UpdateItemCommand' && updatedAttributes(input).some((a) => INDEX_HELD.has(a))) {
        const now = await plain.send(new GetCommand({ TableName: input.TableName, Key: input.Key }));
        meter.indexWriteUnits += indexWriteUnits(now.Item);
      }
    } else if (name === 'BatchWriteItemCommand') {
      for (const request of Object.values(input.RequestItems ?? {}).flat() as Array<{ PutRequest?: { Item: Record<string, unknown> }; DeleteRequest?: { Key: Record<string, unknown> } }>) {
        wrote(request.PutRequest?.Item.pk ?? request.DeleteRequest?.Key.pk);
        if (request.PutRequest) meter.indexWriteUnits += indexWriteUnits(request.PutRequest.Item);
      }
    }
    return result;
  }, { step: 'initialize', name: 'capacityMeter' });
  return {
    doc,
    meter,
    close: async () => {
      client.destroy();
      plain.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
