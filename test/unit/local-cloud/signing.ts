import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';
import type { BufferedRequest } from '../../../infra/local-cloud/aws-protocol/http';
import { uriEncode } from '../../../infra/local-cloud/auth/sigv4';

/** Requests signed as the SDKs sign them, for the SigV4, S3, IAM and STS tests. */

type Data = string | ArrayBuffer | ArrayBufferView;

function toBuffer(data: Data): Buffer | string {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(new Uint8Array(data));
}

/** The SHA-256 (and HMAC) that @smithy/signature-v4 wants, from node:crypto (no @aws-crypto package here). */
export class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;

  constructor(private readonly secret?: Data) {
    this.hash = this.fresh();
  }

  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }

  update(data: Data): void {
    this.hash.update(toBuffer(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }
}

export const AKID = 'AKIAIOSFODNN7EXAMPLE';
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
export const HOST = '127.0.0.1:4566';

export interface SignInput {
  method?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  unsignedPayload?: boolean;
}

export function signer(credentials = { accessKeyId: AKID, secretAccessKey: SECRET }) {
  return new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
}

/** What an SDK sends: the request signed by @smithy/signature-v4, as the edge would buffer it. */
export async function signed(input: SignInput, credentials?: { accessKeyId: string; secretAccessKey: string }): Promise<BufferedRequest> {
  const body = input.body ?? '';
  const request = {
    method: input.method ?? 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4566,
    path: input.path,
    query: input.query ?? {},
    headers: {
      host: HOST,
      'x-amz-content-sha256': input.unsignedPayload ? 'UNSIGNED-PAYLOAD' : createHash('sha256').update(body).digest('hex'),
      ...input.headers,
    },
    body,
  };
  const out = await signer(credentials).sign(request);
  return buffered(out.method, out.path, out.query as Record<string, string>, out.headers, body);
}

export async function presigned(input: SignInput, expiresIn = 900, signingDate?: Date): Promise<BufferedRequest> {
  const request = {
    method: input.method ?? 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 4566, path: input.path,
    query: input.query ?? {}, headers: { host: HOST },
  };
  const out = await signer().presign(request, { expiresIn, ...(signingDate ? { signingDate } : {}) });
  return buffered(out.method, out.path, out.query as Record<string, string>, { host: HOST }, '');
}

export function buffered(method: string, pathname: string, query: Record<string, string>, headers: Record<string, string>, body: string): BufferedRequest {
  const qs = Object.entries(query).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, url: qs ? `${pathname}?${qs}` : pathname, headers: lower, body: Buffer.from(body) };
}
