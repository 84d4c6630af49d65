/** CSV of what a chart shows, and the values it can plot. Pure: no DOM, unit-tested. */

export interface LoggedValue {
  id: number;
  utc: string;
  local: string;
  value: unknown;
  tags: ReadonlyArray<Record<string, string | null>>;
}

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function field(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A value as a cell: text as it is, anything else as JSON. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `id,utc,local,value,tags` then one row per value, lines ended by CRLF. */
export function valuesCsv(values: readonly LoggedValue[]): string {
  const rows = [['id', 'utc', 'local', 'value', 'tags']];
  for (const v of values) rows.push([String(v.id), v.utc, v.local, valueText(v.value), v.tags.map((t) => Object.keys(t).join('')).join(' ')]);
  return rows.map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

/** `2019-01-11 23:27:46.045 UTC` → ms since the epoch. */
export function parseUtc(utc: string): number {
  return Date.parse(utc.replace(' UTC', 'Z').replace(' ', 'T'));
}

/**
 * The number a value plots as: numbers as they are, booleans 0/1, numeric text as its number, and a structured
 * value's numeric `value` field (DSS's `{"state": 1, "value": 100}`); anything else does not plot (null).
 */
export function plotNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'value' in value) return plotNumber((value as { value: unknown }).value);
  return null;
}

/** uPlot's data: x in seconds, y the plotted numbers (null where a value does not plot). */
export function seriesOf(values: readonly LoggedValue[]): [number[], (number | null)[]] {
  return [values.map((v) => parseUtc(v.utc) / 1000), values.map((v) => plotNumber(v.value))];
}
