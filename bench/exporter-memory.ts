/**
 * Peak heap of one exporter (stage 1) batch, in a process of its own (`node --expose-gc --import tsx …`):
 * the heap is sampled in every storage call, when the batch's rows are all alive, against the heap
 * after a full GC with the batch already built. Prints JSON.
 */
import type { ExportStore } from '../lambdas/domain/export/ports';
import { writeStagedBatch } from '../lambdas/domain/export/stage-batch';
import { mixedBatch, nullStore, STAGE_OPTIONS } from './fixtures';

const count = Number(process.argv[2] ?? 10_000);
const { records } = mixedBatch(count);
const batchBytes = records.reduce((n, r) => n + r.data.length, 0);
let peak = 0;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().heapUsed);
};
const sampling: ExportStore = {
  ...nullStore,
  createIfAbsent: async (...args) => (sample(), nullStore.createIfAbsent(...args)),
  put: async (...args) => (sample(), nullStore.put(...args)),
};
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
void writeStagedBatch(records, nullStore, Date.now(), STAGE_OPTIONS).then(async () => {
  gc();
  const before = process.memoryUsage().heapUsed;
  await writeStagedBatch(records, sampling, Date.now(), STAGE_OPTIONS);
  process.stdout.write(JSON.stringify({ count, batchBytes, peakHeapGrowthBytes: peak - before }));
});
