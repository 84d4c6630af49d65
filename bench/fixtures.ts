import type { StreamRecord } from '../lambdas/domain/event-stream';
import type { ExportStore } from '../lambdas/domain/export/ports';
import type { StageOptions } from '../lambdas/domain/export/stage-batch';
import { generateEvents } from '../tools/simulator/fleet';

/** A mixed batch as Lambda delivers it: base64 data of simulated fleet events, one shard. */
export function mixedBatch(count: number, seed = 1): { records: StreamRecord[]; base64: string[] } {
  const events = generateEvents({ oems: 5, devicesPerOem: 20, seed, count, start: new Date(Date.UTC(2026, 10, 22)), intervalMs: 250 });
  const base64 = events.map((e) => Buffer.from(JSON.stringify(e)).toString('base64'));
  const records = base64.map((data, i) => ({
    shardId: 'shardId-000000000000',
    sequenceNumber: String(49_000_000_000_000_000_000_000n + BigInt(i)),
    partitionKey: events[i]!.metadata.dsn,
    data: Buffer.from(data, 'base64'),
    arrivalMs: Date.UTC(2026, 10, 22),
  }));
  return { records, base64 };
}

/** A store that keeps nothing: the benchmark measures decoding, validation and encoding only. */
export const nullStore: ExportStore = {
  createIfAbsent: async () => 'created',
  put: async () => undefined,
  getText: async () => undefined,
  getBytes: async () => undefined,
  exists: async () => false,
  list: async () => ({ objects: [], prefixes: [] }),
  deleteMany: async () => undefined,
};

/** The default export settings: 5-minute windows, 16 compaction partitions. */
export const STAGE_OPTIONS: StageOptions = { windowMs: 5 * 60_000, partitions: 16 };
