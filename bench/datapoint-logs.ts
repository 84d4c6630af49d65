/**
 * Datapoint log benchmarks, in-process against dynalite: the logger's throughput and DynamoDB
 * requests, and value queries through the handler against the raw queries it needs.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import dynalite from 'dynalite';
import type { Server } from 'node:http';
import { listen } from '../infra/local-cloud/aws-protocol/http';
import { tableDefinition } from './dynamo-meter';
import { BY_NAME_INDEX, deviceKey, namePrefix, registryPartition, valuePartition, valueSortKey } from '../lambdas/domain/datapoint-logs/keys';
import { logOemBatch, type BatchEvent } from '../lambdas/domain/datapoint-logs/log-datapoints';
import { DatapointLogStore } from '../lambdas/adapters/dynamodb/datapoint-log-store';
import { ValueStore } from '../lambdas/adapters/dynamodb/value-store';
import { valueId, type DatapointRef, type StoredValue } from '../lambdas/domain/datapoint-logs/records';
import { handleLogValues } from '../lambdas/functions/iap-log-values/log-values';
import type { DeviceEvent } from '../lambdas/domain/device-events';

export interface Figure {
  section: string;
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number; unit: string };
  ratio?: number;
  goal?: string;
  pass?: boolean;
}

const TABLE = 'bench-datapoint-logs';

async function startDynamo(): Promise<{ doc: DynamoDBDocumentClient; calls: Map<string, number>; items: { written: number }; close: () => Promise<void> }> {
  const server: Server = dynalite({ createTableMs: 0 });
  const port = await listen(server, 0);
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
  await client.send(new CreateTableCommand(tableDefinition(TABLE)));
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const calls = new Map<string, number>();
  const items = { written: 0 };
  // Counts every request the stores send, and the items each write request carries.
  doc.middlewareStack.add((next, context) => async (args) => {
    const name = context.commandName ?? 'unknown';
    calls.set(name, (calls.get(name) ?? 0) + 1);
    const input = args.input as { RequestItems?: Record<string, unknown[]> };
    if (name === 'BatchWriteItemCommand') items.written += Object.values(input.RequestItems ?? {}).reduce((n, list) => n + list.length, 0);
    if (name === 'PutItemCommand' || name === 'UpdateItemCommand') items.written += 1;
    return next(args);
  }, { step: 'initialize', name: 'countRequests' });
  return { doc, calls, items, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function datapointEvent(oemId: string, dsn: string, name: string, at: number, value: number, id: string): DeviceEvent {
  const ts = new Date(at).toISOString().slice(0, 19) + 'Z';
  return {
    metadata: { oem_id: oemId, oem_model: 'bench', dsn, resource_tags: [], event_type: 'datapoint', property_name: name, display_name: name, base_type: 'integer' },
    datapoint: { id, updated_at: ts, created_at: ts, value, metadata: {} },
  } as DeviceEvent;
}

/** The logger over batches of 1,000 updates (200 datapoints, levels 1 and 2 active): events/s, requests and writes. */
export async function loggerBenchmark(): Promise<Figure[]> {
  const dynamo = await startDynamo();
  try {
    const stores = { registry: new DatapointLogStore(dynamo.doc, TABLE), values: new ValueStore(dynamo.doc, TABLE) };
    const oemId = 'bench-logger';
    const devices = 50;
    const names = ['temp', 'humidity', 'power', 'energy'];
    // Configure every datapoint first (registration included), outside the measurement.
    const refs: DatapointRef[] = [];
    for (let d = 0; d < devices; d++) for (const name of names) refs.push({ dsn: `DEV${d}`, block: 'device', blockIndex: 0, name });
    const records = await stores.registry.registerDatapoints(oemId, refs, Date.now());
    await Promise.all([...records.values()].map((r) => stores.registry.updateConfig(oemId, r, { levels: { 1: { interval: 0, retention: 7 }, 2: { interval: 60, retention: 365 } } }, Date.now())));
    dynamo.calls.clear();
    dynamo.items.written = 0;

    const batches = 20;
    const perBatch = 1000;
    let logged = 0;
    const start = Date.UTC(2026, 10, 22);
    const began = performance.now();
    for (let b = 0; b < batches; b++) {
      const events: BatchEvent[] = [];
      for (let i = 0; i < perBatch; i++) {
        const ref = refs[i % refs.length]!;
        const step = b * perBatch + i;
        // Every fifth update of a datapoint repeats its previous value: minDeltaValue "any" skips it.
        const k = Math.floor(step / refs.length);
        const value = k % 5 === 4 ? k - 1 : k;
        events.push({ event: datapointEvent(oemId, ref.dsn, ref.name, start + step * 1000, value, `e${step}`), arrivalMs: start + step * 1000 });
      }
      logged += (await logOemBatch(oemId, events, stores, Date.now())).logged;
    }
    const seconds = (performance.now() - began) / 1000;
    const events = batches * perBatch;
    const requests = [...dynamo.calls.values()].reduce((a, b) => a + b, 0);
    const statesWritten = dynamo.calls.get('UpdateItemCommand') ?? 0;
    const valueWrites = dynamo.items.written - statesWritten;
    return [
      { section: 'Datapoint logger', name: `events/s, ${events.toLocaleString('en')} updates of ${refs.length} datapoints in batches of ${perBatch} (dynalite)`, value: Math.round(events / seconds), unit: 'events/s' },
      { section: 'Datapoint logger', name: 'DynamoDB requests per event', value: requests / events, unit: 'requests', goal: 'batched' },
      { section: 'Datapoint logger', name: `values logged of ${events.toLocaleString('en')} updates (every fifth repeats its value)`, value: logged, unit: 'values' },
      {
        section: 'Datapoint logger',
        name: 'item writes per logged value (values only)',
        value: valueWrites / logged,
        unit: 'writes',
        goal: '≤ 1',
        pass: valueWrites <= logged,
      },
      {
        section: 'Datapoint logger',
        name: 'state writes of their own (the state rides on each datapoint\'s latest value)',
        value: statesWritten,
        unit: 'writes',
        goal: '0',
        pass: statesWritten === 0,
      },
      {
        section: 'Datapoint logger',
        name: 'configuration reads (BatchGet) per batch',
        value: (dynamo.calls.get('BatchGetItemCommand') ?? 0) / batches,
        unit: 'requests',
        goal: 'one per 100 datapoints + devices',
      },
    ];
  } finally {
    await dynamo.close();
  }
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

/**
 * A value query through the handler (selection, retention, merge, rendering, JSON) against the
 * DynamoDB requests it sends, issued directly, side by side: one page of 100 values from a
 * datapoint holding `stored` values.
 */
export async function valueQueryBenchmark(stored: number): Promise<Figure[]> {
  const dynamo = await startDynamo();
  try {
    const stores = { registry: new DatapointLogStore(dynamo.doc, TABLE), values: new ValueStore(dynamo.doc, TABLE) };
    const oemId = 'bench-values';
    const ref: DatapointRef = { dsn: 'DEV1', block: 'device', blockIndex: 0, name: 'energy' };
    const [record] = (await stores.registry.registerDatapoints(oemId, [ref], Date.now())).values();
    await stores.registry.updateConfig(oemId, record!, { levels: { 1: { interval: 0, retention: 36_500 } } }, Date.now());
    const start = Date.UTC(2026, 0, 1);
    const values: Array<{ ref: DatapointRef; value: StoredValue }> = [];
    for (let i = 1; i <= stored; i++) {
      values.push({ ref, value: { id: valueId(record!.id, i), sequence: i, at: start + i * 60_000, value: i, levels: [1], deviceState: 'provisioned', deviceHealth: 'normal', expiresAt: 4_000_000_000 } });
    }
    for (let i = 0; i < values.length; i += 5000) await stores.values.putValues(oemId, values.slice(i, i + 5000));

    // A page of 100 in the middle of the log: a time range and paging, as a client would ask.
    const from = start + Math.floor(stored / 2) * 60_000;
    const fromText = new Date(from).toISOString();
    const event = {
      requestContext: { http: { method: 'GET' }, authorizer: { jwt: { claims: { sub: 'bench', 'custom:oem_id': oemId }, scopes: null } } },
      pathParameters: { id: ref.dsn, block: '*', block_index: '*', datapoint_name: `*+name==energy&utc=>${fromText}`, value_param: '*' },
      queryStringParameters: { pg: '0', sz: '100' },
    } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
    const handler = async () => {
      const reply = await handleLogValues(event, stores, Date.now());
      if (reply.statusCode !== 200) throw new Error(`handler answered ${reply.statusCode}: ${reply.body}`);
    };
    // The requests the handler needs: the datapoint by name, its device, one page of values.
    const raw = async () => {
      const pk = registryPartition(oemId, ref.dsn);
      await dynamo.doc.send(new QueryCommand({ TableName: TABLE, IndexName: BY_NAME_INDEX, KeyConditionExpression: 'gsi1pk = :pk AND begins_with(gsi1sk, :p)', ExpressionAttributeValues: { ':pk': pk, ':p': namePrefix('energy', ref.dsn) } }));
      await dynamo.doc.send(new BatchGetCommand({ RequestItems: { [TABLE]: { Keys: [{ pk, sk: deviceKey(ref.dsn) }] } } }));
      await dynamo.doc.send(new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': valuePartition(oemId, ref), ':from': valueSortKey(from, 0), ':to': `${String(Date.now()).padStart(15, '0')}#9999999999` },
        Limit: 250,
      }));
    };
    for (let i = 0; i < 20; i++) {
      await handler();
      await raw();
    }
    const h: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < 200; i++) {
      let t = performance.now();
      await handler();
      h.push(performance.now() - t);
      t = performance.now();
      await raw();
      r.push(performance.now() - t);
    }
    const label = stored.toLocaleString('en');
    return (['p50', 'p99'] as const).map((p) => {
      const pct = p === 'p50' ? 50 : 99;
      const hv = percentile(h, pct);
      const rv = percentile(r, pct);
      return {
        section: 'IAP value queries',
        name: `${p} of one 100-value page, ${label} values stored: handler`,
        value: +hv.toFixed(2),
        unit: 'ms',
        baseline: { name: 'the same DynamoDB requests sent directly', value: +rv.toFixed(2), unit: 'ms' },
        ratio: hv / rv,
        goal: '≤ 1.5',
        pass: hv / rv <= 1.5,
      };
    });
  } finally {
    await dynamo.close();
  }
}
