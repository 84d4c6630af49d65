import { visibleLevels } from '../datapoint-logs/logging-rules';
import type { DatapointLogStores, DatapointRegistry, ValueLog } from '../datapoint-logs/ports';
import type { DatapointRef, StoredValue, TimeRange } from '../datapoint-logs/records';
import { selectDatapoints, type SelectedDatapoint } from '../datapoint-logs/select';
import { MAX_CONCURRENT_QUERIES, MAX_QUERY_LIMIT, pool, visibleRange, type Found } from '../datapoint-logs/value-reads';
import { parseAddress } from '../iap/address';
import type { JobCursor, JobRecord } from './jobs';
import type { ChunkProgress } from './ports';
import { valueSelection } from './value-selection';

/**
 * One chunk of a job: as much work as the time budget and the chunk limits allow, from the job's
 * cursor, in a fixed order of datapoints (device, block, index, name). The work is idempotent: a
 * configuration change sets the same fields again; a value deleted twice is deleted once (a chunk
 * done again counts only the values it still found).
 */

export interface Budget {
  /** Milliseconds left to the invocation (`context.getRemainingTimeInMillis()`). */
  remainingMs(): number;
}

export interface ChunkLimits {
  /** Datapoints a configuration chunk changes at most. */
  maxDatapoints: number;
  /** Values a delete chunk deletes at most. */
  maxValues: number;
  /** A chunk starts no more work once fewer milliseconds than this are left. */
  reserveMs: number;
}

/** Chunks small enough that progress shows every few seconds, and that the budget, not the limit, ends a slow one. */
export const CHUNK_LIMITS: ChunkLimits = { maxDatapoints: 2_000, maxValues: 20_000, reserveMs: 15_000 };

/** Configuration updates in flight at once. */
export const UPDATES_IN_FLIGHT = 16;
/** Values per delete request (DynamoDB's BatchWriteItem limit) and such requests in flight at once. */
export const DELETE_BATCH = 25;
export const DELETES_IN_FLIGHT = 8;

/** The order jobs walk datapoints in; a cursor is a place in it. */
export function compareRefs(a: DatapointRef, b: DatapointRef): number {
  const text = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return text(a.dsn, b.dsn) || text(a.block, b.block) || a.blockIndex - b.blockIndex || text(a.name, b.name);
}

const refOf = ({ dsn, block, blockIndex, name }: DatapointRef): DatapointRef => ({ dsn, block, blockIndex, name });

/** The index of the first datapoint after the cursor (or of the cursor's own datapoint when it is unfinished). */
function startIndex(sorted: readonly SelectedDatapoint[], cursor: JobCursor | undefined): number {
  if (!cursor) return 0;
  const index = sorted.findIndex((s) => {
    const order = compareRefs(s.datapoint, cursor.ref);
    return cursor.within ? order >= 0 : order > 0;
  });
  return index < 0 ? sorted.length : index;
}

async function selectedInOrder(registry: DatapointRegistry, job: JobRecord): Promise<SelectedDatapoint[]> {
  const selected = await selectDatapoints(registry, job.oemId, parseAddress(job.spec.address));
  return selected.sort((a, b) => compareRefs(a.datapoint, b.datapoint));
}

const hasTime = (budget: Budget, limits: ChunkLimits) => budget.remainingMs() > limits.reserveMs;

/** A configuration job's chunk: the next datapoints from the cursor, {@link UPDATES_IN_FLIGHT} at a time. */
export async function runConfigChunk(
  registry: DatapointRegistry, job: JobRecord, budget: Budget, now: number, limits: ChunkLimits = CHUNK_LIMITS,
): Promise<ChunkProgress> {
  if (job.spec.kind !== 'config-update') throw new Error(`job ${job.id} is not a configuration update`);
  const { patch } = job.spec;
  const sorted = await selectedInOrder(registry, job);
  let index = startIndex(sorted, job.cursor);
  let done = 0;
  while (index < sorted.length && done < limits.maxDatapoints && hasTime(budget, limits)) {
    const batch = sorted.slice(index, index + Math.min(UPDATES_IN_FLIGHT, limits.maxDatapoints - done));
    await Promise.all(batch.map(({ datapoint }) => registry.updateConfig(job.oemId, datapoint, patch, now)));
    index += batch.length;
    done += batch.length;
  }
  const finished = index >= sorted.length;
  const last = sorted[index - 1];
  return {
    done,
    datapointsDone: done,
    datapoints: sorted.length,
    ...(finished ? {} : last ? { cursor: { ref: refOf(last.datapoint) } } : job.cursor ? { cursor: job.cursor } : {}),
    errors: [],
    state: finished ? 'succeeded' : 'running',
  };
}

/** Deletes `found` in requests of {@link DELETE_BATCH}, {@link DELETES_IN_FLIGHT} at once. */
export async function deleteFound(values: ValueLog, oemId: string, found: readonly Found[]): Promise<void> {
  const batches: Array<Array<{ ref: DatapointRef; value: StoredValue }>> = [];
  for (let i = 0; i < found.length; i += DELETE_BATCH) {
    batches.push(found.slice(i, i + DELETE_BATCH).map((f) => ({ ref: f.selected.datapoint, value: f.value })));
  }
  await pool(batches, DELETES_IN_FLIGHT, (batch) => values.deleteValues(oemId, batch));
}

/** What a page of a datapoint's values holds that the job deletes: visible now, logged by the job's start, accepted. */
function toDelete(entry: SelectedDatapoint, values: readonly StoredValue[], snapshot: number, now: number, accept: (f: Found) => boolean): Found[] {
  const found: Found[] = [];
  for (const value of values) {
    if (value.loggedAt !== undefined && value.loggedAt > snapshot) continue; // logged after the job started
    const levels = visibleLevels(value, entry.datapoint.config, now);
    if (levels.length === 0) continue;
    const candidate = { selected: entry, value, levels };
    if (accept(candidate)) found.push(candidate);
  }
  return found;
}

/**
 * A value delete job's chunk: from the cursor (a datapoint, and within it a value key), a page of
 * values at a time, each page's values deleted before the next is read.
 */
export async function runValueDeleteChunk(
  stores: DatapointLogStores, job: JobRecord, budget: Budget, now: number, limits: ChunkLimits = CHUNK_LIMITS,
): Promise<ChunkProgress> {
  if (job.spec.kind !== 'value-delete') throw new Error(`job ${job.id} is not a value delete`);
  const address = parseAddress(job.spec.address);
  const { candidates, range, accept } = valueSelection(address, await selectDatapoints(stores.registry, job.oemId, address));
  const sorted = candidates.sort((a, b) => compareRefs(a.datapoint, b.datapoint));
  const cursor = job.cursor;
  let index = startIndex(sorted, cursor);
  let deleted = 0;
  let datapointsDone = 0;
  const pause = (entry: SelectedDatapoint, after: string | undefined): ChunkProgress => ({
    done: deleted,
    datapointsDone,
    datapoints: sorted.length,
    cursor: { ref: refOf(entry.datapoint), within: true, ...(after !== undefined ? { after } : {}) },
    errors: [],
    state: 'running',
  });
  for (; index < sorted.length; index++) {
    const entry = sorted[index]!;
    const resumes = cursor?.within === true && compareRefs(entry.datapoint, cursor.ref) === 0;
    let after = resumes ? cursor.after : undefined;
    const visible: TimeRange | undefined = visibleRange(entry, range, now);
    if (visible) {
      do {
        if (deleted >= limits.maxValues || !hasTime(budget, limits)) return pause(entry, after);
        const page = await stores.values.valuePage(job.oemId, entry.datapoint, visible, MAX_QUERY_LIMIT, after);
        const found = toDelete(entry, page.values, job.createdAt, now, accept);
        if (found.length > 0) await deleteFound(stores.values, job.oemId, found);
        deleted += found.length;
        after = page.next;
      } while (after !== undefined);
    }
    datapointsDone++;
  }
  return { done: deleted, datapointsDone, datapoints: sorted.length, errors: [], state: 'succeeded' };
}

/**
 * The values a synchronous DELETE would delete, if there are at most `bound` of them over at most
 * `maxDatapoints` datapoints: else undefined (the request becomes a job). Reads stop as soon as the
 * bound is passed.
 */
export async function valuesWithin(
  values: Pick<ValueLog, 'valuePage'>, oemId: string, candidates: readonly SelectedDatapoint[], range: TimeRange,
  accept: (f: Found) => boolean, now: number, bound: number,
): Promise<Found[] | undefined> {
  const all: Found[] = [];
  let over = false;
  await pool(candidates, MAX_CONCURRENT_QUERIES, async (entry) => {
    const visible = visibleRange(entry, range, now);
    let after: string | undefined;
    while (visible && !over) {
      const page = await values.valuePage(oemId, entry.datapoint, visible, Math.min(MAX_QUERY_LIMIT, bound + 1), after);
      all.push(...toDelete(entry, page.values, now, now, accept));
      if (all.length > bound) over = true;
      after = page.next;
      if (after === undefined) break;
    }
  });
  return over ? undefined : all;
}

