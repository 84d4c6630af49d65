import { forward, type LocalResponse } from '../../aws-protocol/http';
import { xmlEscape, xmlUnescape } from '../../aws-protocol/xml';

/**
 * Listings with a delimiter, done by the local cloud: s3rver reports a common prefix only for a
 * folder that holds objects directly, so `<oem>/` (which holds only `<type>/` folders) would list
 * as empty. The gateway pages through s3rver's flat listing and groups it as S3 does.
 */
interface ListedObject {
  key: string;
  xml: string;
}

/** Every object under `prefix`, in key order, with its `<Contents>` element as s3rver wrote it. */
async function allObjects(s3rverPort: number, bucket: string, prefix: string): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  let marker = '';
  for (;;) {
    const query = new URLSearchParams({ prefix, 'max-keys': '1000', ...(marker ? { marker } : {}) });
    const page = await forward(s3rverPort, { method: 'GET', url: `/${encodeURIComponent(bucket)}?${query}`, headers: {}, body: Buffer.alloc(0) });
    if (page.status !== 200) throw Object.assign(new Error('listing failed'), { response: page });
    const text = String(page.body);
    for (const match of text.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      const key = xmlUnescape(/<Key>([\s\S]*?)<\/Key>/.exec(match[1]!)![1]!);
      objects.push({ key, xml: match[1]! });
    }
    if (!/<IsTruncated>true<\/IsTruncated>/.test(text) || objects.length === 0) return objects;
    marker = objects[objects.length - 1]!.key;
  }
}

/** ListObjects (V1) or ListObjectsV2 with a delimiter, answered as S3 answers it. */
export async function listWithDelimiter(s3rverPort: number, bucket: string, params: URLSearchParams): Promise<LocalResponse> {
  const prefix = params.get('prefix') ?? '';
  const delimiter = params.get('delimiter')!;
  const v2 = params.get('list-type') === '2';
  const maxKeys = Math.min(Math.max(Number(params.get('max-keys') ?? 1000) || 0, 0), 1000);
  const urlEncoded = params.get('encoding-type') === 'url';
  const encode = (text: string) => (urlEncoded ? encodeURIComponent(text).replace(/%2F/g, '/') : xmlEscape(text));

  let objects: ListedObject[];
  try {
    objects = await allObjects(s3rverPort, bucket, prefix);
  } catch (error) {
    return (error as { response: LocalResponse }).response;
  }
  // One entry per object directly under the prefix, and one per common prefix, in key order.
  const entries: Array<{ name: string; object?: ListedObject }> = [];
  for (const object of objects) {
    const rest = object.key.slice(prefix.length);
    const at = rest.indexOf(delimiter);
    if (at < 0) entries.push({ name: object.key, object });
    else {
      const common = prefix + rest.slice(0, at + delimiter.length);
      if (entries[entries.length - 1]?.name !== common) entries.push({ name: common });
    }
  }
  const after = v2
    ? params.has('continuation-token') ? Buffer.from(params.get('continuation-token')!, 'base64url').toString('utf8') : params.get('start-after') ?? ''
    : params.get('marker') ?? '';
  const start = after ? entries.findIndex((e) => e.name > after) : 0;
  const page = start < 0 ? [] : entries.slice(start, start + maxKeys);
  const truncated = start >= 0 && start + maxKeys < entries.length;
  const last = page[page.length - 1]?.name;

  const body = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    `<Name>${xmlEscape(bucket)}</Name><Prefix>${encode(prefix)}</Prefix>`,
    v2 ? `<KeyCount>${page.length}</KeyCount>` : `<Marker>${encode(after)}</Marker>`,
    `<MaxKeys>${maxKeys}</MaxKeys><Delimiter>${encode(delimiter)}</Delimiter>`,
    urlEncoded ? '<EncodingType>url</EncodingType>' : '',
    `<IsTruncated>${truncated}</IsTruncated>`,
    v2 && params.has('continuation-token') ? `<ContinuationToken>${xmlEscape(params.get('continuation-token')!)}</ContinuationToken>` : '',
    v2 && params.has('start-after') ? `<StartAfter>${encode(params.get('start-after')!)}</StartAfter>` : '',
    truncated && last ? (v2 ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>` : `<NextMarker>${encode(last)}</NextMarker>`) : '',
    ...page.filter((e) => e.object).map((e) => `<Contents>${e.object!.xml.replace(/<Key>[\s\S]*?<\/Key>/, `<Key>${encode(e.name)}</Key>`)}</Contents>`),
    ...page.filter((e) => !e.object).map((e) => `<CommonPrefixes><Prefix>${encode(e.name)}</Prefix></CommonPrefixes>`),
    '</ListBucketResult>',
  ].join('');
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
}
