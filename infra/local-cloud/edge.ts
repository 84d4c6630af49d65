import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { closeServer, json, listen, readRequest, sendResponse, type BufferedRequest, type LocalResponse, type ServerRequest, type ServerResponse } from './http-util';

/** An AWS service the edge endpoint answers for. */
export type ServiceHandler = (request: BufferedRequest) => Promise<LocalResponse>;

const TARGET_PREFIXES: Record<string, string> = {
  Kinesis_20131202: 'kinesis',
  DynamoDB_20120810: 'dynamodb',
  DynamoDBStreams_20120810: 'dynamodbstreams',
  secretsmanager: 'secretsmanager',
};

/** Query-protocol API versions of the services the edge answers (for unsigned calls). */
const QUERY_VERSIONS: Record<string, string> = { '2010-05-08': 'iam', '2011-06-15': 'sts' };

/**
 * Which service a request is for, as AWS itself tells: the JSON protocols name it in `X-Amz-Target`,
 * every signed request in its SigV4 credential scope; an unsigned request is S3 (browsers, curl).
 */
export function serviceOf(request: BufferedRequest): string {
  const target = request.headers['x-amz-target'];
  if (target) {
    const prefix = target.split('.')[0] ?? '';
    if (TARGET_PREFIXES[prefix]) return TARGET_PREFIXES[prefix];
  }
  const scope =
    /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(request.headers.authorization ?? '')?.[1] ??
    /X-Amz-Credential=[^&]*?(?:%2F|\/)\d{8}(?:%2F|\/)[^&%/]+(?:%2F|\/)([^&%/]+)(?:%2F|\/)/i.exec(request.url)?.[1];
  if (scope) return scope;
  // An unsigned query-protocol call (curl): IAM and STS tell themselves apart by their API version.
  if (request.method === 'POST' && (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    const version = /(?:^|&)Version=([\d-]+)/.exec(request.body.toString('latin1'))?.[1];
    if (version && QUERY_VERSIONS[version]) return QUERY_VERSIONS[version];
  }
  return 's3';
}

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
  services: Record<string, ServiceHandler>,
  log: (message: string) => void,
): Promise<EdgeEndpoint> {
  const interceptors = new Map<string, EdgeInterceptor>();
  const handle = (req: ServerRequest, res: ServerResponse): void => {
    void (async () => {
      let response: LocalResponse;
      try {
        const request = await readRequest(req);
        // HTTP/2 carries the host as :authority; signatures (SigV4 signs `host`) need it back.
        if (!request.headers.host && 'authority' in req && req.authority) request.headers.host = req.authority;
        const service = serviceOf(request);
        const handler = services[service];
        const intercepted = await interceptors.get(service)?.(request);
        response = intercepted ?? (handler
          ? await handler(request)
          : json(501, { __type: 'NotImplemented', message: `The local cloud does not emulate the ${service} API` }));
      } catch (error) {
        log(`edge: ${(error as Error).message}`);
        response = json(500, { __type: 'InternalFailure', message: 'local cloud error' });
      }
      if (!res.headersSent) sendResponse(res, response);
    })();
  };

  const h1 = http.createServer(handle);
  h1.keepAliveTimeout = 60_000;
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
