import { createHmac } from 'node:crypto';
import type { BufferedRequest } from '../../../../infra/local-cloud/aws-protocol/http';
import { parseAuth, uriEncode, v4SigningKey, verifyChunkSignatures, verifySignature } from '../../../../infra/local-cloud/auth/sigv4';
import { AKID, HOST, presigned, SECRET, signed, type SignInput } from '../signing';

describe('SigV4 verification', () => {
  it('verifies requests signed by @smithy/signature-v4 (empty, signed and unsigned payloads, odd keys, query)', async () => {
    const cases: SignInput[] = [
      { path: '/bucket', query: { 'list-type': '2', prefix: 'oem-a/', delimiter: '/' } },
      { path: `/bucket/${['oem-a', 'a file+(1)*.csv'].map(uriEncode).join('/')}` },
      { method: 'PUT', path: '/bucket/oem-a/x.csv', body: 'a,b\n1,2\n', headers: { 'content-type': 'text/csv' } },
      { method: 'PUT', path: '/bucket/oem-a/y.csv', body: 'unsigned', unsignedPayload: true },
      { path: '/' },
    ];
    for (const input of cases) {
      const request = await signed(input);
      const parsed = parseAuth(request)!;
      expect(parsed).toMatchObject({ kind: 'header-v4', accessKeyId: AKID, scope: { region: 'us-east-1', service: 's3' } });
      expect(verifySignature(request, parsed, SECRET, { s3: true })).toMatchObject({ ok: true });
    }
  });

  it('refuses a wrong secret, a tampered path, query, header or body', async () => {
    const request = await signed({ method: 'PUT', path: '/bucket/oem-a/x.csv', body: 'payload', headers: { 'x-amz-meta-a': '1' } });
    const check = (r: BufferedRequest, secret = SECRET) => verifySignature(r, parseAuth(r)!, secret, { s3: true });
    expect(check(request)).toMatchObject({ ok: true });
    expect(check(request, 'another-secret')).toMatchObject({ ok: false, status: 403, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, url: '/bucket/oem-b/x.csv' })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, url: `${request.url}?acl` })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, method: 'DELETE' })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, headers: { ...request.headers, 'x-amz-meta-a': '2' } })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(check({ ...request, body: Buffer.from('other') })).toMatchObject({ ok: false, status: 400, code: 'XAmzContentSHA256Mismatch' });
  });

  it('refuses a request signed too long ago', async () => {
    const request = await signed({ path: '/bucket/k' });
    const parsed = parseAuth(request)!;
    expect(verifySignature(request, parsed, SECRET, { s3: true, nowMs: Date.now() + 16 * 60_000 })).toMatchObject({ ok: false, code: 'RequestTimeTooSkewed' });
  });

  it('verifies a presigned URL until it expires, and refuses a tampered one', async () => {
    const request = await presigned({ path: '/bucket/oem-a/x.csv' }, 60);
    const parsed = parseAuth(request)!;
    expect(parsed).toMatchObject({ kind: 'query-v4', accessKeyId: AKID, expiresSeconds: 60 });
    expect(verifySignature(request, parsed, SECRET, { s3: true })).toMatchObject({ ok: true });
    expect(verifySignature(request, parsed, SECRET, { s3: true, nowMs: Date.now() + 61_000 })).toMatchObject({ ok: false, code: 'AccessDenied', message: 'Request has expired' });
    const tampered = { ...request, url: request.url.replace('oem-a', 'oem-b') };
    expect(verifySignature(tampered, parseAuth(tampered)!, SECRET, { s3: true })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
  });

  // The examples of the S3 documentation, "Authenticating Requests (AWS Signature Version 4)".
  const exampleTime = Date.UTC(2013, 4, 24, 0, 0, 30);

  it('reproduces the documented GET object example', () => {
    const request: BufferedRequest = {
      method: 'GET',
      url: '/test.txt',
      headers: {
        host: 'examplebucket.s3.amazonaws.com',
        range: 'bytes=0-9',
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-amz-date': '20130524T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
      },
      body: Buffer.alloc(0),
    };
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: true, nowMs: exampleTime })).toMatchObject({ ok: true });
  });

  it('reproduces the documented presigned URL example', () => {
    const request: BufferedRequest = {
      method: 'GET',
      url: `/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${AKID}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404`,
      headers: { host: 'examplebucket.s3.amazonaws.com' },
      body: Buffer.alloc(0),
    };
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: true, nowMs: exampleTime })).toMatchObject({ ok: true });
  });

  it('reproduces the documented chunked upload example, and refuses a tampered chunk', () => {
    const chunk = (data: Buffer, signature: string) => Buffer.concat([Buffer.from(`${data.length.toString(16)};chunk-signature=${signature}\r\n`), data, Buffer.from('\r\n')]);
    const body = Buffer.concat([
      chunk(Buffer.alloc(65536, 'a'), 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648'),
      chunk(Buffer.alloc(1024, 'a'), '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497'),
      chunk(Buffer.alloc(0), 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9'),
    ]);
    const request: BufferedRequest = {
      method: 'PUT',
      url: '/examplebucket/chunkObject.txt',
      headers: {
        host: 's3.amazonaws.com',
        'x-amz-date': '20130524T000000Z',
        'x-amz-storage-class': 'REDUCED_REDUNDANCY',
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '66560',
        'content-length': '66824',
        authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`,
      },
      body,
    };
    expect(body.length).toBe(66824);
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: true, nowMs: exampleTime })).toMatchObject({ ok: true });
    const tampered = Buffer.from(body);
    tampered[100] = 'b'.charCodeAt(0);
    expect(verifySignature({ ...request, body: tampered }, parseAuth(request)!, SECRET, { s3: true, nowMs: exampleTime })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    const key = v4SigningKey(SECRET, '20130524', 'us-east-1', 's3');
    expect(verifyChunkSignatures(body, '0'.repeat(64), key, '20130524T000000Z', '20130524/us-east-1/s3/aws4_request')).toMatchObject({ ok: false });
  });

  it('verifies S3 Signature Version 2 (the documented example, path-style) and refuses a wrong one', () => {
    const date = 'Tue, 27 Mar 2007 19:36:42 +0000';
    const stringToSign = `GET\n\n\n${date}\n/johnsmith/photos/puppy.jpg`;
    const signature = createHmac('sha1', SECRET).update(stringToSign).digest('base64');
    expect(signature).toBe('bWq2s1WEIj+Ydj0vQ697zp+IXMU=');
    const request: BufferedRequest = { method: 'GET', url: '/johnsmith/photos/puppy.jpg', headers: { host: HOST, date, authorization: `AWS ${AKID}:${signature}` }, body: Buffer.alloc(0) };
    const at = Date.parse(date);
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: true, nowMs: at })).toMatchObject({ ok: true });
    expect(verifySignature({ ...request, url: '/johnsmith/photos/kitten.jpg' }, parseAuth(request)!, SECRET, { s3: true, nowMs: at })).toMatchObject({ ok: false, code: 'SignatureDoesNotMatch' });
    expect(verifySignature(request, parseAuth(request)!, SECRET, { s3: false, nowMs: at })).toMatchObject({ ok: false, code: 'InvalidArgument' });
  });
});
