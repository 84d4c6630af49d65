import { DEFAULT_CONFIG } from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import { pageOf, replyEntry } from '../../../../../lambdas/domain/datapoint-logs/reply';
import type { DatapointRecord, DeviceRecord } from '../../../../../lambdas/domain/datapoint-logs/records';
import { parsePaging } from '../../../../../lambdas/domain/iap/address';
import { BadRequestError } from '../../../../../lambdas/shared/http';

const NOW = Date.parse('2026-03-01T12:00:00Z');

/** Items that appeared one second apart, the last one at NOW. */
const items = Array.from({ length: 7 }, (_, i) => ({ n: i, at: NOW - (6 - i) * 1000 }));
const page = (query: Record<string, string>, list = items, now = NOW) => pageOf(list, parsePaging(query)!, now, (x) => x.at, (x) => x.n);

describe('pageOf', () => {
  it('cuts pages of sz items and counts the pages left', () => {
    expect(page({ pg: '0', sz: '3' })).toEqual({ snapshot: NOW, resources: [0, 1, 2], remainingPages: 2 });
    expect(page({ pg: '1', sz: '3' })).toEqual({ snapshot: NOW, resources: [3, 4, 5], remainingPages: 1 });
    expect(page({ pg: '2', sz: '3' })).toEqual({ snapshot: NOW, resources: [6], remainingPages: 0 });
  });

  it('answers a page past the end with no resources and no pages left', () => {
    expect(page({ pg: '3', sz: '3' })).toEqual({ snapshot: NOW, resources: [], remainingPages: 0 });
    expect(page({ pg: '0', sz: '3' }, [])).toEqual({ snapshot: NOW, resources: [], remainingPages: 0 });
  });

  it('uses 50 items a page when sz is not given', () => {
    const many = Array.from({ length: 120 }, (_, i) => ({ n: i, at: 0 }));
    const first = page({ pg: '0' }, many);
    expect(first.resources).toHaveLength(50);
    expect(first.remainingPages).toBe(2);
    expect(page({ pg: '2' }, many).resources).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
  });

  it('an exact multiple of sz leaves no empty last page', () => {
    expect(page({ pg: '0', sz: '7' })).toMatchObject({ resources: [0, 1, 2, 3, 4, 5, 6], remainingPages: 0 });
    expect(page({ pg: '0', sz: '1' }).remainingPages).toBe(6);
  });

  it('takes the snapshot from xs and leaves out items that appeared after it', () => {
    const snapshot = NOW - 3000;
    const later = NOW + 60_000;
    expect(page({ pg: '0', sz: '3', xs: String(snapshot) }, items, later)).toEqual({ snapshot, resources: [0, 1, 2], remainingPages: 1 });
    expect(page({ pg: '1', sz: '3', xs: String(snapshot) }, items, later)).toEqual({ snapshot, resources: [3], remainingPages: 0 });
  });

  it('keeps the pages of a snapshot stable while items are added', () => {
    const first = page({ pg: '0', sz: '3' });
    const grown = [...items, { n: 7, at: NOW + 1 }, { n: 8, at: NOW + 2 }];
    const second = page({ pg: '1', sz: '3', xs: String(first.snapshot) }, grown, NOW + 10_000);
    const third = page({ pg: '2', sz: '3', xs: String(first.snapshot) }, grown, NOW + 10_000);
    expect([...first.resources, ...second.resources, ...third.resources]).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(third.remainingPages).toBe(0);
  });

  it('counts an item that appeared exactly at the snapshot in', () => {
    expect(page({ pg: '0', sz: '10', xs: String(NOW) }).resources).toHaveLength(7);
  });

  it.each([['abc'], ['12a'], ['-5'], ['1234567890123456'], ['1.5']])('refuses xs=%j with 400 BadQuery', (xs) => {
    let error: unknown;
    try {
      page({ pg: '0', xs });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: 'BadQuery' });
    expect((error as Error).message).toMatch(/xs/);
  });
});

describe('replyEntry', () => {
  const datapoint: DatapointRecord = {
    dsn: '00D07111EAC0', block: 'device', blockIndex: 0, name: 'nviPT', id: 352, registeredAt: 0, config: DEFAULT_CONFIG,
  };
  const device: DeviceRecord = { dsn: '00D07111EAC0', state: 'provisioned', health: 'normal', timeZone: 'Europe/Kirov' };

  it('starts with the seed\'s fields, in the seed\'s order and formats', () => {
    const entry = replyEntry(datapoint, device, Date.parse('2019-01-11T23:27:46.045Z'));
    expect(entry).toEqual({
      id: 352,
      local: '2019-01-12 02:27:46.045 Europe/Kirov',
      utc: '2019-01-11 23:27:46.045 UTC',
      deviceId: '00D07111EAC0',
      deviceName: '00D07111EAC0',
      blockName: 'device',
      blockIndex: '0',
      datapointName: 'nviPT',
      deviceState: 'provisioned',
      deviceHealth: 'normal',
    });
    expect(Object.keys(entry)).toEqual(['id', 'local', 'utc', 'deviceId', 'deviceName', 'blockName', 'blockIndex', 'datapointName', 'deviceState', 'deviceHealth']);
  });

  it('shows local as UTC when the device has no time zone, and the block index as a string', () => {
    const entry = replyEntry({ ...datapoint, blockIndex: 12 }, { dsn: '00D07111EAC0', state: 'unprovisioned', health: 'down' }, Date.parse('2019-01-11T23:27:46.045Z'));
    expect(entry).toMatchObject({ local: '2019-01-11 23:27:46.045 UTC', blockIndex: '12', deviceState: 'unprovisioned', deviceHealth: 'down' });
  });
});
