import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { HttpRequest } from '@smithy/types';
import { MemoryExportStore } from './memory-export-store';

/**
 * Request handlers for the SDK's S3 and SQS clients that answer in process, as the services do on the
 * wire (status codes, XML and JSON bodies), so the adapters are tested with the real clients: their
 * serialisation, error mapping and retries. No socket is opened.
 */

export interface FakeResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Readable;
}

/** What the SDK clients accept as `requestHandler`. */
export interface FakeHandler {
  handle(request: HttpRequest): Promise<{ response: FakeResponse }>;
  /** Requests answered, in order. */
  requests: Array<{ method: string; path: string; query: Record<string, string>; headers: Record<string, string> }>;
  /** Answers the next matching requests with an error status instead (throttling, 5xx). */
  failNext(count: number, status: number, code: string, match?: (method: string, path: string) => boolean): void;
}

const respond = (statusCode: number, body: string | Uint8Array = '', headers: Record<string, string> = {}): { response: FakeResponse } => ({
  response: { statusCode, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers }, body: Readable.from([Buffer.from(body)]) },
});

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const xmlUnescape = (text: string) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16))).replace(/&amp;/g, '&');

const s3Error = (status: number, code: string) =>
  respond(status, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message><RequestId>fake</RequestId></Error>`, {
    'content-type': 'application/xml',
  });

const lowerHeaders = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
const flatQuery = (query: HttpRequest['query']) =>
  Object.fromEntries(Object.entries(query ?? {}).map(([k, v]) => [k, Array.isArray(v) ? (v[0] ?? '') : (v ?? '')]));

/**
 * One bucket over a {@link MemoryExportStore}: PUT (with `If-None-Match: *`), GET (with `Range`), HEAD,
 * ListObjectsV2 (prefix, delimiter, `maxKeys` per page, continuation tokens), DeleteObjects.
 */
export function fakeS3(store: MemoryExportStore, options: { bucket: string; maxKeys?: number }): FakeHandler {
  const failures: Array<{ count: number; status: number; code: string; match: (method: string, path: string) => boolean }> = [];
  const handler: FakeHandler = {
    requests: [],
    failNext(count, status, code, match = () => true) {
      failures.push({ count, status, code, match });
    },
    async handle(request) {
      const headers = lowerHeaders(request.headers);
      const query = flatQuery(request.query);
      handler.requests.push({ method: request.method, path: request.path, query, headers });
      const failure = failures.find((f) => f.count > 0 && f.match(request.method, request.path));
      if (failure) {
        failure.count--;
        return s3Error(failure.status, failure.code);
      }
      const prefix = `/${options.bucket}`;
      if (!request.path.startsWith(prefix)) return s3Error(404, 'NoSuchBucket');
      const key = decodeURIComponent(request.path.slice(prefix.length + 1));
      const body = await bodyBytes(request.body);

      if (request.method === 'PUT') {
        if (headers['if-none-match'] === '*') {
          const created = await store.createIfAbsent(key, new Uint8Array(body), headers['content-type'] ?? '');
          return created === 'created' ? respond(200, '', { etag: '"x"' }) : s3Error(412, 'PreconditionFailed');
        }
        await store.put(key, new Uint8Array(body), headers['content-type'] ?? '');
        return respond(200, '', { etag: '"x"' });
      }
      if (request.method === 'GET' && key === '' && query['list-type'] === '2') return listPage(store, query, options.maxKeys ?? 1000);
      if (request.method === 'GET') {
        const range = /^bytes=(\d+)-(\d+)$/.exec(headers.range ?? '');
        const whole = store.objects.get(key);
        if (!whole) return s3Error(404, 'NoSuchKey');
        if (range && Number(range[1]) >= whole.body.length) return s3Error(416, 'InvalidRange');
        const bytes = await store.getBytes(key, range ? { start: Number(range[1]), end: Number(range[2]) } : undefined);
        return respond(range ? 206 : 200, bytes!, { 'content-type': whole.contentType });
      }
      if (request.method === 'HEAD') {
        const whole = store.objects.get(key);
        return whole ? { response: { statusCode: 200, headers: { 'content-length': String(whole.body.length) }, body: Readable.from([]) } } : { response: { statusCode: 404, headers: {}, body: Readable.from([]) } };
      }
      if (request.method === 'POST' && 'delete' in query) {
        const keys = [...body.toString('utf8').matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) => xmlUnescape(m[1]!));
        if (keys.length > 1000) return s3Error(400, 'MalformedXML');
        await store.deleteMany(keys);
        return respond(200, '<?xml version="1.0" encoding="UTF-8"?><DeleteResult></DeleteResult>', { 'content-type': 'application/xml' });
      }
      return s3Error(405, 'MethodNotAllowed');
    },
  };
  return handler;
}

async function listPage(store: MemoryExportStore, query: Record<string, string>, maxKeys: number) {
  const prefix = query.prefix ?? '';
  const { objects, prefixes } = await store.list(prefix, query.delimiter || undefined);
  const entries = [...objects.map((o) => ({ sortKey: o.key, xml: `<Contents><Key>${xmlEscape(o.key)}</Key><Size>${o.size}</Size></Contents>` })),
    ...prefixes.map((p) => ({ sortKey: p, xml: `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>` }))].sort((a, b) => (a.sortKey < b.sortKey ? -1 : 1));
  const after = query['continuation-token'] ? Buffer.from(query['continuation-token'], 'base64').toString('utf8') : '';
  const rest = entries.filter((e) => e.sortKey > after);
  const page = rest.slice(0, maxKeys);
  const truncated = rest.length > page.length;
  const token = truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1]!.sortKey).toString('base64')}</NextContinuationToken>` : '';
  return respond(
    200,
    `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${token}${page.map((e) => e.xml).join('')}</ListBucketResult>`,
    { 'content-type': 'application/xml' },
  );
}

export interface FakeSqsMessage {
  Id: string;
  MessageBody: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

/**
 * SQS's SendMessageBatch (JSON protocol): entries are recorded in `received`; `failEntries` decides,
 * per call and entry, which ones SQS reports failed (and whether by the sender's fault).
 */
export function fakeSqs(): FakeHandler & {
  received: FakeSqsMessage[];
  calls: FakeSqsMessage[][];
  failEntries: (call: number, entry: FakeSqsMessage) => { code: string; senderFault: boolean } | undefined;
} {
  const failures: Array<{ count: number; status: number; code: string }> = [];
  const handler = {
    requests: [] as FakeHandler['requests'],
    received: [] as FakeSqsMessage[],
    calls: [] as FakeSqsMessage[][],
    failEntries: (() => undefined) as (call: number, entry: FakeSqsMessage) => { code: string; senderFault: boolean } | undefined,
    failNext(count: number, status: number, code: string) {
      failures.push({ count, status, code });
    },
    async handle(request: HttpRequest) {
      const headers = lowerHeaders(request.headers);
      handler.requests.push({ method: request.method, path: request.path, query: flatQuery(request.query), headers });
      const failure = failures.find((f) => f.count > 0);
      if (failure) {
        failure.count--;
        return respond(failure.status, JSON.stringify({ __type: `com.amazonaws.sqs#${failure.code}`, message: failure.code }), { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${failure.code};Receiver` });
      }
      if (headers['x-amz-target'] !== 'AmazonSQS.SendMessageBatch') return respond(400, JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidAction', message: 'only SendMessageBatch' }), { 'content-type': 'application/x-amz-json-1.0' });
      const input = JSON.parse((await bodyBytes(request.body)).toString('utf8')) as { Entries: FakeSqsMessage[] };
      const call = handler.calls.push(input.Entries) - 1;
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const entry of input.Entries) {
        const fail = handler.failEntries(call, entry);
        if (fail) Failed.push({ Id: entry.Id, SenderFault: fail.senderFault, Code: fail.code, Message: fail.code });
        else {
          handler.received.push(entry);
          Successful.push({ Id: entry.Id, MessageId: `msg-${handler.received.length}`, MD5OfMessageBody: createHash('md5').update(entry.MessageBody).digest('hex'), SequenceNumber: String(handler.received.length) });
        }
      }
      return respond(200, JSON.stringify({ Successful, Failed }), { 'content-type': 'application/x-amz-json-1.0' });
    },
  };
  return handler;
}
