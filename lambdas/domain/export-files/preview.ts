import { STRING_LIKE_BASE_TYPES } from '../device-events';

/**
 * A preview of the start of an export CSV with the columns the export writes in base64 decoded (see
 * domain/export/csv.ts): `display_name`, `metadata` and `resource_tags` always; `value` when the row's
 * `base_type` is text-like (string, message, file), or when it holds a structured value (base64 of JSON
 * text, the only non-numeric, non-boolean form a value of another base type takes).
 */

export interface Preview {
  columns: string[];
  rows: string[][];
  decoded: string[];
  truncated: boolean;
}

export const DEFAULT_PREVIEW_ROWS = 50;
export const MAX_PREVIEW_ROWS = 200;
/** Bytes read from the start of a file for a preview: 200 rows of the widest rows the export writes fit. */
export const PREVIEW_BYTES = 512 * 1024;

const ALWAYS_BASE64 = ['display_name', 'metadata', 'resource_tags'];
const STRING_LIKE = new Set<string>(STRING_LIKE_BASE_TYPES);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PLAIN_VALUE = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false)$/;

/** RFC 4180 records of `text`; the last one is dropped when `partial` (the text was cut mid-file). */
export function parseCsvRecords(text: string, partial: boolean): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || (c === '\r' && text[i + 1] === '\n')) {
      if (c === '\r') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (!partial && (field !== '' || row.length > 0)) rows.push([...row, field]);
  return rows;
}

function decodeBase64(text: string): string | undefined {
  if (text === '' || !BASE64.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  return decoded.includes('\uFFFD') ? undefined : decoded;
}

/** The preview of the first `rowCount` rows of a CSV whose first bytes are `text` (`complete`: the whole file). */
export function previewCsv(text: string, complete: boolean, rowCount: number): Preview {
  const records = parseCsvRecords(text, !complete);
  const [header = [], ...body] = records;
  const rows = body.slice(0, rowCount);
  const decoded = new Set<string>();
  const baseTypeAt = header.indexOf('base_type');
  const valueAt = header.indexOf('value');
  const out = rows.map((row) =>
    row.map((cell, index) => {
      const column = header[index] ?? '';
      if (ALWAYS_BASE64.includes(column)) {
        const text = decodeBase64(cell);
        if (text === undefined) return cell;
        decoded.add(column);
        return text;
      }
      if (index === valueAt && cell !== '') {
        const stringLike = STRING_LIKE.has(row[baseTypeAt] ?? '');
        if (!stringLike && PLAIN_VALUE.test(cell)) return cell;
        const text = decodeBase64(cell);
        if (text === undefined || (!stringLike && !/^[[{]/.test(text))) return cell;
        decoded.add(column);
        return text;
      }
      return cell;
    }),
  );
  return { columns: header, rows: out, decoded: header.filter((c) => decoded.has(c)), truncated: body.length > rowCount || !complete };
}

/** `rows` of the query string: 1–200, default 50. */
export function parsePreviewRows(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_PREVIEW_ROWS;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_PREVIEW_ROWS) throw new RangeError(`rows must be a whole number from 1 to ${MAX_PREVIEW_ROWS}`);
  return value;
}
