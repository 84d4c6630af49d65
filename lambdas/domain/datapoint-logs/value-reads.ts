import { UnprocessableEntityError } from '../../shared/http';
import { visibleLevels } from './logging-rules';
import type { ValueLog } from './ports';
import type { StoredValue, TimeRange } from './records';
import type { SelectedDatapoint } from './select';
import { isStructured } from './storable';

/**
 * Reading logged values across datapoints with bounded work: a k-way merge of one query stream per
 * datapoint, in reply order (UTC, then value id), that reads only what the caller takes.
 *
 * - Each stream's first query asks for about its share of what the caller wants (at least 2 values),
 *   each further query for twice as many (up to {@link MAX_QUERY_LIMIT}): a page over 1,000 datapoints
 *   reads a few values of each, a page over one datapoint about the page itself.
 * - At most {@link MAX_CONCURRENT_QUERIES} queries are in flight: the first query of every stream is
 *   made through a pool of that size; later ones one at a time, as the merge needs them.
 * - What the streams hold is counted: more than {@link MAX_BUFFERED_BYTES} (values so large that one
 *   or two per datapoint exceed it) is a 422 asking to narrow the address, never an out-of-memory.
 *
 * Values past the retention of every level they carry under the current configuration, values logged
 * after the snapshot, and values the caller's conditions refuse are dropped in the streams; the key
 * range of each datapoint starts no earlier than its longest retention allows (older values can be
 * in the table until TTL deletes them, never in a reply).
 */

export const MAX_CONCURRENT_QUERIES = 16;
export const MAX_QUERY_LIMIT = 1000;
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

const DAY_MS = 24 * 3600 * 1000;

/** A value found for a reply, with the levels whose retention still keeps it. */
export interface Found {
  selected: SelectedDatapoint;
  value: StoredValue;
  levels: Array<1 | 2 | 3>;
}

/** A place in reply order: values strictly after it come next. */
export interface Cursor {
  at: number;
  id: number;
}

/** Reply order: UTC, then value id (the datapoint's number, then logging order within a datapoint). */
export const compareValues = (a: Pick<StoredValue, 'at' | 'id'>, b: Pick<StoredValue, 'at' | 'id'>) => a.at - b.at || a.id - b.id;

export const isAfter = (value: Pick<StoredValue, 'at' | 'id'>, cursor: Cursor | undefined) => cursor === undefined || compareValues(value, cursor) > 0;

/**
 * The key range of a datapoint's values that can be visible at `now`: within `range`, and after the
 * oldest time its longest retention keeps (`at + retention > now`); undefined when nothing can be
 * (no active level, or an empty range: DynamoDB refuses a BETWEEN whose bounds are inverted).
 */
export function visibleRange(selected: SelectedDatapoint, range: TimeRange, now: number, cursor?: Cursor): TimeRange | undefined {
  const longest = Math.max(...selected.datapoint.config.levels.map((l) => l.retention));
  if (!(longest > 0)) return undefined;
  const from = Math.max(range.from ?? Number.NEGATIVE_INFINITY, now - Math.round(longest * DAY_MS) + 1, cursor?.at ?? Number.NEGATIVE_INFINITY);
  const out: TimeRange = Number.isFinite(from) ? { from } : {};
  if (range.to !== undefined) out.to = range.to;
  return out.from !== undefined && out.to !== undefined && out.from > out.to ? undefined : out;
}

/** What a read keeps: values visible at `now`, logged by `snapshot`, after `cursor`, that `accept` takes. */
export interface ReadFilter {
  now: number;
  snapshot: number;
  cursor?: Cursor;
  accept(found: Found): boolean;
}

/** Rough bytes a value holds in memory (its text dominates); used only to bound what streams keep. */
function heldBytes(value: StoredValue): number {
  if (typeof value.value === 'string') return 200 + 2 * value.value.length;
  return isStructured(value.value) ? 200 + 2 * JSON.stringify(value.value).length : 200;
}

/** Runs `task` over `items` with at most `limit` at once. */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

interface Stream {
  selected: SelectedDatapoint;
  range: TimeRange;
  buffer: Found[];
  index: number;
  after?: string;
  done: boolean;
  limit: number;
  bytes: number;
}

/** A min-heap of streams by their head value. */
class StreamHeap {
  private readonly items: Stream[] = [];

  get size() {
    return this.items.length;
  }

  push(stream: Stream): void {
    const items = this.items;
    items.push(stream);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (less(items[parent]!, items[i]!)) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  pop(): Stream | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let least = i;
        if (l < items.length && less(items[l]!, items[least]!)) least = l;
        if (r < items.length && less(items[r]!, items[least]!)) least = r;
        if (least === i) break;
        [items[least], items[i]] = [items[i]!, items[least]!];
        i = least;
      }
    }
    return top;
  }
}

const head = (stream: Stream) => stream.buffer[stream.index]!;
const less = (a: Stream, b: Stream) => compareValues(head(a).value, head(b).value) < 0;

/**
 * The values of `selected` in reply order, as the caller takes them (stop early: nothing more is
 * read). `want` is how many the caller expects to take at most: it sizes the first queries.
 */
export async function* mergeValues(
  store: Pick<ValueLog, 'valuePage'>, oemId: string, selected: readonly SelectedDatapoint[], range: TimeRange, filter: ReadFilter, want: number,
): AsyncGenerator<Found> {
  const streams: Stream[] = [];
  for (const entry of selected) {
    const visible = visibleRange(entry, range, filter.now, filter.cursor);
    if (visible) streams.push({ selected: entry, range: visible, buffer: [], index: 0, done: false, limit: 0, bytes: 0 });
  }
  if (streams.length === 0) return;
  const firstLimit = Math.min(MAX_QUERY_LIMIT, Math.max(2, Math.ceil(want / streams.length) + 1));
  for (const stream of streams) stream.limit = firstLimit;
  let held = 0;

  /** Reads until the stream has a head or is done. */
  const fill = async (stream: Stream) => {
    while (stream.index >= stream.buffer.length && !stream.done) {
      held -= stream.bytes;
      stream.buffer = [];
      stream.index = 0;
      stream.bytes = 0;
      const page = await store.valuePage(oemId, stream.selected.datapoint, stream.range, stream.limit, stream.after);
      stream.limit = Math.min(MAX_QUERY_LIMIT, stream.limit * 2);
      stream.after = page.next;
      stream.done = page.next === undefined;
      for (const value of page.values) {
        if (!isAfter(value, filter.cursor)) continue;
        if (value.loggedAt !== undefined && value.loggedAt > filter.snapshot) continue; // logged after the snapshot
        const levels = visibleLevels(value, stream.selected.datapoint.config, filter.now);
        if (levels.length === 0) continue; // past the retention of every level it was logged for
        const found = { selected: stream.selected, value, levels };
        if (!filter.accept(found)) continue;
        stream.buffer.push(found);
        stream.bytes += heldBytes(value);
      }
      held += stream.bytes;
      if (held > MAX_BUFFERED_BYTES) {
        throw new UnprocessableEntityError(
          `the values of the ${streams.length} datapoints this address selects are too large to merge in one reply: narrow the address (a device, a name) or the time range`,
          'SelectionTooLarge',
        );
      }
    }
  };

  await pool(streams, MAX_CONCURRENT_QUERIES, fill);
  const heap = new StreamHeap();
  for (const stream of streams) if (stream.index < stream.buffer.length) heap.push(stream);
  for (;;) {
    const stream = heap.pop();
    if (!stream) return;
    const found = head(stream);
    stream.index++;
    yield found;
    await fill(stream);
    if (stream.index < stream.buffer.length) heap.push(stream);
    else {
      held -= stream.bytes;
      stream.bytes = 0;
    }
  }
}

/** Every matching value of each datapoint, a page at a time, at most {@link MAX_CONCURRENT_QUERIES} datapoints at once (no order across them). */
export async function forEachValuePage(
  store: Pick<ValueLog, 'valuePage'>, oemId: string, selected: readonly SelectedDatapoint[], range: TimeRange, filter: ReadFilter,
  onPage: (found: Found[]) => Promise<void>,
): Promise<void> {
  await pool(selected, MAX_CONCURRENT_QUERIES, async (entry) => {
    const visible = visibleRange(entry, range, filter.now);
    if (!visible) return;
    let after: string | undefined;
    do {
      const page = await store.valuePage(oemId, entry.datapoint, visible, MAX_QUERY_LIMIT, after);
      const found: Found[] = [];
      for (const value of page.values) {
        if (value.loggedAt !== undefined && value.loggedAt > filter.snapshot) continue;
        const levels = visibleLevels(value, entry.datapoint.config, filter.now);
        if (levels.length === 0) continue;
        const candidate = { selected: entry, value, levels };
        if (filter.accept(candidate)) found.push(candidate);
      }
      if (found.length > 0) await onPage(found);
      after = page.next;
    } while (after !== undefined);
  });
}
