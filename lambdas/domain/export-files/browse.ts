import { EVENT_TYPES } from '../device-events';
import { ERROR_PREFIX } from '../export/layout';

/**
 * Browsing an OEM's export files (pure: the store is a port). What an OEM sees is its own prefix `<oem_id>/`:
 * the event type folders with their timestamped folders and files, and `_errors/` with its own rejects. Keys
 * are S3 keys; `prefix` in requests and answers is the path under the OEM (`''` or ending in `/`).
 */

/** One level of a listing with a delimiter: sub-prefixes (full keys, ending in `/`) and objects. */
export interface LevelListing {
  prefixes: string[];
  objects: StoredObject[];
  /** False when the level had more than the store was asked to list. */
  complete: boolean;
}

export interface StoredObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ExportFilesStore {
  /** Sub-prefixes and objects directly under `prefix` (delimiter `/`), in key order, at most `max` entries. */
  listLevel(prefix: string, max: number): Promise<LevelListing>;
}

export interface Folder {
  name: string;
  /** Path under the OEM, ending in `/`: the `prefix` to list it. */
  prefix: string;
}

export interface FileEntry {
  name: string;
  key: string;
  size: number;
  lastModified: string;
}

export interface FilesPage {
  prefix: string;
  folders: Folder[];
  files: FileEntry[];
  next?: string;
}

export class FilesInputError extends Error {}

/** Entries per answer. */
export const PAGE_SIZE = 200;
/** Entries one level is read to at most (the levels other than the timestamped folders are small). */
export const LEVEL_LIMIT = 5000;
/** Months the timestamped folders are searched back (the files expire after 365 days). */
export const MONTHS_BACK = 13;

const MAX_PREFIX_LENGTH = 512;
const ERRORS_FOLDER = ERROR_PREFIX.slice(0, -1);
/** The top folders an OEM has: one per event type, and its rejects. */
const TOP_FOLDERS = new Set<string>([...EVENT_TYPES, ERRORS_FOLDER]);

/** A path under the OEM: `''` or `/`-terminated segments, none empty, `.` or `..`, no control characters. */
export function parsePrefix(prefix: string): string[] {
  if (prefix === '') return [];
  if (prefix.length > MAX_PREFIX_LENGTH) throw new FilesInputError(`prefix is longer than ${MAX_PREFIX_LENGTH} characters`);
  if (!prefix.endsWith('/')) throw new FilesInputError("prefix must be '' or end with '/'");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(prefix)) throw new FilesInputError('prefix has control characters');
  const segments = prefix.slice(0, -1).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw new FilesInputError('prefix has an empty, . or .. segment');
  return segments;
}

/**
 * Whether `key` is an export file the OEM may read: under `<oem_id>/`, in an event type folder or its own
 * `_errors/`. Anything else (another OEM, the pipeline's own prefixes) is not.
 */
export function isOemFileKey(oemId: string, key: string): boolean {
  if (!key.startsWith(`${oemId}/`) || key.endsWith('/') || key.length > 1024) return false;
  try {
    const segments = parsePrefix(`${key.slice(oemId.length + 1)}/`);
    return segments.length >= 2 && TOP_FOLDERS.has(segments[0]!);
  } catch {
    return false;
  }
}

interface Cursor {
  /** Timestamped level: the month (`YYYY-MM`) to go on with, and the last folder name given. */
  month?: string;
  before?: string;
  /** Other levels: entries already given. */
  offset?: number;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string | undefined): Cursor {
  if (text === undefined || text === '') return {};
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    const { month, before, offset } = value as Record<string, unknown>;
    if (month !== undefined && (typeof month !== 'string' || !/^\d{4}-\d{2}$/.test(month))) throw new Error('month');
    if (before !== undefined && typeof before !== 'string') throw new Error('before');
    if (offset !== undefined && (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0)) throw new Error('offset');
    return value as Cursor;
  } catch {
    throw new FilesInputError('cursor is not one this API gave');
  }
}

const monthOf = (date: Date) => date.toISOString().slice(0, 7);
function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

const lastSegment = (prefix: string) => prefix.slice(0, -1).split('/').at(-1)!;

/** Newest first: timestamped names (`2026-12-02-10:05:00`, `2026`, `12`) sort down; names such as event types sort up. */
function compareFolders(a: string, b: string): number {
  const timed = /^\d/;
  if (timed.test(a) && timed.test(b)) return a < b ? 1 : a > b ? -1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
}

function toFile(object: StoredObject): FileEntry {
  return { name: object.key.slice(object.key.lastIndexOf('/') + 1), key: object.key, size: object.size, lastModified: object.lastModified.toISOString() };
}

/**
 * One page of the OEM's files under `prefix`. An event type folder holds one timestamped folder per export
 * window (tens of thousands in a year): those are read a month at a time from the current one back, newest
 * first, PAGE_SIZE at a time. Other levels are small and read whole (to LEVEL_LIMIT), folders first.
 */
export async function browse(store: ExportFilesStore, oemId: string, prefix: string, cursorText: string | undefined, now: Date): Promise<FilesPage> {
  const segments = parsePrefix(prefix);
  const cursor = decodeCursor(cursorText);
  const base = `${oemId}/${prefix}`;
  const folderOf = (full: string): Folder => ({ name: lastSegment(full), prefix: full.slice(oemId.length + 1) });

  if (segments.length > 0 && !TOP_FOLDERS.has(segments[0]!)) return { prefix, folders: [], files: [] };

  if (segments.length === 1 && segments[0] !== ERRORS_FOLDER) {
    // An event type: timestamped folders, a month at a time.
    const folders: string[] = [];
    let month = cursor.month ?? monthOf(now);
    const oldest = (() => {
      let m = monthOf(now);
      for (let i = 0; i < MONTHS_BACK; i++) m = previousMonth(m);
      return m;
    })();
    let before = cursor.before;
    while (month >= oldest) {
      const level = await store.listLevel(`${base}${month}`, Number.MAX_SAFE_INTEGER);
      const names = level.prefixes.filter((p) => before === undefined || lastSegment(p) < before).sort((a, b) => compareFolders(lastSegment(a), lastSegment(b)));
      for (const name of names) {
        folders.push(name);
        if (folders.length === PAGE_SIZE) {
          const last = lastSegment(name);
          const more = names.indexOf(name) < names.length - 1 || month > oldest;
          return { prefix, folders: folders.map(folderOf), files: [], ...(more ? { next: encodeCursor({ month, before: last }) } : {}) };
        }
      }
      month = previousMonth(month);
      before = undefined;
    }
    return { prefix, folders: folders.map(folderOf), files: [] };
  }

  const level = await store.listLevel(base, LEVEL_LIMIT);
  const folders = level.prefixes
    .filter((p) => segments.length > 0 || TOP_FOLDERS.has(lastSegment(p)))
    .sort((a, b) => compareFolders(lastSegment(a), lastSegment(b)))
    .map(folderOf);
  // Files directly under the OEM's root are not export files.
  const files = segments.length === 0 ? [] : level.objects
    .filter((o) => !o.key.endsWith('/'))
    .sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || (a.key < b.key ? -1 : 1))
    .map(toFile);
  const entries: Array<Folder | FileEntry> = [...folders, ...files];
  const offset = cursor.offset ?? 0;
  const page = entries.slice(offset, offset + PAGE_SIZE);
  const more = offset + PAGE_SIZE < entries.length;
  return {
    prefix,
    folders: page.filter((e): e is Folder => 'prefix' in e),
    files: page.filter((e): e is FileEntry => 'key' in e),
    ...(more ? { next: encodeCursor({ offset: offset + PAGE_SIZE }) } : {}),
  };
}
