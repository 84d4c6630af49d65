import type { Cursor } from './value-reads';

/**
 * The next-page token of a paged value reply (`next`, passed back as `xs`): where the next page
 * starts, so page k costs what page 1 costs. It carries the listing's snapshot, the page and size it
 * opens, the reply-order position of the last value returned, and a fingerprint of the address it
 * belongs to. Opaque to clients; only letters, digits, `_` and `-` (what `xs` accepts), ~60 characters.
 *
 * Layout: `c1_<snapshot>_<page>_<size>_<at>_<id>_<fingerprint>`, numbers in base 36 (`at` signed).
 * A token only ever narrows reads to the caller's own OEM (the OEM comes from the token of the
 * request), so a forged one can change which of the caller's values a page holds, nothing else.
 */
export interface PageToken {
  snapshot: number;
  /** The page this token opens. */
  page: number;
  size: number;
  /** The last value of the previous page. */
  cursor: Cursor;
  /** {@link addressFingerprint} of the address the listing reads. */
  address: string;
}

const TOKEN = /^c1_([0-9a-z]{1,11})_([0-9a-z]{1,7})_([0-9a-z]{1,3})_(-?[0-9a-z]{1,11})_([0-9a-z]{1,11})_([0-9a-z]{1,7})$/;

export function encodePageToken(token: PageToken): string {
  const b36 = (n: number) => n.toString(36);
  return `c1_${b36(token.snapshot)}_${b36(token.page)}_${b36(token.size)}_${b36(token.cursor.at)}_${b36(token.cursor.id)}_${token.address}`;
}

/** The token, or undefined when `text` is not one this API issued (in form). */
export function decodePageToken(text: string): PageToken | undefined {
  const m = TOKEN.exec(text);
  if (!m) return undefined;
  const [snapshot, page, size, at, id] = [m[1]!, m[2]!, m[3]!, m[4]!, m[5]!].map((part) => parseInt(part, 36)) as [number, number, number, number, number];
  const safe = [snapshot, page, size, at, id].every(Number.isSafeInteger);
  if (!safe || snapshot > 999_999_999_999_999 || page > 999_999_999 || size < 1 || size > 1000) return undefined;
  return { snapshot, page, size, cursor: { at, id }, address: m[6]! };
}

/** A short fingerprint (FNV-1a, 32 bits, base 36) of the path elements that select values. */
export function addressFingerprint(params: Readonly<Record<string, string | undefined>> | undefined): string {
  const text = ['id', 'block', 'block_index', 'datapoint_name', 'value_param'].map((k) => params?.[k] ?? '').join('\u0000');
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}
