import fc from 'fast-check';
import { valueSortKey } from '../../../../../lambdas/domain/datapoint-logs/keys';
import { DEFAULT_CONFIG, type LogConfig } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import type { ValuePage } from '../../../../../lambdas/domain/datapoint-logs/ports';
import { valueId, type DatapointRecord, type DatapointRef, type StoredValue, type TimeRange } from '../../../../../lambdas/domain/datapoint-logs/records';
import type { SelectedDatapoint } from '../../../../../lambdas/domain/datapoint-logs/select';
import {
  compareValues, forEachValuePage, MAX_BUFFERED_BYTES, MAX_CONCURRENT_QUERIES, mergeValues, visibleRange, type Found, type ReadFilter,
} from '../../../../../lambdas/domain/datapoint-logs/value-reads';
import { UnprocessableEntityError } from '../../../../../lambdas/shared/http';

/** The k-way merge of value reads over an in-memory store that answers queries as DynamoDB pages them. */

const NOW = Date.parse('2026-03-01T12:00:00Z');
const DAY = 24 * 3600 * 1000;
const KEEP: LogConfig = { ...DEFAULT_CONFIG, levels: [{ interval: 0, retention: 1, logMultiple: null }, DEFAULT_CONFIG.levels[1], DEFAULT_CONFIG.levels[2]] };

function selected(id: number, config = KEEP): SelectedDatapoint {
  const datapoint: DatapointRecord = { dsn: 'D', block: 'device', blockIndex: 0, name: `n${id}`, id, registeredAt: 0, config };
  return { datapoint, device: { dsn: 'D', state: 'provisioned', health: 'normal' } };
}

const value = (datapointId: number, sequence: number, at: number, extra: Partial<StoredValue> = {}): StoredValue => ({
  id: valueId(datapointId, sequence), sequence, at, value: sequence, levels: [1], deviceState: 'provisioned', deviceHealth: 'normal', expiresAt: 0, loggedAt: at, ...extra,
});

function store(values: Map<number, StoredValue[]>) {
  const stats = { queries: 0, inFlight: 0, maxInFlight: 0, read: 0 };
  return {
    stats,
    async valuePage(_oemId: string, ref: DatapointRef, range: TimeRange, limit: number, after?: string): Promise<ValuePage> {
      stats.queries++;
      stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
      await new Promise((r) => setImmediate(r));
      stats.inFlight--;
      const id = Number(ref.name.slice(1));
      const inRange = (values.get(id) ?? []).filter((v) => v.at >= (range.from ?? 0) && v.at <= (range.to ?? Infinity) && (after === undefined || valueSortKey(v.at, v.sequence) > after));
      const page = inRange.slice(0, limit);
      stats.read += page.length;
      return inRange.length > limit ? { values: page, next: valueSortKey(page.at(-1)!.at, page.at(-1)!.sequence) } : { values: page };
    },
  };
}

const filter = (over: Partial<ReadFilter> = {}): ReadFilter => ({ now: NOW, snapshot: NOW, accept: () => true, ...over });

async function take(source: AsyncGenerator<Found>, n = Infinity): Promise<StoredValue[]> {
  const out: StoredValue[] = [];
  for await (const found of source) {
    out.push(found.value);
    if (out.length >= n) break;
  }
  return out;
}

describe('mergeValues', () => {
  it('gives every visible value of every datapoint in reply order (UTC, then value id), whatever the data', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 40 }), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 60 }),
      async (steps, want) => {
        const values = new Map(steps.map((deltas, i) => {
          let at = NOW - 3_600_000;
          return [i + 1, deltas.map((d, k) => value(i + 1, k + 1, (at += d)))];
        }));
        const all = [...values.values()].flat().sort(compareValues);
        const s = store(values);
        const merged = await take(mergeValues(s, 'oem', steps.map((_, i) => selected(i + 1)), {}, filter(), want), want);
        expect(merged.map((v) => v.id)).toEqual(all.slice(0, want).map((v) => v.id));
        expect(s.stats.maxInFlight).toBeLessThanOrEqual(MAX_CONCURRENT_QUERIES);
      },
    ), { numRuns: 60 });
  });

  it('starts strictly after a cursor, ties at its time included by value id', async () => {
    const at = NOW - 1000;
    const values = new Map([[1, [value(1, 1, at), value(1, 2, at), value(1, 3, at + 1)]], [2, [value(2, 1, at - 1), value(2, 2, at)]], [3, [value(3, 1, at)]]]);
    const cursor = { at, id: valueId(2, 2) };
    const merged = await take(mergeValues(store(values), 'oem', [selected(1), selected(2), selected(3)], {}, filter({ cursor }), 10));
    expect(merged.map((v) => v.id)).toEqual([valueId(3, 1), valueId(1, 3)]);
  });

  it('leaves out values logged after the snapshot, past every retention, or refused by the filter', async () => {
    const values = new Map([[1, [value(1, 1, NOW - 2 * DAY), value(1, 2, NOW - 1000), value(1, 3, NOW - 900, { loggedAt: NOW + 1 }), value(1, 4, NOW - 800), value(1, 5, NOW - 700)]]]);
    const merged = await take(mergeValues(store(values), 'oem', [selected(1)], {}, filter({ accept: (f) => f.value.sequence !== 4 }), 10));
    expect(merged.map((v) => v.sequence)).toEqual([2, 5]);
  });

  it('reads a few values of each datapoint for a small page over many, not a page of each', async () => {
    const values = new Map(Array.from({ length: 500 }, (_, i) => [i + 1, Array.from({ length: 100 }, (_, k) => value(i + 1, k + 1, NOW - 100_000 + k * 500 + i))]));
    const s = store(values);
    await take(mergeValues(s, 'oem', [...values.keys()].map((id) => selected(id)), {}, filter(), 51), 51);
    expect(s.stats.read).toBeLessThanOrEqual(2 * 500 + 51);
    expect(s.stats.maxInFlight).toBeLessThanOrEqual(MAX_CONCURRENT_QUERIES);
  });

  it('refuses with 422 SelectionTooLarge when what the streams hold would pass its bound', async () => {
    const big = 'x'.repeat(1_000_000);
    const count = Math.ceil(MAX_BUFFERED_BYTES / 2_000_000) + 1;
    const values = new Map(Array.from({ length: count }, (_, i) => [i + 1, [value(i + 1, 1, NOW - 1000, { value: big }), value(i + 1, 2, NOW - 900, { value: big })]]));
    await expect(take(mergeValues(store(values), 'oem', [...values.keys()].map((id) => selected(id)), {}, filter(), 1), 1))
      .rejects.toMatchObject({ statusCode: 422, code: 'SelectionTooLarge' } satisfies Partial<UnprocessableEntityError>);
  });
});

describe('visibleRange', () => {
  it('starts where the longest retention keeps values, at the cursor, or at the range, whichever is latest', () => {
    const three: LogConfig = { ...KEEP, levels: [KEEP.levels[0], { interval: 0, retention: 3, logMultiple: null }, KEEP.levels[2]] };
    expect(visibleRange(selected(1, three), {}, NOW)).toEqual({ from: NOW - 3 * DAY + 1 });
    expect(visibleRange(selected(1), { from: NOW - 5, to: NOW }, NOW)).toEqual({ from: NOW - 5, to: NOW });
    expect(visibleRange(selected(1), {}, NOW, { at: NOW - 7, id: 1 })).toEqual({ from: NOW - 7 });
  });

  it('is nothing for a datapoint with no active level, or a range that ends before the oldest visible value', () => {
    expect(visibleRange(selected(1, DEFAULT_CONFIG), {}, NOW)).toBeUndefined();
    expect(visibleRange(selected(1), { to: NOW - 2 * DAY }, NOW)).toBeUndefined();
  });
});

describe('forEachValuePage', () => {
  it('hands over every visible value a page at a time, at most 16 datapoints at once', async () => {
    const values = new Map(Array.from({ length: 100 }, (_, i) => [i + 1, Array.from({ length: 1500 }, (_, k) => value(i + 1, k + 1, NOW - 3_000_000 + k))]));
    const s = store(values);
    let count = 0;
    let largest = 0;
    await forEachValuePage(s, 'oem', [...values.keys()].map((id) => selected(id)), {}, filter(), async (found) => {
      count += found.length;
      largest = Math.max(largest, found.length);
    });
    expect(count).toBe(150_000);
    expect(largest).toBeLessThanOrEqual(1000);
    expect(s.stats.maxInFlight).toBeLessThanOrEqual(MAX_CONCURRENT_QUERIES);
  });
});
