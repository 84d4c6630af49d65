import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { jsonError, s3Error } from './aws-protocol/errors';
import {
  answerParserErrors, closeServer, flattenHeaders, listen, readRequest, RequestTooLargeError, sendResponse, type BufferedRequest, type LocalResponse, type ServerRequest,
  type ServerResponse,
} from './aws-protocol/http';
import type { LocalService } from './service';

/** What the edge needs of a service. */
export type EdgeService = Pick<LocalService, 'name' | 'matcher' | 'handle'>;

/**
 * Which service a request is for, as AWS itself tells, by the services' matchers: the JSON protocols name
 * it in `X-Amz-Target`, every signed request in its SigV4 credential scope, an unsigned query-protocol
 * POST in its API version; other unsigned requests go to the fallback (S3: browsers, curl). The name of
 * a service the local cloud does not run is returned too (the edge answers it 501); undefined when
 * nothing tells.
 */
export function serviceOf(request: BufferedRequest, services: readonly EdgeService[]): string | undefined {
  const routed = services.flatMap(({ name, matcher }) => (matcher ? [{ name, matcher }] : []));
  const target = request.headers['x-amz-target'];
  if (target) {
    const prefix = target.split('.')[0] ?? '';
    const claimed = routed.find((s) => s.matcher.targetPrefixes?.includes(prefix));
    // A target no service claims is an API the local cloud does not run (DynamoDB Streams is signed as dynamodb).
    return claimed?.name ?? prefix.split('_')[0]!.toLowerCase();
  }
  const scope =
    /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(request.headers.authorization ?? '')?.[1] ??
    /X-Amz-Credential=[^&]*?(?:%2F|\/)\d{8}(?:%2F|\/)[^&%/]+(?:%2F|\/)([^&%/]+)(?:%2F|\/)/i.exec(request.url)?.[1];
  if (scope) return routed.find((s) => s.matcher.signingName === scope)?.name ?? scope;
  if (request.method === 'POST' && (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const version = /(?:^|&)Version=([\d-]+)/.exec(request.body.toString('latin1'))?.[1];
    const byVersion = version && routed.find((s) => s.matcher.queryVersion === version);
    if (byVersion) return byVersion.name;
  }
  return routed.find((s) => s.matcher.fallback)?.name;
}

/** The request line and headers in the bytes Node's parser had received when it gave up (no body). */
function partialRequest(received: Buffer): BufferedRequest {
  const [requestLine = '', ...lines] = received.toString('latin1').split('\r\n');
  const [method = 'GET', url = '/'] = requestLine.split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method, url, headers, body: Buffer.alloc(0) };
}

/**
 * An error the edge answers itself, in the shape the client's SDK reads: S3's XML (S3 answers these with 400
 * and a code), else the JSON protocols' `__type`. A request that tells nothing is S3's, as the edge routes it.
 */
function edgeError(service: string | undefined, error: { status: number; code: string; message: string; s3Code?: string }): LocalResponse {
  return service === 's3' ? s3Error(400, error.s3Code ?? error.code, error.message) : jsonError(error.status, error.code, error.message);
}

const PARSER_ERRORS = {
  400: { status: 400, code: 'BadRequest', message: 'The request could not be parsed' },
  408: { status: 408, code: 'RequestTimeout', message: 'The request headers did not arrive within the timeout' },
  431: { status: 431, code: 'RequestHeaderSectionTooLarge', message: 'Your request header section exceeds the maximum allowed size' },
} as const;

/** Sees a service's requests first and may answer instead (tests inject faults with it). */
export type EdgeInterceptor = (request: BufferedRequest) => Promise<LocalResponse | undefined>;

export interface EdgeEndpoint {
  port: number;
  url: string;
  /** Sets (or with undefined, removes) the interceptor of one service (`s3`, `dynamodb`, `kinesis`, …). */
  intercept(service: string, interceptor: EdgeInterceptor | undefined): void;
  close(): Promise<void>;
}

/**
 * The LocalStack-style edge: one port for every AWS API the stack uses. It speaks HTTP/1.1 and
 * cleartext HTTP/2 on the same port, because the SDK v3 Kinesis client opens HTTP/2 by default.
 */
export async function startEdge(
  port: number,
  /** Read on every request: services registered after the edge starts are routed too. */
  registry: { readonly services: readonly EdgeService[] },
  log: (message: string) => void,
): Promise<EdgeEndpoint> {
  const interceptors = new Map<string, EdgeInterceptor>();
  const handle = (req: ServerRequest, res: ServerResponse): void => {
    void (async () => {
      let response: LocalResponse;
      try {
        let request: BufferedRequest;
        try {
          request = await readRequest(req);
        } catch (error) {
          if (!(error instanceof RequestTooLargeError)) throw error;
          const headersOnly = { method: req.method ?? 'GET', url: req.url ?? '/', headers: flattenHeaders(req.headers), body: Buffer.alloc(0) };
          response = edgeError(serviceOf(headersOnly, registry.services), {
            status: 413,
            code: 'RequestEntityTooLarge',
            s3Code: 'EntityTooLarge',
            message: `The request body is over the local cloud's limit of ${error.limitBytes} bytes`,
          });
          if (!res.headersSent) sendResponse(res, response);
          return;
        }
        // HTTP/2 carries the host as :authority; signatures (SigV4 signs `host`) need it back.
        if (!request.headers.host && 'authority' in req && req.authority) request.headers.host = req.authority;
        const service = serviceOf(request, registry.services);
        const handler = registry.services.find((s) => s.name === service && s.matcher)?.handle;
        const intercepted = service === undefined ? undefined : await interceptors.get(service)?.(request);
        response = intercepted ?? (handler
          ? await handler(request)
          : jsonError(501, 'NotImplemented', service === undefined ? 'The local cloud does not recognise the API of this request' : `The local cloud does not emulate the ${service} API`));
      } catch (error) {
        log(`edge: ${(error as Error).message}`);
        response = jsonError(500, 'InternalFailure', 'local cloud error');
      }
      if (!res.headersSent) sendResponse(res, response);
    })();
  };

  const h1 = http.createServer(handle);
  h1.keepAliveTimeout = 60_000;
  answerParserErrors(h1, (status, received) => edgeError(serviceOf(partialRequest(received), registry.services), PARSER_ERRORS[status]));
  const h2 = http2.createServer({}, handle);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      const isHttp2 = first.subarray(0, 3).toString('latin1') === 'PRI';
      (isHttp2 ? h2 : h1).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  const bound = await listen(server, port);
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    intercept: (service, interceptor) => {
      if (interceptor) interceptors.set(service, interceptor);
      else interceptors.delete(service);
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await closeServer(server);
    },
  };
}
