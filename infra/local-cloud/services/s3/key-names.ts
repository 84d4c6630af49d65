import { readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * Local S3's key ↔ file-name encoding. Keys are literal strings. Each segment of a key (between slashes) is
 * percent-encoded into one file name: folders are `<segment>%2F`, the object itself `<last segment>` (empty: `%`,
 * a final dot as `%2E`), so no key can name another key's file, `..`, `.` or a path outside its bucket.
 */

export const MAX_NAME_BYTES = 255;

/** A key segment percent-encoded: only a-z 0-9 - . _ ~ stay (upper case too is encoded, for case-insensitive disks). */
function encodeSegment(segment: string): string {
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[a-z0-9._~-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The file name of a key's last segment: never empty, `.` or `..`, never ending in a dot. */
export function objectFileName(segment: string): string {
  if (segment === '') return '%';
  const encoded = encodeSegment(segment);
  return encoded.endsWith('.') ? `${encoded.slice(0, -1)}%2E` : encoded;
}

/** The folder name of a segment before a `/`: the encoding of `<segment>/`. */
export function folderName(segment: string): string {
  return `${encodeSegment(segment)}%2F`;
}

/** The file names of a key, from the bucket's folder down. */
export function keyFileNames(key: string): string[] {
  const segments = key.split('/');
  const last = segments.pop()!;
  return [...segments.map(folderName), objectFileName(last)];
}

export function decodeObjectName(name: string): string | undefined {
  const segment = name === '%' ? '' : decodePercent(name);
  return segment !== undefined && objectFileName(segment) === name ? segment : undefined;
}

export function decodeFolderName(name: string): string | undefined {
  if (!name.endsWith('%2F')) return undefined;
  const segment = decodePercent(name.slice(0, -3));
  return segment !== undefined && folderName(segment) === name ? segment : undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decodePercent(name: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === '%') {
      const hex = name.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(name.charCodeAt(i));
    }
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/** Keys stored under `bucketDir` under `prefix` after `startAfter`, in S3's order (UTF-8 bytes), read folder by folder. */
export async function* walkKeys(bucketDir: string, prefix: string, startAfter: string): AsyncGenerator<string> {
  const after = Buffer.from(startAfter);
  const walk = async function* (dir: string, keyPrefix: string): AsyncGenerator<string> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const items: Array<{ key: string; order: Buffer; folder: boolean; name: string }> = [];
    for (const entry of entries) {
      const folder = entry.isDirectory();
      const segment = folder ? decodeFolderName(entry.name) : entry.isFile() ? decodeObjectName(entry.name) : undefined;
      if (segment === undefined) continue; // not a name this store writes
      const key = keyPrefix + segment + (folder ? '/' : '');
      items.push({ key, order: Buffer.from(key), folder, name: entry.name });
    }
    // A folder `s/` sorts where its keys do: every key under it starts with `s/`.
    items.sort((a, b) => Buffer.compare(a.order, b.order));
    for (const item of items) {
      if (item.folder) {
        const below = item.key.startsWith(prefix) || prefix.startsWith(item.key);
        const beforeStart = Buffer.compare(item.order, after) < 0 && !startAfter.startsWith(item.key);
        if (below && !beforeStart) yield* walk(path.join(dir, item.name), item.key);
      } else if (item.key.startsWith(prefix) && Buffer.compare(item.order, after) > 0) {
        yield item.key;
      }
    }
  };
  yield* walk(bucketDir, '');
}
