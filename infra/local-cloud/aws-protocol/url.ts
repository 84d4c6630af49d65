/** Reading request URLs as the AWS services do. */

/** `decodeURIComponent`, or the text as it is when it is not valid percent-encoding (services answer, not throw). */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** `path?query` → `[path, query]`. */
export function splitUrl(url: string): [string, string] {
  const at = url.indexOf('?');
  return at < 0 ? [url, ''] : [url.slice(0, at), url.slice(at + 1)];
}

/** The decoded query parameters of a URL, in order (`+` is a literal plus, as S3 reads it). */
export function queryParams(url: string): Array<[string, string]> {
  const query = splitUrl(url)[1];
  if (!query) return [];
  return query.split('&').filter(Boolean).map((pair) => {
    const at = pair.indexOf('=');
    return at < 0 ? [safeDecode(pair), ''] : [safeDecode(pair.slice(0, at)), safeDecode(pair.slice(at + 1))];
  });
}

/**
 * The bucket of a virtual-hosted-style S3 request to the local endpoint (`bucket.localhost:4566`,
 * `bucket.s3.localhost.localstack.cloud:4566`). S3 itself and SigV2 verification both read it.
 */
export function virtualHostedBucket(host: string | undefined): string | undefined {
  return /^(.+?)(?:\.s3)?\.localhost(?:\.localstack\.cloud)?(?::\d+)?$/.exec(host ?? '')?.[1];
}
