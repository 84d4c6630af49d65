import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import http from 'node:http';
import type { AwsClientConfig } from '../../cloudformation/deploy';
import { closeServer, listen, readRequest, sendResponse, type BufferedRequest, type LocalResponse } from '../../aws-protocol/http';
import type { LocalService, ServiceEnvironment } from '../../service';
import { distributionsFromTemplate, type LocalDistribution } from './deploy';

export interface CloudFrontService extends LocalService {
  /** Where the distribution is served: its `DomainName` is this URL's host. */
  readonly url: string;
}

/**
 * CloudFront for the template's distribution, on its own port: GET and HEAD of the S3 origin's objects, the
 * default root object, custom error responses (SPA routing: a missing key is `/index.html` with 200), and the
 * response headers policy's security headers on every answer. HTTP only, as everything on 127.0.0.1 is.
 */
export async function startCloudFront(env: ServiceEnvironment, options: { port: number }): Promise<CloudFrontService> {
  let distribution: LocalDistribution | undefined;
  let s3: S3Client | undefined;
  const handle = async (request: BufferedRequest): Promise<LocalResponse> => {
    if (!distribution || !s3) return { status: 503, headers: { 'content-type': 'text/plain' }, body: 'The console is not deployed yet\n' };
    const headers = distribution.headers;
    if (request.method !== 'GET' && request.method !== 'HEAD') return { status: 403, headers: { ...headers, 'content-type': 'text/plain' }, body: 'Method not allowed\n' };
    let key: string;
    try {
      key = decodeURIComponent(new URL(request.url, 'http://local').pathname).slice(1);
    } catch {
      return { status: 400, headers: { ...headers, 'content-type': 'text/plain' }, body: 'Bad request\n' };
    }
    if (key === '') key = distribution.defaultRootObject;
    let found = await getObject(s3, distribution.bucket, key);
    let status = 200;
    if (typeof found === 'number') {
      const error = distribution.errorResponses.get(found);
      if (!error) return { status: found, headers: { ...headers, 'content-type': 'text/plain' }, body: found === 404 ? 'Not found\n' : 'Access denied\n' };
      status = error.status;
      found = await getObject(s3, distribution.bucket, error.pagePath.replace(/^\//, ''));
      if (typeof found === 'number') return { status: found, headers: { ...headers, 'content-type': 'text/plain' }, body: 'Not found\n' };
    }
    return {
      status,
      headers: { ...headers, 'content-type': found.contentType, etag: found.etag, 'cache-control': found.cacheControl ?? 'no-cache', 'content-length': String(found.body.length) },
      body: request.method === 'HEAD' ? Buffer.alloc(0) : found.body,
    };
  };
  const server = http.createServer((req, res) => {
    void readRequest(req, 1024 * 1024).then(handle).then(
      (response) => sendResponse(res, response),
      (error: Error) => {
        env.log(`cloudfront: ${req.method} ${req.url} failed: ${error.message}`);
        if (!res.headersSent) sendResponse(res, { status: 502, headers: { 'content-type': 'text/plain' }, body: 'Bad gateway\n' });
      },
    );
  });
  const url = `http://127.0.0.1:${await listen(server, options.port)}`;
  return {
    name: 'cloudfront',
    url,
    deploy: async (stack, context) => {
      const distributions = distributionsFromTemplate(stack, context.log);
      if (distributions.length > 1) context.log(`the local cloud serves one distribution: ${distributions[0]!.id}; others are ignored`);
      distribution = distributions[0];
      s3 ??= s3Client(context.client);
    },
    close: async () => {
      s3?.destroy();
      await closeServer(server);
    },
  };
}

function s3Client(client: AwsClientConfig): S3Client {
  return new S3Client({ ...client, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

interface Found {
  body: Buffer;
  contentType: string;
  etag: string;
  cacheControl?: string;
}

/** The object, or the status S3 answered CloudFront with (403 for a missing key without s3:ListBucket, as OAC gets). */
async function getObject(s3: S3Client, bucket: string, key: string): Promise<Found | number> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return {
      body: Buffer.from(await out.Body!.transformToByteArray()),
      contentType: out.ContentType ?? 'application/octet-stream',
      etag: out.ETag ?? '',
      ...(out.CacheControl ? { cacheControl: out.CacheControl } : {}),
    };
  } catch (error) {
    if (error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404)) return 403;
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403) return 403;
    throw error;
  }
}
