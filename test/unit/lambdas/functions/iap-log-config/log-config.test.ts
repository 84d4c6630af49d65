import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { DEFAULT_CONFIG } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import type { DatapointRegistry } from '../../../../../lambdas/domain/datapoint-logs/ports';
import type { DatapointRecord, DatapointScope } from '../../../../../lambdas/domain/datapoint-logs/records';
import { handleLogConfig, MAX_LISTED_DATAPOINTS } from '../../../../../lambdas/functions/iap-log-config/log-config';
import { HttpError } from '../../../../../lambdas/shared/http';
import { jwtEvent } from '../../events';

/** The configuration routes over an in-memory registry: what a selection too large for a listing gets. */

const OEM = 'oem-unit';
const NOW = Date.parse('2026-03-01T12:00:00Z');

function registry(count: number) {
  const records: DatapointRecord[] = Array.from({ length: count }, (_, i) => ({ dsn: `D${i % 50}`, block: 'device', blockIndex: 0, name: `n${i}`, id: i + 1, registeredAt: NOW - 1000, config: DEFAULT_CONFIG }));
  const stats = { deviceLookups: 0, updates: 0 };
  const store: DatapointRegistry = {
    async *queryDatapoints(oemId: string, scope: DatapointScope) {
      if (oemId !== OEM) return;
      for (const r of records) if (scope.name === undefined || r.name === scope.name) yield r;
    },
    async getDevices(_oemId, dsns) {
      stats.deviceLookups++;
      return new Map(dsns.map((dsn) => [dsn, { dsn, state: 'provisioned', health: 'normal' }]));
    },
    async registerDatapoints() {
      throw new Error('not used');
    },
    async updateConfig(_oemId, ref, patch) {
      stats.updates++;
      return { ...records.find((r) => r.name === ref.name)!, config: { ...DEFAULT_CONFIG, minDeltaTime: patch.minDeltaTime ?? 0 } };
    },
    async updateDevice() {},
  };
  return { store, stats };
}

function request(method: 'GET' | 'PUT', datapoint: string, setting?: string, body?: unknown, query?: Record<string, string>): APIGatewayProxyEventV2WithJWTAuthorizer {
  const event = jwtEvent({ sub: 'user-1', 'custom:oem_id': OEM }, `${method} /iap/devs/{id}/if/{block}/{block_index}/{datapoint_name}/logs`);
  return {
    ...event,
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method } },
    pathParameters: { id: '*', block: '*', block_index: '*', datapoint_name: datapoint, ...(setting ? { setting } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    ...(query ? { queryStringParameters: query } : {}),
  };
}

async function run(store: DatapointRegistry, event: APIGatewayProxyEventV2WithJWTAuthorizer) {
  try {
    const reply = await handleLogConfig(event, store, NOW);
    return { status: reply.statusCode, body: JSON.parse(reply.body ?? 'null') as unknown };
  } catch (error) {
    if (error instanceof HttpError) return { status: error.statusCode, body: { code: error.code, message: error.message } };
    throw error;
  }
}

describe('handleLogConfig: selections too large to list', () => {
  it(`lists up to ${MAX_LISTED_DATAPOINTS} datapoints, paged or not`, async () => {
    const { store } = registry(MAX_LISTED_DATAPOINTS);
    const page = await run(store, request('GET', '*', undefined, undefined, { pg: '3', sz: '100' }));
    expect(page).toEqual({ status: 200, body: { snapshot: NOW, resources: expect.any(Array), remainingPages: 96 } });
  });

  it('answers a GET selecting more with 422 SelectionTooLarge asking to narrow the address, having stopped reading', async () => {
    const { store, stats } = registry(MAX_LISTED_DATAPOINTS + 500);
    for (const query of [undefined, { pg: '0', sz: '10' }]) {
      expect(await run(store, request('GET', '*', undefined, undefined, query))).toEqual({ status: 422, body: { code: 'SelectionTooLarge', message: expect.stringMatching(/narrow/) } });
    }
    // Devices are looked up a chunk at a time, and no further once the limit is passed.
    expect(stats.deviceLookups).toBeLessThanOrEqual(2 * (MAX_LISTED_DATAPOINTS / 100 + 1));
    expect((await run(store, request('GET', 'n7'))).status).toBe(200);
  });
});
