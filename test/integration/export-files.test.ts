import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { folderTimestamp } from '../../lambdas/domain/export/windows';
import { openDeployment, type Deployment } from './deployment';

jest.setTimeout(180_000);

let deployment: Deployment;
let operator: S3Client;
let bucket: string;
const suffix = randomBytes(3).toString('hex');
const oemA = `files-a-${suffix}`;
const oemB = `files-b-${suffix}`;

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);
const fileKey = (oem: string, type: string, at: Date) => `${oem}/${type}/${folderTimestamp(at)}/${oem}_${type}_x.csv`;

// A datapoint file as the export writes it: display_name, resource_tags, metadata and string values in base64.
const HEADER = 'oem_id,oem_model,dsn,property_name,display_name,base_type,resource_tags,event_type,id,created_at_from_device,updated_at,created_at,user_uuid,echo,closed,value,metadata';
const row = (baseType: string, value: string) =>
  [oemA, 'm1', 'AC01', 'Blue_LED', b64('Blue LED'), baseType, b64('["kitchen"]'), 'datapoint', 'id-1', '', '2026-12-02T10:00:00Z', '2026-12-02T10:00:00Z', 'u', 'true', 'false', value, b64('{"k":"v"}')].join(',');
const CSV = [HEADER, row('string', b64('hello, world')), row('integer', '42'), row('integer', b64('{"a":1}')), row('boolean', 'true')].join('\r\n') + '\r\n';

const newest = fileKey(oemA, 'datapoint', minutesAgo(5));
const older = fileKey(oemA, 'datapoint', minutesAgo(65));

beforeAll(async () => {
  deployment = await openDeployment();
  bucket = deployment.outputs.ExportBucketName!;
  operator = new S3Client({ ...deployment.aws, forcePathStyle: true });
  for (const [key, body] of [
    [older, CSV],
    [newest, CSV],
    [fileKey(oemA, 'location', minutesAgo(10)), 'created_at\r\n2026-12-02T10:00:00Z\r\n'],
    [`${oemA}/_errors/2026/12/01/shard-1-2.jsonl`, '{"reason":"bad"}\n'],
    [`${oemA}/_errors/2026/12/02/shard-3-4.jsonl`, '{"reason":"bad"}\n'],
    [fileKey(oemB, 'datapoint', minutesAgo(5)), CSV],
    [`_staging/${suffix}/x.rows`, 'internal'],
  ]) {
    await operator.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
});

afterAll(async () => {
  operator?.destroy();
  await deployment?.stop();
});

async function get(path: string, oemId = oemA, admin = false): Promise<{ status: number; body: Record<string, unknown> }> {
  const token = await deployment.token({ oemId, admin });
  const response = await fetch(`${deployment.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

describe('export files API', () => {
  it('lists the OEM root: its event type folders and its own _errors, nothing else', async () => {
    const { status, body } = await get(`/oems/${oemA}/data-export/files`);
    expect(status).toBe(200);
    expect(body).toEqual({
      prefix: '',
      folders: [
        { name: '_errors', prefix: '_errors/' },
        { name: 'datapoint', prefix: 'datapoint/' },
        { name: 'location', prefix: 'location/' },
      ],
      files: [],
    });
  });

  it('lists timestamped folders newest first, then the file with its size and key', async () => {
    const { body } = await get(`/oems/${oemA}/data-export/files?${q({ prefix: 'datapoint/' })}`);
    const folders = body.folders as Array<{ name: string; prefix: string }>;
    expect(folders.map((f) => f.prefix)).toEqual([newest, older].map((k) => k.slice(oemA.length + 1).replace(/[^/]+$/, '')));
    const inner = await get(`/oems/${oemA}/data-export/files?${q({ prefix: folders[0]!.prefix })}`);
    expect(inner.body.folders).toEqual([]);
    expect(inner.body.files).toEqual([{ name: newest.split('/').at(-1), key: newest, size: Buffer.byteLength(CSV), lastModified: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);
    const errors = await get(`/oems/${oemA}/data-export/files?${q({ prefix: '_errors/2026/12/' })}`);
    expect((errors.body.folders as Array<{ name: string }>).map((f) => f.name)).toEqual(['02', '01']);
  });

  it('lets any member of the OEM browse (admin not required) and refuses another OEM with 403', async () => {
    expect((await get(`/oems/${oemA}/data-export/files`, oemA, false)).status).toBe(200);
    const other = await get(`/oems/${oemA}/data-export/files`, oemB, true);
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ code: 'NotOemMember' });
    expect((await get(`/oems/${oemA}/data-export/files/download?${q({ key: newest })}`, oemB)).status).toBe(403);
  });

  it('gives a presigned URL that downloads the file through S3 for 300 s, and is refused once expired', async () => {
    const before = Date.now();
    const { status, body } = await get(`/oems/${oemA}/data-export/files/download?${q({ key: newest })}`);
    expect(status).toBe(200);
    const expiresAt = Date.parse(body.expiresAt as string);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 299_000);
    const url = new URL(body.url as string);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    const download = await fetch(url);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe(CSV);
    // The same URL signed ten minutes ago: past its 300 s.
    const stale = new URL(url);
    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    stale.searchParams.set('X-Amz-Date', tenMinutesAgo);
    stale.searchParams.set('X-Amz-Credential', (stale.searchParams.get('X-Amz-Credential') ?? '').replace(/\/\d{8}\//, `/${tenMinutesAgo.slice(0, 8)}/`));
    expect((await fetch(stale)).status).toBe(403);
  });

  it('previews a CSV with the base64 columns decoded, numbers and booleans left as they are', async () => {
    const { status, body } = await get(`/oems/${oemA}/data-export/files/preview?${q({ key: newest, rows: '3' })}`);
    expect(status).toBe(200);
    expect(body.key).toBe(newest);
    expect(body.size).toBe(Buffer.byteLength(CSV));
    expect(body.columns).toEqual(HEADER.split(','));
    expect(body.decoded).toEqual(['display_name', 'resource_tags', 'value', 'metadata']);
    expect(body.truncated).toBe(true);
    const rows = body.rows as string[][];
    const col = (name: string) => HEADER.split(',').indexOf(name);
    expect(rows).toHaveLength(3);
    expect(rows[0]![col('display_name')]).toBe('Blue LED');
    expect(rows[0]![col('resource_tags')]).toBe('["kitchen"]');
    expect(rows[0]![col('metadata')]).toBe('{"k":"v"}');
    expect(rows[0]![col('value')]).toBe('hello, world');
    expect(rows[1]![col('value')]).toBe('42');
    expect(rows[2]![col('value')]).toBe('{"a":1}');
    const all = await get(`/oems/${oemA}/data-export/files/preview?${q({ key: newest })}`);
    expect(all.body.truncated).toBe(false);
    expect((all.body.rows as string[][])[3]![col('value')]).toBe('true');
  });

  it.each([
    ['a prefix without a trailing slash', `files?${q({ prefix: 'datapoint' })}`, 400],
    ['a prefix with ..', `files?${q({ prefix: '../' })}`, 400],
    ['a cursor it never gave', `files?${q({ prefix: 'datapoint/', cursor: '!!' })}`, 400],
    ['no key', 'files/download', 400],
    ['a key of another OEM', `files/download?${q({ key: fileKey(oemB, 'datapoint', minutesAgo(5)) })}`, 403],
    ['a pipeline key', `files/preview?${q({ key: `_staging/${suffix}/x.rows` })}`, 403],
    ['a key that climbs out', `files/preview?${q({ key: `${oemA}/../${oemB}/datapoint/x.csv` })}`, 403],
    ['rows out of range', `files/preview?${q({ key: newest, rows: '201' })}`, 400],
    ['a preview of a file that is not CSV', `files/preview?${q({ key: `${oemA}/_errors/2026/12/01/shard-1-2.jsonl` })}`, 400],
    ['a missing file', `files/preview?${q({ key: `${oemA}/datapoint/2020-01-01-00:00:00/none.csv` })}`, 404],
  ])('answers %s (%s) with %d and a code', async (_what, path, expected) => {
    const { status, body } = await get(`/oems/${oemA}/data-export/${path}`);
    expect(status).toBe(expected);
    expect(body).toEqual({ code: expect.any(String), message: expect.any(String) });
  });

  it('never answers a made-up prefix, cursor, key or rows with a 5xx', async () => {
    const token = await deployment.token({ oemId: oemA });
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.constantFrom('datapoint/', '_errors/', '../', '%00/', `${oemA}/`, 'x'.repeat(3000), `${oemA}/datapoint/${'a/'.repeat(600)}x.csv`, '-1', '1e400', '200', '0'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('files', 'files/download', 'files/preview'), fc.dictionary(fc.constantFrom('prefix', 'cursor', 'key', 'rows'), text, { maxKeys: 3 }), async (route, params) => {
        const response = await fetch(`${deployment.apiUrl}/oems/${oemA}/data-export/${route}?${new URLSearchParams(params)}`, { headers: { authorization: `Bearer ${token}` } });
        const answer = await response.text();
        if (response.status >= 500) throw new Error(`${response.status} ${answer}`);
      }),
      { numRuns: 150 },
    );
  });
});
