import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { JWK } from 'jose';
import {
  answerParserErrors, closeServer, json, listen, readRequest, requestLineAndHeaderBytes, RequestTooLargeError, sendResponse, type BufferedRequest, type LocalResponse,
} from '../../aws-protocol/http';
import type { InvocationResult } from '../lambda/runtime';
import { TokenRejectedError, verifyJwt } from './local-issuer';

export interface JwtAuthorizerSettings {
  issuer: string;
  audience: string[];
  /** Where the token is, e.g. `$request.header.Authorization`. */
  identitySource: string;
}

export interface HttpRoute {
  /** `GET /health`, `ANY /x/{proxy+}` or `$default`. */
  routeKey: string;
  invoke: (event: APIGatewayProxyEventV2) => Promise<InvocationResult>;
  authorizer?: JwtAuthorizerSettings;
  authorizationScopes?: string[];
}

/** The API's CORS configuration (`CorsConfiguration` of `AWS::ApiGatewayV2::Api`). */
export interface CorsSettings {
  allowOrigins: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: number;
  allowCredentials?: boolean;
}

export interface HttpApiSettings {
  cors?: CorsSettings;
  apiId: string;
  stage: string;
  routes: HttpRoute[];
  /** Public key of the local issuer that stands in for the user pool. */
  publicJwk: JWK;
  accountId: string;
  /** Integration timeout, as API Gateway's (30 s maximum). */
  integrationTimeoutMs?: number;
}

/** HTTP API quotas: payload size, and the request line with the header values. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const MAX_REQUEST_LINE_AND_HEADER_BYTES = 10_240;
const MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

interface CompiledRoute extends HttpRoute {
  method: string;
  segments: string[];
  greedy: boolean;
}

function compile(route: HttpRoute): CompiledRoute {
  if (route.routeKey === '$default') return { ...route, method: 'ANY', segments: [], greedy: true };
  const [method = 'ANY', routePath = '/'] = route.routeKey.split(' ');
  const segments = routePath.split('/').filter(Boolean);
  return { ...route, method, segments, greedy: segments.at(-1)?.endsWith('+}') ?? false };
}

/** Path parameters when `route` matches the decoded path segments, else undefined. */
function match(route: CompiledRoute, segments: string[]): Record<string, string> | undefined {
  if (route.routeKey === '$default') return {};
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const pattern = route.segments[i]!;
    if (pattern.startsWith('{') && pattern.endsWith('+}')) {
      if (i >= segments.length) return undefined;
      params[pattern.slice(1, -2)] = segments.slice(i).join('/');
      return params;
    }
    const value = segments[i];
    if (value === undefined) return undefined;
    if (pattern.startsWith('{') && pattern.endsWith('}')) params[pattern.slice(1, -1)] = value;
    else if (pattern !== value) return undefined;
  }
  return segments.length === route.segments.length ? params : undefined;
}

/** API Gateway's order: most literal segments first, greedy and `$default` last, a method before ANY. */
function specificity(route: CompiledRoute): number[] {
  if (route.routeKey === '$default') return [-1, -1, -1];
  const literal = route.segments.filter((s) => !s.startsWith('{')).length;
  return [route.greedy ? 0 : 1, literal, route.method === 'ANY' ? 0 : 1];
}

function compareSpecificity(a: CompiledRoute, b: CompiledRoute): number {
  const [x, y] = [specificity(a), specificity(b)];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i]! - x[i]!;
  return 0;
}

/** Routes in the order API Gateway tries them. */
export function compileRoutes<R extends HttpRoute>(routes: R[]): Array<R & CompiledRoute> {
  return routes.map((r) => ({ ...r, ...compile(r) })).sort(compareSpecificity);
}

/** The route API Gateway picks for a method and decoded path segments, with its path parameters. */
export function findRoute<R extends CompiledRoute>(routes: R[], method: string, segments: string[]): { route: R; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== 'ANY' && route.method !== method) continue;
    const params = match(route, segments);
    if (params) return { route, params };
  }
  return undefined;
}

/** API Gateway passes claims as strings; arrays as `[a b c]`. */
function stringifyClaims(payload: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    out[name] = Array.isArray(value) ? `[${value.map(String).join(' ')}]` : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
  }
  return out;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+(json|xml))/i;

/** What API Gateway answers itself, always a JSON message. */
const PARSER_ERRORS = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' } as const;

/**
 * The template's HTTP API, locally: routes mapped to the bundled handlers with payload format 2.0
 * events, and the JWT authorizer's checks. Every answer API Gateway makes itself is a JSON message as
 * there: 400, 404 `{"message":"Not Found"}` (no route; a method without a route is a 404 too, never a
 * 405), 401 `{"message":"Unauthorized"}`, 403 `{"message":"Forbidden"}`, 413, 431, 500 (function error),
 * 503 (integration timeout).
 */
export class LocalHttpApi {
  private routes: CompiledRoute[] = [];
  private settings: HttpApiSettings | undefined;
  private server: http.Server | undefined;

  constructor(private readonly log: (line: string) => void) {}

  /** Routes come from the template, which needs the API's URL first: bind, then configure. */
  configure(settings: HttpApiSettings): void {
    this.settings = settings;
    this.routes = compileRoutes(settings.routes);
  }

  async start(port: number): Promise<number> {
    this.server = http.createServer((req, res) => {
      const started = Date.now();
      void this.handle(req).then(
        (response) => {
          sendResponse(res, response);
          this.log(`${req.method} ${req.url} ${response.status} ${Date.now() - started}ms`);
        },
        (error: Error) => {
          this.log(`${req.method} ${req.url} failed: ${error.message}`);
          sendResponse(res, json(500, { message: 'Internal Server Error' }));
        },
      );
    });
    answerParserErrors(this.server, (status) => json(status, { message: PARSER_ERRORS[status] }));
    return listen(this.server, port);
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
  }

  /**
   * With a CORS configuration, API Gateway answers preflight requests itself (no route needed) and adds the
   * allowed origin to every answer; an origin not in the list gets no CORS headers and the browser refuses.
   */
  private async handle(req: http.IncomingMessage): Promise<LocalResponse> {
    const cors = this.settings?.cors;
    const origin = req.headers.origin;
    const allowed = cors && origin && (cors.allowOrigins.includes('*') || cors.allowOrigins.includes(origin)) ? cors : undefined;
    if (cors && req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      const headers: Record<string, string> = {};
      if (allowed) {
        headers['access-control-allow-origin'] = allowed.allowOrigins.includes('*') && !allowed.allowCredentials ? '*' : origin!;
        headers['access-control-allow-methods'] = (allowed.allowMethods ?? ['*']).join(',');
        if (allowed.allowHeaders) headers['access-control-allow-headers'] = allowed.allowHeaders.join(',');
        if (allowed.maxAge !== undefined) headers['access-control-max-age'] = String(allowed.maxAge);
        if (allowed.allowCredentials) headers['access-control-allow-credentials'] = 'true';
      }
      return { status: 204, headers };
    }
    const response = await this.answer(req);
    if (allowed) {
      response.headers = {
        ...response.headers,
        'access-control-allow-origin': allowed.allowOrigins.includes('*') && !allowed.allowCredentials ? '*' : origin!,
        ...(allowed.exposeHeaders ? { 'access-control-expose-headers': allowed.exposeHeaders.join(',') } : {}),
        ...(allowed.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
        vary: 'origin',
      };
    }
    return response;
  }

  private async answer(req: http.IncomingMessage): Promise<LocalResponse> {
    const settings = this.settings;
    if (!settings) return json(503, { message: 'Service Unavailable' });
    let request: BufferedRequest;
    try {
      request = await readRequest(req, MAX_REQUEST_BYTES);
    } catch (error) {
      if (error instanceof RequestTooLargeError) return json(413, { message: 'Request Entity Too Large' });
      throw error;
    }
    // Node's parser refuses past 16 KB (answered by answerParserErrors); API Gateway already past 10,240 bytes.
    if (requestLineAndHeaderBytes(req) > MAX_REQUEST_LINE_AND_HEADER_BYTES) return json(431, { message: PARSER_ERRORS[431] });
    const { body, headers } = request;
    const rawUrl = request.url;
    const queryAt = rawUrl.indexOf('?');
    const encodedPath = queryAt >= 0 ? rawUrl.slice(0, queryAt) : rawUrl;
    const rawQueryString = queryAt >= 0 ? rawUrl.slice(queryAt + 1) : '';
    let segments: string[];
    try {
      segments = encodedPath.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
    } catch {
      return json(400, { message: 'Bad Request' });
    }
    const { stage } = settings;
    if (stage !== '$default') {
      if (segments[0] !== stage) return json(404, { message: 'Not Found' });
      segments = segments.slice(1);
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const found = findRoute(this.routes, method, segments);
    if (!found) return json(404, { message: 'Not Found' });
    const { route, params } = found;

    let jwtContext: { claims: Record<string, string>; scopes: string[] | null } | undefined;
    if (route.authorizer) {
      const header = route.authorizer.identitySource.replace(/^\$request\.header\./i, '').toLowerCase();
      const token = (headers[header] ?? '').replace(/^Bearer\s+/i, '').trim();
      if (!token) return json(401, { message: 'Unauthorized' }, { 'www-authenticate': 'Bearer' });
      let payload: Record<string, unknown>;
      try {
        payload = await verifyJwt(token, settings.publicJwk, route.authorizer.issuer, route.authorizer.audience);
      } catch (error) {
        if (!(error instanceof TokenRejectedError)) throw error;
        this.log(`token refused: ${error.message}`);
        return json(401, { message: 'Unauthorized' }, { 'www-authenticate': 'Bearer error="invalid_token"' });
      }
      const scopes = String(payload.scope ?? payload.scp ?? '').split(' ').filter(Boolean);
      if (route.authorizationScopes?.length && !route.authorizationScopes.some((s) => scopes.includes(s))) {
        return json(403, { message: 'Forbidden' });
      }
      jwtContext = { claims: stringifyClaims(payload), scopes: scopes.length ? scopes : null };
    }

    const now = new Date();
    const queryStringParameters: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(rawQueryString)) {
      queryStringParameters[k] = k in queryStringParameters ? `${queryStringParameters[k]},${v}` : v;
    }
    const isText = body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
    const requestId = randomUUID();
    const requestContext: APIGatewayProxyEventV2['requestContext'] & { authorizer?: unknown } = {
      accountId: settings.accountId,
      apiId: settings.apiId,
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: (headers.host ?? '127').split('.')[0]!,
      http: {
        method,
        path: `/${segments.join('/')}`,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: route.routeKey,
      stage,
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(jwtContext ? { authorizer: { jwt: jwtContext } } : {}),
    };
    const { cookie, ...otherHeaders } = headers;
    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath: `/${segments.join('/')}`,
      rawQueryString,
      ...(cookie ? { cookies: cookie.split(/;\s*/) } : {}),
      headers: otherHeaders,
      ...(rawQueryString ? { queryStringParameters } : {}),
      ...(Object.keys(params).length ? { pathParameters: params } : {}),
      requestContext,
      ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: !isText,
    };

    const timeoutMs = settings.integrationTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      route.invoke(event),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (result === 'timeout') return json(503, { message: 'Service Unavailable' });
    if (!result.ok) {
      this.log(`integration error ${result.error.errorType}: ${result.error.errorMessage}`);
      return json(500, { message: 'Internal Server Error' }, { 'apigw-requestid': requestId });
    }
    return toHttpResponse(result.payload, requestId);
  }
}

/** Maps a Lambda result to HTTP as payload format 2.0 does, inferring 200/JSON when there is no statusCode. */
export function toHttpResponse(payload: unknown, requestId: string): LocalResponse {
  const structured = payload as APIGatewayProxyStructuredResultV2 | null;
  if (!structured || typeof structured !== 'object' || typeof structured.statusCode !== 'number') {
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return { status: 200, headers: { 'content-type': 'application/json', 'apigw-requestid': requestId }, body };
  }
  const body = structured.body === undefined ? Buffer.alloc(0) : structured.isBase64Encoded ? Buffer.from(structured.body, 'base64') : Buffer.from(structured.body);
  if (body.length > MAX_RESPONSE_BYTES) return json(500, { message: 'Internal Server Error' });
  const headers: Record<string, string | string[]> = { 'apigw-requestid': requestId };
  for (const [k, v] of Object.entries(structured.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  if (!headers['content-type'] && body.length) headers['content-type'] = 'application/json';
  return { status: structured.statusCode, headers, body };
}
