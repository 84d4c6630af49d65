/** A datapoint's value as the device sent it: a scalar, or structured (e.g. the seed's `{"state": 1, "value": 100}`). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What a DynamoDB item can hold, as pure rules: the logger checks each update against them before
 * deciding it (an update DynamoDB would refuse is rejected on its own, never by failing the write of
 * the whole batch), and the configuration routes check the numbers of a body (a 400, not a 500).
 *
 * DynamoDB numbers: 0, or a magnitude from 1E-130 to 9.9999999999999999999999999999999999999E+125,
 * at most 38 significant digits. A JavaScript number has at most 17 significant digits, and the
 * bounds are checked on the number itself: the shortest decimal text of a double below the double
 * nearest 1E+126 is below 1E+126 (and likewise above 1E-130), so the text DynamoDB gets is in range.
 */

export const MIN_DYNAMO_MAGNITUDE = 1e-130;
/** Exclusive: 1E+126 itself is out of range. */
export const MAX_DYNAMO_MAGNITUDE = 1e126;

/** Whether DynamoDB stores `n` as a number (finite, 0, or a magnitude within its range). */
export function isDynamoNumber(n: number): boolean {
  if (n === 0) return true;
  const magnitude = Math.abs(n);
  return magnitude >= MIN_DYNAMO_MAGNITUDE && magnitude < MAX_DYNAMO_MAGNITUDE;
}

/**
 * A logged value is one DynamoDB item (400 KB at most, with its keys, times and tags): a value whose
 * JSON text is larger is not logged. The export keeps it.
 */
export const MAX_LOGGED_VALUE_BYTES = 350_000;
/**
 * Nesting of a structured value (objects and lists): DynamoDB's own limit for a document, so a value
 * can be kept as a document; deeper values are not logged.
 */
export const MAX_VALUE_DEPTH = 32;

/** Why an update's value is not logged. */
export type ValueProblem = 'number-out-of-range' | 'invalid-unicode' | 'value-too-large' | 'too-deep';

export const VALUE_PROBLEMS: Readonly<Record<ValueProblem, string>> = {
  'number-out-of-range': 'a number that is not finite or outside DynamoDB\'s range (0, or a magnitude from 1E-130 to below 1E+126)',
  'invalid-unicode': 'text that is not well-formed Unicode (an unpaired surrogate)',
  'value-too-large': `a value whose JSON text is over ${MAX_LOGGED_VALUE_BYTES} bytes`,
  'too-deep': `a structured value nested deeper than ${MAX_VALUE_DEPTH} levels`,
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `text` is well-formed UTF-16 (no unpaired surrogate), so that it has a UTF-8 form. */
export const isWellFormedText = (text: string) => !LONE_SURROGATE.test(text);

/**
 * Why `value` cannot be logged, or undefined when it can: every number in it a DynamoDB number,
 * every text (object keys included) well-formed, at most {@link MAX_VALUE_DEPTH} levels, and its
 * stored form (the text itself, or a structured value's JSON text) at most
 * {@link MAX_LOGGED_VALUE_BYTES} bytes. The walk stops at the depth limit; values come from stream
 * records of at most 1 MB, so measuring the JSON text is bounded too.
 */
export function valueProblem(value: unknown): ValueProblem | undefined {
  const walk = (node: unknown, depth: number): ValueProblem | undefined => {
    if (typeof node === 'number') return Number.isFinite(node) && isDynamoNumber(node) ? undefined : 'number-out-of-range';
    if (typeof node === 'string') return isWellFormedText(node) ? undefined : 'invalid-unicode';
    if (node === null || typeof node !== 'object') return undefined;
    if (depth >= MAX_VALUE_DEPTH) return 'too-deep';
    if (Array.isArray(node)) {
      for (const item of node) {
        const problem = walk(item, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    for (const [key, item] of Object.entries(node)) {
      const problem = walk(key, depth + 1) ?? walk(item, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  };
  const problem = walk(value, 0);
  if (problem) return problem;
  const bytes = typeof value === 'string' ? Buffer.byteLength(value) : isStructured(value) ? Buffer.byteLength(JSON.stringify(value)) : 0;
  return bytes > MAX_LOGGED_VALUE_BYTES ? 'value-too-large' : undefined;
}

/**
 * JSON text with object keys sorted at every level: two values are the same value when their
 * canonical texts are equal (`{"a":1,"b":2}` and `{"b":2,"a":1}` are). Scalars are their JSON text.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export const isStructured = (value: unknown): value is JsonValue[] | { [key: string]: JsonValue } => value !== null && typeof value === 'object';
