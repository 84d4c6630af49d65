import http, { type IncomingHttpHeaders } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Server } from 'node:net';
import type { Duplex } from 'node:stream';

export type ServerRequest = http.IncomingMessage | Http2ServerRequest;
export type ServerResponse = http.ServerResponse | Http2ServerResponse;

/**
 * HTTP plumbing shared by every service: requests read whole, responses written to HTTP/1.1 or HTTP/2,
 * and forwarding to an emulator on 127.0.0.1.
 */

/** A request read whole: the local cloud's services are small and need the body to route and check it. */
export interface BufferedRequest {
  method: string;
  /** Path and query string as received. */
  url: string;
  /** Lower-case names, no HTTP/2 pseudo-headers. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface LocalResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: Buffer | string;
}

/** Answers one AWS service's requests. */
export type ServiceHandler = (request: BufferedRequest) => Promise<LocalResponse>;

/** A request body over the reader's limit (API Gateway answers it with 413). */
export class RequestTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`request body over ${limitBytes} bytes`);
  }
}

export async function readRequest(req: ServerRequest, limitBytes = 64 * 1024 * 1024): Promise<BufferedRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Past the limit the rest is read and dropped: leaving the loop would reset the connection, and a
    // client still sending its body would often see the reset instead of the answer.
    if (size <= limitBytes) chunks.push(chunk);
  }
  if (size > limitBytes) throw new RequestTooLargeError(limitBytes);
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers: flattenHeaders(req.headers), body: Buffer.concat(chunks) };
}

/** The size API Gateway limits (10,240 bytes for an HTTP API): the request line and the header values. */
export function requestLineAndHeaderBytes(req: http.IncomingMessage): number {
  let size = Buffer.byteLength(`${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}`);
  for (let i = 1; i < req.rawHeaders.length; i += 2) size += Buffer.byteLength(req.rawHeaders[i]!);
  return size;
}

/**
 * Answers what Node's HTTP/1.1 parser refuses before any handler runs, which Node answers with an empty body:
 * a request line and headers over `maxHeaderSize` (16 KB by default) → 431, a request that timed out
 * before its headers → 408, anything unparsable → 400. `answer` gives the body in the service's shape; it
 * gets the bytes received so far, which may tell which API the client meant.
 */
export function answerParserErrors(server: http.Server, answer: (status: 400 | 408 | 431, received: Buffer) => LocalResponse): void {
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const response = answer(status, error.rawPacket ?? Buffer.alloc(0));
    const body = Buffer.from(response.body ?? '');
    const head = [`HTTP/1.1 ${response.status} ${http.STATUS_CODES[response.status] ?? ''}`];
    for (const [name, value] of Object.entries(response.headers ?? {})) {
      if (!CONNECTION_HEADERS.has(name.toLowerCase()) && name.toLowerCase() !== 'content-length') head.push(`${name}: ${String(value)}`);
    }
    head.push(`content-length: ${body.length}`, 'connection: close');
    socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
  });
}

export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** Headers HTTP/2 forbids in responses (RFC 9113 §8.2.2). */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

export function sendResponse(res: ServerResponse, response: LocalResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    if (!CONNECTION_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = value;
  }
  const body = response.body ?? '';
  if (headers['content-length'] === undefined || Buffer.byteLength(body) > 0) headers['content-length'] = String(Buffer.byteLength(body));
  (res as http.ServerResponse).writeHead(response.status, headers);
  (res as http.ServerResponse).end(body);
}

/** Forwards a buffered request to an emulator on 127.0.0.1 and buffers its answer. */
export function forward(port: number, request: BufferedRequest): Promise<LocalResponse> {
  return new Promise((resolve, reject) => {
    const headers = { ...request.headers, host: `127.0.0.1:${port}`, 'content-length': String(request.body.length) };
    delete (headers as Record<string, string>)['transfer-encoding'];
    const upstream = http.request(
      { host: '127.0.0.1', port, method: request.method, path: request.url, headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined) out[k] = v;
          // The body is re-sent whole; a HEAD answer keeps the length of what a GET would send.
          if (request.method !== 'HEAD') delete out['content-length'];
          resolve({ status: answer.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
        answer.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(request.body);
  });
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): LocalResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function listen(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as http.Server).closeAllConnections?.();
  });
}
