import {
  browse, decodeCursor, encodeCursor, FilesInputError, isOemFileKey, PAGE_SIZE, parsePrefix, type ExportFilesStore, type LevelListing, type StoredObject,
} from '../../../../../lambdas/domain/export-files/browse';

/** A store over a key list, listing levels as S3 does with a delimiter (key order, common prefixes). */
class MemoryStore implements ExportFilesStore {
  readonly listed: string[] = [];
  constructor(private readonly objects: StoredObject[]) {}
  async listLevel(prefix: string, max: number): Promise<LevelListing> {
    this.listed.push(prefix);
    const prefixes = new Set<string>();
    const objects: StoredObject[] = [];
    for (const o of [...this.objects].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      if (!o.key.startsWith(prefix)) continue;
      const rest = o.key.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0) prefixes.add(prefix + rest.slice(0, slash + 1));
      else objects.push(o);
    }
    const all = [...prefixes];
    return { prefixes: all.slice(0, max), objects: objects.slice(0, Math.max(0, max - all.length)), complete: all.length + objects.length <= max };
  }
}

const at = (iso: string) => new Date(iso);
const obj = (key: string, lastModified = '2026-12-01T00:00:00Z', size = 10): StoredObject => ({ key, size, lastModified: at(lastModified) });
const NOW = at('2026-12-02T12:00:00Z');

describe('parsePrefix', () => {
  it.each(['', 'datapoint/', 'datapoint/2026-12-02-10:05:00/', '_errors/2026/12/'])('accepts %j', (p) => {
    expect(() => parsePrefix(p)).not.toThrow();
  });
  it.each(['datapoint', '/', '//', 'a//b/', '../', './', 'a/../', 'x\u0000/', `${'a'.repeat(600)}/`])('refuses %j', (p) => {
    expect(() => parsePrefix(p)).toThrow(FilesInputError);
  });
});

describe('isOemFileKey', () => {
  it.each([
    ['oem1/datapoint/2026-12-02-10:05:00/f.csv', true],
    ['oem1/_errors/2026/12/02/x.jsonl', true],
    ['oem2/datapoint/2026-12-02-10:05:00/f.csv', false],
    ['oem1x/datapoint/2026-12-02-10:05:00/f.csv', false],
    ['_staging/w/x.rows', false],
    ['oem1/_staging/x', false],
    ['oem1/datapoint/', false],
    ['oem1/f.csv', false],
    ['oem1/datapoint/../../oem2/datapoint/f.csv', false],
  ])('%s → %s', (key, expected) => {
    expect(isOemFileKey('oem1', key)).toBe(expected);
  });
});

describe('cursors', () => {
  it('round-trip, and a made-up one is a client error', () => {
    expect(decodeCursor(encodeCursor({ month: '2026-11', before: '2026-11-30-23:55:00' }))).toEqual({ month: '2026-11', before: '2026-11-30-23:55:00' });
    expect(decodeCursor(undefined)).toEqual({});
    for (const bad of ['%%%', Buffer.from('[1]').toString('base64url'), encodeCursor({ month: 'nope' } as never), Buffer.from('{"offset":-1}').toString('base64url')]) {
      expect(() => decodeCursor(bad)).toThrow(FilesInputError);
    }
  });
});

describe('browse', () => {
  it('shows the OEM root as its event type folders and _errors, alphabetical, and no stray files', async () => {
    const store = new MemoryStore([
      obj('oem1/location/2026-12-01-00:00:00/a.csv'), obj('oem1/datapoint/2026-12-01-00:00:00/a.csv'), obj('oem1/_errors/2026/12/01/x.jsonl'),
      obj('oem1/notes.txt'), obj('oem1/_staging/x'), obj('oem2/datapoint/2026-12-01-00:00:00/a.csv'),
    ]);
    expect(await browse(store, 'oem1', '', undefined, NOW)).toEqual({
      prefix: '',
      folders: [{ name: '_errors', prefix: '_errors/' }, { name: 'datapoint', prefix: 'datapoint/' }, { name: 'location', prefix: 'location/' }],
      files: [],
    });
  });

  it('answers an empty page for a top folder that is not an export folder, without reading the store', async () => {
    const store = new MemoryStore([obj('oem1/_staging/x/y')]);
    expect(await browse(store, 'oem1', '_staging/', undefined, NOW)).toEqual({ prefix: '_staging/', folders: [], files: [] });
    expect(store.listed).toEqual([]);
  });

  it('lists timestamped folders newest first across months, a page at a time, and reads no month older than retention', async () => {
    const keys: StoredObject[] = [];
    // 150 folders in November, 100 in December (5-minute windows), one in an old year.
    for (let i = 0; i < 150; i++) keys.push(obj(`oem1/datapoint/2026-11-${String(1 + Math.floor(i / 24)).padStart(2, '0')}-${String(i % 24).padStart(2, '0')}:00:00/f.csv`));
    for (let i = 0; i < 100; i++) keys.push(obj(`oem1/datapoint/2026-12-01-${String(Math.floor(i / 12)).padStart(2, '0')}:${String((i % 12) * 5).padStart(2, '0')}:00/f.csv`));
    keys.push(obj('oem1/datapoint/2024-01-01-00:00:00/f.csv'));
    const store = new MemoryStore(keys);
    const first = await browse(store, 'oem1', 'datapoint/', undefined, NOW);
    expect(first.folders).toHaveLength(PAGE_SIZE);
    expect(first.folders[0]!.name).toBe('2026-12-01-08:15:00');
    const names = first.folders.map((f) => f.name);
    expect(names).toEqual([...names].sort().reverse());
    expect(first.next).toBeDefined();
    const second = await browse(store, 'oem1', 'datapoint/', first.next, NOW);
    expect(second.folders).toHaveLength(50);
    expect(second.folders.at(-1)!.name).toBe('2026-11-01-00:00:00');
    expect(second.folders.every((f) => f.name < names.at(-1)!)).toBe(true);
    expect(second.next).toBeUndefined();
    expect(second.folders[0]!.prefix).toBe(`datapoint/${second.folders[0]!.name}/`);
    // Thirteen months back from December 2026, and not further.
    expect(store.listed.at(-1)).toBe('oem1/datapoint/2025-11');
  });

  it('lists numbered folders newest first and files newest first inside a folder', async () => {
    const store = new MemoryStore([
      obj('oem1/_errors/2026/11/30/a.jsonl'), obj('oem1/_errors/2026/12/01/b.jsonl'),
      obj('oem1/_errors/2026/12/02/old.jsonl', '2026-12-02T01:00:00Z', 3), obj('oem1/_errors/2026/12/02/new.jsonl', '2026-12-02T09:00:00Z', 4),
    ]);
    expect((await browse(store, 'oem1', '_errors/2026/', undefined, NOW)).folders.map((f) => f.name)).toEqual(['12', '11']);
    expect((await browse(store, 'oem1', '_errors/2026/12/', undefined, NOW)).folders.map((f) => f.name)).toEqual(['02', '01']);
    expect((await browse(store, 'oem1', '_errors/2026/12/02/', undefined, NOW)).files).toEqual([
      { name: 'new.jsonl', key: 'oem1/_errors/2026/12/02/new.jsonl', size: 4, lastModified: '2026-12-02T09:00:00.000Z' },
      { name: 'old.jsonl', key: 'oem1/_errors/2026/12/02/old.jsonl', size: 3, lastModified: '2026-12-02T01:00:00.000Z' },
    ]);
  });

  it('pages a large level by offset', async () => {
    const store = new MemoryStore(Array.from({ length: PAGE_SIZE + 5 }, (_, i) => obj(`oem1/_errors/2026/12/02/${String(i).padStart(4, '0')}.jsonl`, new Date(Date.UTC(2026, 11, 2, 0, 0, i)).toISOString())));
    const first = await browse(store, 'oem1', '_errors/2026/12/02/', undefined, NOW);
    expect(first.files).toHaveLength(PAGE_SIZE);
    const second = await browse(store, 'oem1', '_errors/2026/12/02/', first.next, NOW);
    expect(second.files.map((f) => f.name)).toEqual(['0004.jsonl', '0003.jsonl', '0002.jsonl', '0001.jsonl', '0000.jsonl']);
    expect(second.next).toBeUndefined();
  });
});
