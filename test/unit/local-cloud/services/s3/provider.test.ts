import { decodeAwsChunked } from '../../../../../infra/local-cloud/services/s3/provider';

describe('decodeAwsChunked', () => {
  it('joins the chunks of a signed streaming body and drops signatures and trailers', () => {
    const body = Buffer.from(
      '5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=000\r\nx-amz-checksum-crc32:AAAA\r\n\r\n',
    );
    expect(decodeAwsChunked(body).toString()).toBe('hello world');
  });

  it('keeps binary payloads intact, including CRLF inside chunks', () => {
    const payload = Buffer.from([0, 13, 10, 255, 13, 10]);
    const body = Buffer.concat([Buffer.from('6\r\n'), payload, Buffer.from('\r\n0\r\n\r\n')]);
    expect(decodeAwsChunked(body).equals(payload)).toBe(true);
  });

  it('rejects a body that is not chunked', () => {
    expect(() => decodeAwsChunked(Buffer.from('not chunked'))).toThrow(/malformed/);
  });
});
