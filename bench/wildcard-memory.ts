/**
 * Peak heap of wildcard reads over N datapoints (argv[2]), in a process of its own
 * (`node --expose-gc --import tsx …`): the registry in an in-memory table (bench/memory-table.ts), read
 * through the real stores and handlers; the heap is sampled at every store request and after the reply,
 * against the heap after a full GC with the registry already built. Prints JSON.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { DatapointLogStore } from '../lambdas/adapters/dynamodb/datapoint-log-store';
import { ValueStore } from '../lambdas/adapters/dynamodb/value-store';
import type { DatapointRef } from '../lambdas/domain/datapoint-logs/records';
import { handleLogConfig } from '../lambdas/functions/iap-log-config/log-config';
import { handleLogValues } from '../lambdas/functions/iap-log-values/log-values';
import { HttpError } from '../lambdas/shared/http';
import { memoryTable } from './memory-table';

const count = Number(process.argv[2] ?? 10_000);
const TABLE = 'bench-wildcard';
const OEM = 'bench-wide';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function main(): Promise<void> {
  const table = memoryTable();
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  const send = table.doc.send.bind(table.doc) as (command: unknown) => Promise<unknown>;
  (table.doc as unknown as { send: (command: unknown) => Promise<unknown> }).send = async (command) => {
    sample();
    const out = await send(command);
    sample();
    return out;
  };
  const stores = { registry: new DatapointLogStore(table.doc, TABLE), values: new ValueStore(table.doc, TABLE) };
  // Two datapoints per device, `temp` configured (level 1): count datapoints in all.
  const refs: DatapointRef[] = [];
  for (let d = 0; d < count / 2; d++) for (const name of ['temp', 'power']) refs.push({ dsn: `AC000W${String(d).padStart(9, '0')}`, block: 'device', blockIndex: 0, name });
  for (let i = 0; i < refs.length; i += 1000) {
    const records = await stores.registry.registerDatapoints(OEM, refs.slice(i, i + 1000), Date.now());
    await Promise.all([...records.values()].filter((r) => r.name === 'temp').map((r) => stores.registry.updateConfig(OEM, r, { levels: { 1: { interval: 0, retention: 7 } } }, Date.now())));
  }
  const event = (datapoint: string, values: boolean) => ({
    requestContext: { http: { method: 'GET' }, authorizer: { jwt: { claims: { sub: 'bench', 'custom:oem_id': OEM }, scopes: null } } },
    pathParameters: { id: '*', block: '*', block_index: '*', datapoint_name: datapoint, ...(values ? { value_param: '*' } : {}) },
    queryStringParameters: { pg: '0', sz: '100' },
  }) as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
  const reads: Array<[string, () => Promise<{ statusCode?: number; body?: string }>]> = [
    ['a value read of every datapoint (…/*/logs/value/*)', () => handleLogValues(event('*', true), stores, Date.now())],
    ['a value read of one name on every device (…/temp/logs/value/*)', () => handleLogValues(event('temp', true), stores, Date.now())],
    ['a configuration listing, first page (…/*/logs?pg=0&sz=100)', () => handleLogConfig(event('*', false), stores.registry, Date.now())],
  ];
  const results = [];
  for (const [read, run] of reads) {
    gc!();
    const before = process.memoryUsage().heapUsed;
    peak = before;
    let status: number;
    let code: string | undefined;
    try {
      const reply = await run();
      status = reply.statusCode ?? 200;
      if (status >= 400) code = (JSON.parse(reply.body ?? '{}') as { code?: string }).code;
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      status = error.statusCode;
      code = error.code;
    }
    sample();
    results.push({ read, status, ...(code ? { code } : {}), peakHeapGrowthBytes: Math.max(0, peak - before) });
  }
  process.stdout.write(JSON.stringify(results));
}

void main();
