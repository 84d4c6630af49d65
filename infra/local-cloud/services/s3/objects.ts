import { createHash } from 'node:crypto';
import { xmlElement, xmlUnescape } from '../../aws-protocol/xml';

/**
 * The parts of S3's object protocol the gateway answers itself, as pure functions: byte ranges,
 * conditional requests, the ACL every object and bucket has, and the multi-object delete document.
 */

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** `Range: bytes=…` against an object of `size` bytes: S3 honours one range and ignores what it cannot read. */
export type RangeRequest =
  | { kind: 'none' }
  | { kind: 'range'; start: number; end: number }
  | { kind: 'unsatisfiable' };

export function parseRange(header: string | undefined, size: number): RangeRequest {
  // One range only: S3 answers several ranges, or a malformed header, with the whole object.
  const match = /^bytes=(\d*)-(\d*)$/.exec((header ?? '').trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'none' };
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    if (size === 0) return { kind: 'none' };
    return { kind: 'range', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? Number.POSITIVE_INFINITY : Number(match[2]);
  if (end < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(end, size - 1) };
}

/** The outcome of `If-Match`, `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since` on a GET or HEAD. */
export type ConditionOutcome = 'proceed' | 'not-modified' | { failed: 'If-Match' | 'If-Unmodified-Since' };

/** RFC 9110's order, as S3 applies it: If-Match, else If-Unmodified-Since; then If-None-Match, else If-Modified-Since. */
export function evaluateConditions(headers: Record<string, string>, etag: string, lastModified: number): ConditionOutcome {
  const seconds = Math.floor(lastModified / 1000) * 1000; // Last-Modified is sent to the second
  const matches = (list: string) => list.split(',').map((t) => t.trim().replace(/^W\//, '')).some((t) => t === '*' || t === `"${etag}"` || t === etag);
  const date = (name: string) => {
    const value = headers[name] === undefined ? Number.NaN : Date.parse(headers[name]!);
    return Number.isNaN(value) ? undefined : value;
  };
  if (headers['if-match'] !== undefined) {
    if (!matches(headers['if-match'])) return { failed: 'If-Match' };
  } else {
    const since = date('if-unmodified-since');
    if (since !== undefined && seconds > since) return { failed: 'If-Unmodified-Since' };
  }
  if (headers['if-none-match'] !== undefined) {
    if (matches(headers['if-none-match'])) return 'not-modified';
  } else {
    const since = date('if-modified-since');
    if (since !== undefined && seconds <= since) return 'not-modified';
  }
  return 'proceed';
}

/** The canonical user the local account's buckets and objects belong to. */
const OWNER_ID = createHash('sha256').update('local-cloud:000000000000').digest('hex');

/**
 * GetObjectAcl / GetBucketAcl: the owner with FULL_CONTROL, which is every bucket's and object's ACL on S3
 * since ACLs are disabled by default (Object Ownership: bucket owner enforced).
 */
export function ownerAcl(): string {
  const owner = `<ID>${OWNER_ID}</ID><DisplayName>local</DisplayName>`;
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<AccessControlPolicy xmlns="${S3_NAMESPACE}"><Owner>${owner}</Owner><AccessControlList>`
    + `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${owner}</Grantee>`
    + '<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>';
}

/** A DeleteObjects request: the keys (with their version ids), and whether only errors are reported. */
export interface DeleteRequest {
  quiet: boolean;
  objects: Array<{ key: string; versionId?: string }>;
}

/**
 * Reads a `<Delete>` document, strictly: elements and text only (no comments, CDATA, entities other than
 * XML's own, or attributes but `xmlns`), so the authorizer and the delete read the same keys. Undefined
 * when the document is not one S3 would accept (400 MalformedXML).
 */
export function parseDeleteRequest(body: string): DeleteRequest | undefined {
  const tokens = tokenize(body.replace(/^\uFEFF?\s*<\?xml[^?]*\?>/, ''));
  if (!tokens) return undefined;
  let at = 0;
  const element = (): XmlElement | undefined => {
    const open = tokens[at];
    if (open?.kind !== 'open') return undefined;
    at++;
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const token = tokens[at];
      if (!token) return undefined;
      if (token.kind === 'close') {
        if (token.name !== open.name) return undefined;
        at++;
        return { name: open.name, children, text };
      }
      if (token.kind === 'text') {
        text += token.text;
        at++;
      } else {
        const child = element();
        if (!child) return undefined;
        children.push(child);
      }
    }
  };
  const root = element();
  if (!root || root.name !== 'Delete' || at !== tokens.length) return undefined;
  const request: DeleteRequest = { quiet: false, objects: [] };
  for (const child of root.children) {
    if (child.name === 'Quiet') request.quiet = child.text.trim() === 'true';
    else if (child.name === 'Object') {
      const key = child.children.find((c) => c.name === 'Key');
      const versionId = child.children.find((c) => c.name === 'VersionId');
      if (!key || key.children.length > 0) return undefined;
      request.objects.push({ key: key.text, ...(versionId ? { versionId: versionId.text } : {}) });
    } else return undefined;
  }
  if (request.objects.length === 0 || request.objects.length > 1000) return undefined;
  return request;
}

interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

type XmlToken = { kind: 'open' | 'close'; name: string } | { kind: 'text'; text: string };

function tokenize(xml: string): XmlToken[] | undefined {
  const tokens: XmlToken[] = [];
  const pattern = /<([A-Za-z][\w.-]*)((?:\s+xmlns(?::[\w.-]+)?\s*=\s*"[^"<&]*")*)\s*(\/?)>|<\/([A-Za-z][\w.-]*)\s*>|([^<]+)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = pattern.exec(xml)) !== null) {
    consumed = pattern.lastIndex;
    if (match[1]) {
      tokens.push({ kind: 'open', name: match[1] });
      if (match[3]) tokens.push({ kind: 'close', name: match[1] });
    } else if (match[4]) tokens.push({ kind: 'close', name: match[4] });
    else {
      const raw = match[5]!;
      // Only XML's predefined and numeric character references.
      if (/&(?!(?:lt|gt|amp|apos|quot|#\d+|#x[0-9a-fA-F]+);)/.test(raw)) return undefined;
      tokens.push({ kind: 'text', text: xmlUnescape(raw) });
    }
  }
  if (consumed !== xml.length) return undefined;
  // Whitespace between elements is not text.
  return tokens.filter((t, i) => t.kind !== 'text' || t.text.trim() !== '' || (tokens[i - 1]?.kind === 'open' && tokens[i + 1]?.kind === 'close'));
}

/** The DeleteObjects answer (`Deleted` for each key unless quiet, and `Error` for each failure). */
export function deleteResult(
  deleted: Array<{ key: string; versionId?: string }>,
  errors: Array<{ key: string; code: string; message: string }>,
  quiet: boolean,
): string {
  return '<?xml version="1.0" encoding="UTF-8"?>\n'
    + `<DeleteResult xmlns="${S3_NAMESPACE}">`
    + (quiet ? '' : deleted.map((d) => `<Deleted>${xmlElement('Key', d.key)}${d.versionId !== undefined ? xmlElement('VersionId', d.versionId) : ''}</Deleted>`).join(''))
    + errors.map((e) => `<Error>${xmlElement('Key', e.key)}${xmlElement('Code', e.code)}${xmlElement('Message', e.message)}</Error>`).join('')
    + '</DeleteResult>';
}
