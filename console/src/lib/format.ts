/** Display helpers. Pure: no DOM, unit-tested. */

/** `0 B`, `812 B`, `1.4 KB`, `12.0 MB` (1 KB = 1,024 bytes). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let n = bytes / 1024;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${n.toFixed(1)} ${units[unit]}`;
}

/** `2026-12-02 03:56:08 UTC` from an ISO time. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The parent of a folder prefix under the OEM (`a/b/` → `a/`, `a/` → ''). */
export function parentPrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/$/, '');
  const cut = trimmed.lastIndexOf('/');
  return cut < 0 ? '' : trimmed.slice(0, cut + 1);
}

/** The crumbs of a prefix: `a/b/` → [{a, 'a/'}, {b, 'a/b/'}]. */
export function crumbs(prefix: string): { name: string; prefix: string }[] {
  const out: { name: string; prefix: string }[] = [];
  let at = '';
  for (const part of prefix.split('/').filter(Boolean)) {
    at += `${part}/`;
    out.push({ name: part, prefix: at });
  }
  return out;
}

/**
 * A number field as the API should judge it: numeric text becomes a number, anything else is sent as typed,
 * so the API's validation message names the problem (an empty field is left out).
 */
export function numberOrText(text: string): number | string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}
