import { KinesisClient, ListShardsCommand, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { COLUMNS, csvRow, headerRow } from '../../lambdas/domain/export/csv';
import { EVENT_TYPES, validateEvent, type EventType } from '../../lambdas/domain/device-events';
import type { ExportCredentials } from '../../lambdas/domain/credentials/credentials';
import { generateEvents } from '../../tools/simulator/fleet';
import { parseCsv } from '../helpers/csv-parse';
import { seedEvents } from '../unit/lambdas/domain/export/seed-events';
import { openDeployment, type Deployment } from './deployment';
import { eventually } from './local-cloud-helpers';

/**
 * The two-stage export end to end, through the public contract only (stream, bucket, API): events put on
 * several shards come out, a window after they arrived, as exactly one CSV per OEM, type and window.
 * The deployment runs with one-minute windows, so this suite waits for one or two windows to close.
 */
jest.setTimeout(300_000);

const GRACE_SECONDS = 2;
const CONTEXT = {
  exportWindowMinutes: '1',
  exportCompactionDelaySeconds: String(GRACE_SECONDS),
  exportCompactionPartitions: '3',
  exportBatchingWindowSeconds: '1',
  eventStreamCapacity: '4',
};

let deployment: Deployment;
let s3: S3Client;
let kinesis: KinesisClient;
let bucket: string;

beforeAll(async () => {
  deployment = await openDeployment({ context: CONTEXT });
  s3 = new S3Client({ ...deployment.aws, forcePathStyle: true });
  kinesis = new KinesisClient({ ...deployment.aws, requestHandler: new NodeHttpHandler() });
  bucket = deployment.outputs.ExportBucketName!;
});

afterAll(async () => {
  s3?.destroy();
  kinesis?.destroy();
  await deployment?.stop();
});

async function listKeys(prefix: string, client = s3): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

const read = async (key: string, client = s3) => (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf-8');

async function put(entries: PutRecordsRequestEntry[]): Promise<string[]> {
  const shards = new Set<string>();
  const sequenceNumbers: string[] = [];
  for (let i = 0; i < entries.length; i += 500) {
    const { Records = [], FailedRecordCount } = await kinesis.send(new PutRecordsCommand({ StreamName: deployment.outputs.EventStreamName, Records: entries.slice(i, i + 500) }));
    expect(FailedRecordCount ?? 0).toBe(0);
    for (const r of Records) {
      sequenceNumbers.push(r.SequenceNumber!);
      shards.add(r.ShardId!);
    }
  }
  // The events must really cross several shards (and so several stage-1 invocations at once).
  expect(shards.size).toBeGreaterThan(1);
  return sequenceNumbers;
}

const entry = (event: unknown, key: string): PutRecordsRequestEntry => ({ PartitionKey: key, Data: Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)) });

const FILE = /^([^/]+)\/([a-z]+)\/(\d{4})-(\d{2})-(\d{2})-(\d{2}):(\d{2}):(\d{2})\/([^/]+)_([a-z]+)_(\d{8}T\d{6}Z)\.csv$/;

interface ExportFile {
  key: string;
  oemId: string;
  type: EventType;
  /** When the file's window ended (its folder names window end + grace). */
  windowEnd: number;
  rows: string[][];
}

/** Every export file under `<oem>/` (its rejects aside), checked for layout and header. */
async function exportFiles(oemId: string): Promise<ExportFile[]> {
  const keys = (await listKeys(`${oemId}/`)).filter((k) => !k.startsWith(`${oemId}/_errors/`));
  return Promise.all(keys.map(async (key) => {
    const m = FILE.exec(key);
    if (!m) throw new Error(`not an export file key: ${key}`);
    const type = m[2] as EventType;
    expect(EVENT_TYPES).toContain(type);
    expect([m[1], m[9], m[10]]).toEqual([oemId, oemId, type]);
    const folder = Date.UTC(Number(m[3]), Number(m[4]) - 1, Number(m[5]), Number(m[6]), Number(m[7]), Number(m[8]));
    // Part 0 of a window sits at its end plus the grace; a file larger than the cap would add parts.
    expect(Number(m[8])).toBe(GRACE_SECONDS);
    const text = await read(key);
    expect(text.split('\r\n')[0]).toBe(headerRow(type));
    return { key, oemId, type, windowEnd: folder - GRACE_SECONDS * 1000, rows: parseCsv(text).slice(1) };
  }));
}

function expectedRow(event: unknown): string {
  const result = validateEvent(event);
  if (!result.ok) throw new Error(result.reason);
  return parseCsv(`${csvRow(result.event, result.type)}\r\n`)[0]!.join(',');
}

const TIME_COLUMN: Record<EventType, string> = {
  datapoint: 'updated_at', datapointack: 'acked_at', connectivity: 'event_time', location: 'created_at', registration: 'unregistered_at',
};

describe('two-stage export of device events to S3', () => {
  const oems = ['oem-a', 'oem-b', 'oem-c'];
  let sequenceNumbers: string[];
  let entries: PutRecordsRequestEntry[];
  const expected = new Map(oems.map((o) => [o, new Set<string>()]));
  const rejectOfA = JSON.stringify({ ...seedEvents.location, metadata: { ...seedEvents.location.metadata, oem_id: 'oem-a' }, location_event: { broken: true } });

  beforeAll(async () => {
    const events = generateEvents({ oems, devicesPerOem: 8, seed: 17, count: 1500, start: new Date(Date.now() - 3_600_000), intervalMs: 1000 });
    for (const event of events) expected.get(event.metadata.oem_id)!.add(expectedRow(event));
    const invalid = ['not json', '{"metadata":{"oem_id":"oem-b","event_type":"datapoint"}}', rejectOfA];
    entries = [];
    events.forEach((event, i) => {
      entries.push(entry(event, event.metadata.dsn));
      if (i % 40 === 0) entries.push(entry(event, event.metadata.dsn)); // a duplicate, as DSS may send
      if (i % 500 === 0) entries.push(entry(invalid[(i / 500) % invalid.length]!, `bad-${i}`));
    });
    sequenceNumbers = await put(entries);
  });

  it('writes exactly one sorted CSV per OEM, type and window, with every valid event once and duplicates dropped', async () => {
    for (const oemId of oems) {
      const want = expected.get(oemId)!;
      const files = await eventually(async () => {
        const got = await exportFiles(oemId);
        return got.reduce((n, f) => n + f.rows.length, 0) >= want.size ? got : undefined;
      }, 240_000, `the export of ${oemId}`);
      const lines = files.flatMap((f) => f.rows.map((r) => r.join(',')));
      expect(lines).toHaveLength(want.size);
      expect(new Set(lines)).toEqual(want);
      for (const file of files) {
        for (const row of file.rows) expect(row[COLUMNS[file.type].indexOf('oem_id')]).toBe(oemId);
        // Rows without an event time (a registration never unregistered) are placed by arrival instead.
        const times = file.rows.map((r) => r[COLUMNS[file.type].indexOf(TIME_COLUMN[file.type])]!).filter((t) => t !== '');
        expect(times).toEqual([...times].sort());
      }
      const perWindow = new Set(files.map((f) => `${f.type}@${f.windowEnd}`));
      expect(perWindow.size).toBe(files.length);
    }
  });

  it('keeps invalid records with their reason under _errors/, and a valid OEM\'s rejects under <oem>/_errors/ for its own key only', async () => {
    const invalidSeq = entries.flatMap((e, i) => (e.PartitionKey!.startsWith('bad-') ? [sequenceNumbers[i]!] : []));
    const errors = await eventually(async () => {
      const found = (await Promise.all((await listKeys('_errors/')).map((k) => read(k)))).join('').split('\n').filter(Boolean)
        .map((l) => JSON.parse(l) as { sequenceNumber: string; reason: string });
      return invalidSeq.every((s) => found.some((f) => f.sequenceNumber === s)) ? found : undefined;
    }, 60_000, 'the invalid records under _errors/');
    for (const s of invalidSeq) expect(errors.find((e) => e.sequenceNumber === s)?.reason).toEqual(expect.any(String));

    const credentialsOf = async (oemId: string): Promise<ExportCredentials> => {
      const token = await deployment.token({ oemId, admin: true });
      const response = await fetch(`${deployment.apiUrl}/oems/${oemId}/data-export/credentials`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(200);
      return (await response.json()) as ExportCredentials;
    };
    const clientOf = (c: ExportCredentials) =>
      new S3Client({ region: c.region, endpoint: deployment.aws.endpoint, forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } });
    const ownerClient = clientOf(await credentialsOf('oem-a'));
    const otherClient = clientOf(await credentialsOf('oem-b'));
    try {
      const keys = await eventually(async () => {
        const k = await listKeys('oem-a/_errors/', ownerClient);
        return k.length > 0 ? k : undefined;
      }, 30_000, 'oem-a\'s rejects');
      const lines = (await Promise.all(keys.map((k) => read(k, ownerClient)))).join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { data: string });
      expect(lines.some((l) => Buffer.from(l.data, 'base64').toString() === rejectOfA)).toBe(true);
      await expect(read(keys[0]!, otherClient)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      await expect(listKeys('oem-a/_errors/', otherClient)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      // A reject goes only under the OEM it names: oem-b's own rejects hold none of oem-a's.
      const ofB = (await Promise.all((await listKeys('oem-b/_errors/')).map((k) => read(k)))).join('');
      expect(ofB).not.toContain(Buffer.from(rejectOfA).toString('base64'));
    } finally {
      ownerClient.destroy();
      otherClient.destroy();
    }
  });

  it('removes the staging of every compacted window', async () => {
    await eventually(async () => ((await listKeys('_staging/')).length === 0 ? true : undefined), 180_000, 'staging to be removed');
    expect(await listKeys('aws/')).toEqual([]);
  });

  it('spreads the stream over several shards', async () => {
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: deployment.outputs.EventStreamName }));
    expect(Shards.length).toBeGreaterThan(1);
  });
});
