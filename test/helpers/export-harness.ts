import type { StreamRecord } from '../../lambdas/domain/event-stream';
import { runCompactionTask, type TaskOutcome } from '../../lambdas/domain/export/compaction';
import { planCompaction, type PlannedWindow } from '../../lambdas/domain/export/planner';
import { writeStagedBatch, type StageOutcome } from '../../lambdas/domain/export/stage-batch';
import { parseCsv } from './csv-parse';
import { MemoryCompactionQueue } from './memory-compaction-queue';
import { MemoryExportStore } from './memory-export-store';

/**
 * Both stages of the export over an in-memory bucket and queue, driven with explicit clocks: stage
 * batches at given times, plan at a given time, run the queued tasks (a failed task is redelivered).
 */

export interface HarnessOptions {
  windowMs: number;
  partitions: number;
  graceMs: number;
  fileSizeCapBytes: number;
}

export const DEFAULT_HARNESS_OPTIONS: HarnessOptions = { windowMs: 5 * 60_000, partitions: 4, graceMs: 15_000, fileSizeCapBytes: 64 * 1024 * 1024 };

export class ExportHarness {
  readonly store = new MemoryExportStore();
  readonly queue = new MemoryCompactionQueue();
  readonly options: HarnessOptions;
  readonly tasks: TaskOutcome[] = [];

  constructor(options: Partial<HarnessOptions> = {}) {
    this.options = { ...DEFAULT_HARNESS_OPTIONS, ...options };
  }

  stage(records: readonly StreamRecord[], atMs: number): Promise<StageOutcome> {
    return writeStagedBatch(records, this.store, atMs, { windowMs: this.options.windowMs, partitions: this.options.partitions });
  }

  /** Stages a batch as Lambda would: again (at the same time) while it reports a failure. */
  async stageUntilDone(records: readonly StreamRecord[], atMs: number, attempts = 50): Promise<void> {
    for (let i = 0; i < attempts; i++) if (!(await this.stage(records, atMs)).failure) return;
    throw new Error('a batch kept failing');
  }

  plan(atMs: number): Promise<PlannedWindow[]> {
    return planCompaction(this.store, this.queue, atMs, { windowMs: this.options.windowMs, graceMs: this.options.graceMs });
  }

  /** Plans as the schedule would: again while a run throws. */
  async planUntilDone(atMs: number, attempts = 50): Promise<void> {
    for (let i = 0; i < attempts; i++) {
      try {
        await this.plan(atMs);
        return;
      } catch {
        // The next scheduled run plans what this one did not.
      }
    }
    throw new Error('planning kept failing');
  }

  /** Runs the queued tasks until none is left; returns how many deliveries failed. */
  async compact(rounds = 1000): Promise<number> {
    return this.queue.drain(async (message) => {
      this.tasks.push(await runCompactionTask(message, this.store, { fileSizeCapBytes: this.options.fileSizeCapBytes }));
    }, rounds);
  }

  /** The export files, by key. */
  csvFiles(): Map<string, string> {
    return this.store.snapshot();
  }

  /** The data rows of every file of an OEM and type, file after file (key order), without headers. */
  rows(oemId: string, type: string): string[][] {
    return [...this.csvFiles()]
      .filter(([key]) => key.startsWith(`${oemId}/${type}/`))
      .flatMap(([, body]) => parseCsv(body).slice(1));
  }
}

let sequence = 49_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;

/** A stream record of `event` (JSON unless text), with the next sequence number of the test run. */
export function streamRecord(event: unknown, options: { shardId?: string; arrivalMs?: number; sequenceNumber?: string } = {}): StreamRecord {
  sequence += 1n;
  return {
    shardId: options.shardId ?? 'shardId-000000000000',
    sequenceNumber: options.sequenceNumber ?? sequence.toString(),
    partitionKey: 'dsn',
    data: Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)),
    arrivalMs: options.arrivalMs ?? Date.UTC(2026, 10, 22, 9, 30),
  };
}
