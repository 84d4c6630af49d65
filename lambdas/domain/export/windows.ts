/**
 * Export windows: [start, end) intervals of a fixed length aligned to the Unix epoch. Stage 1 files a
 * batch under the window of its write time; stage 2 compacts each closed window.
 */

export const MINUTE_MS = 60_000;

export interface Window {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

/** Window lengths are whole minutes (the window key has minute resolution), 1 to 60 of them. */
export function checkWindowMs(windowMs: number): number {
  if (!Number.isInteger(windowMs) || windowMs % MINUTE_MS !== 0 || windowMs < MINUTE_MS || windowMs > 60 * MINUTE_MS) {
    throw new RangeError(`an export window is 1 to 60 whole minutes, got ${windowMs} ms`);
  }
  return windowMs;
}

/** The window holding the instant `ms`. */
export function windowOf(ms: number, windowMs: number): Window {
  const start = Math.floor(ms / windowMs) * windowMs;
  return { start, end: start + windowMs };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `YYYYMMDDTHHMMZ` of a window's start: keys under `_staging/` and `_compaction/` sort by time. */
export function windowKey(startMs: number): string {
  const d = new Date(startMs);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
}

const WINDOW_KEY = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/;

/** The start (epoch ms) a window key names, or undefined for text that is not one. */
export function parseWindowKey(key: string): number | undefined {
  const m = WINDOW_KEY.exec(key);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return windowKey(ms) === key ? ms : undefined;
}

/** `YYYY-MM-DD-HH:MM:SS` in UTC, the folder name format of the export. */
export function folderTimestamp(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}-${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/** `YYYYMMDDTHHMMSSZ` in UTC, the timestamp in export file names. */
export function compactTimestamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
}

/** `YYYY/MM/DD` in UTC, the day folders of the error files. */
export function dayPath(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replace(/-/g, '/');
}
