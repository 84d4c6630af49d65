import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { COLUMNS, csvRow, headerRow } from '../../lambdas/domain/export/csv';
import { exportKey } from '../../lambdas/domain/export/layout';
import { EVENT_TYPES, validateEvent, type EventType } from '../../lambdas/domain/device-events';
import type { LocalCloud } from '../../infra/local-cloud/local-cloud';
import { s3Error } from '../../infra/local-cloud/aws-protocol/errors';
import { generateEvents } from '../../tools/simulator/fleet';
import { parseCsv } from '../helpers/csv-parse';
import { seedEvents } from '../unit/lambdas/domain/export/seed-events';
import { eventually, startTestCloud } from './local-cloud-helpers';

jest.setTimeout(180_000);

let cloud: LocalCloud;
let s3: S3Client;
let kinesis: KinesisClient;
let bucket: string;

beforeAll(async () => {
  cloud = await startTestCloud({ context: { exportBatchingWindowSeconds: '1' } });
  const config = { region: cloud.region, endpoint: cloud.edgeUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  s3 = new S3Client({ ...config, forcePathStyle: true });
  kinesis = new KinesisClient(config);
  bucket = cloud.outputs.ExportBucketName!;
});

afterAll(async () => {
  s3?.destroy();
  kinesis?.destroy();
  await cloud?.stop();
});

async function listKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

const read = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf-8');

async function put(entries: PutRecordsRequestEntry[]): Promise<string[]> {
  const sequenceNumbers: string[] = [];
  for (let i = 0; i < entries.length; i += 500) {
    const { Records = [], FailedRecordCount } = await kinesis.send(new PutRecordsCommand({ StreamName: cloud.outputs.EventStreamName, Records: entries.slice(i, i + 500) }));
    expect(FailedRecordCount ?? 0).toBe(0);
    sequenceNumbers.push(...Records.map((r) => r.SequenceNumber!));
  }
  return sequenceNumbers;
}

const entry = (event: unknown, key: string): PutRecordsRequestEntry => ({ PartitionKey: key, Data: Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)) });

/** Every row exported under `<oem>/`, with the file it is in; checks the layout on the way. */
async function exportedRows(oemId: string): Promise<Array<{ key: string; type: EventType; fields: string[]; line: string }>> {
  const keys = await listKeys(`${oemId}/`);
  const rows: Array<{ key: string; type: EventType; fields: string[]; line: string }> = [];
  for (const key of keys) {
    const match = new RegExp(`^${oemId}/([a-z]+)/(\\d{4}-\\d{2}-\\d{2}-\\d{2}:\\d{2}:\\d{2})/${oemId}_([a-z]+)_\\d{8}T\\d{6}Z\\.csv$`).exec(key);
    expect(match).not.toBeNull();
    const type = match![1] as EventType;
    expect(EVENT_TYPES).toContain(type);
    expect(match![3]).toBe(type);
    const text = await read(key);
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(headerRow(type));
    for (const fields of parseCsv(text).slice(1)) rows.push({ key, type, fields, line: fields.join(',') });
  }
  return rows;
}

function expectOneCsvPerFolder(keys: string[]): void {
  const folders = keys.map((k) => k.slice(0, k.lastIndexOf('/')));
  expect(new Set(folders).size).toBe(folders.length);
}

/** The rows the exporter must write for an event, as field lists (no quoting involved). */
function expectedRow(event: unknown): string {
  const result = validateEvent(event);
  if (!result.ok) throw new Error(result.reason);
  return parseCsv(`${csvRow(result.event, result.type)}\r\n`)[0]!.join(',');
}

describe('export of device events to S3', () => {
  it('exports thousands of mixed events: one CSV per folder, every valid event once, invalid ones to the error prefix, OEMs apart', async () => {
    const oems = ['oem-a', 'oem-b', 'oem-c'];
    const events = generateEvents({ oems, devicesPerOem: 5, seed: 7, count: 3000, start: new Date(Date.UTC(2026, 10, 22, 8)), intervalMs: 1000 });
    const expected = new Map(oems.map((o) => [o, new Map<string, number>()]));
    for (const event of events) {
      const rows = expected.get(event.metadata.oem_id)!;
      const row = expectedRow(event);
      rows.set(row, (rows.get(row) ?? 0) + 1);
    }

    const invalid = [
      'not json',
      '{"metadata":{"oem_id":"oem-a","event_type":"datapoint"}}',
      JSON.stringify({ ...seedEvents.location, metadata: { ...seedEvents.location.metadata, oem_id: 'aws' } }),
      JSON.stringify({ ...seedEvents.connectivity, metadata: { ...seedEvents.connectivity.metadata, event_type: 'unknown' } }),
      JSON.stringify({ ...seedEvents.registration, metadata: { ...seedEvents.registration.metadata, oem_id: '../oem-b' } }),
    ];
    const entries: PutRecordsRequestEntry[] = [];
    events.forEach((event, i) => {
      entries.push(entry(event, event.metadata.dsn));
      if (i % 50 === 0) entries.push(entry(event, event.metadata.dsn)); // a duplicate, as DSS may send
      if (i % 300 === 0) entries.push(entry(invalid[(i / 300) % invalid.length]!, `bad-${i}`));
    });
    const sequenceNumbers = await put(entries);
    const invalidSequenceNumbers = entries.flatMap((e, i) => (e.PartitionKey!.startsWith('bad-') ? [sequenceNumbers[i]!] : []));

    for (const oemId of oems) {
      const want = expected.get(oemId)!;
      const rows = await eventually(async () => {
        const got = await exportedRows(oemId);
        return new Set(got.map((r) => r.line)).size >= want.size ? got : undefined;
      }, 60_000, `the export of ${oemId}`);
      // Each event exactly once; events identical in every column (the same device registering
      // twice) at least once and never more often than sent.
      const found = new Map<string, number>();
      for (const row of rows) found.set(row.line, (found.get(row.line) ?? 0) + 1);
      expect(new Set(found.keys())).toEqual(new Set(want.keys()));
      expect([...found].filter(([line, count]) => count > want.get(line)!)).toEqual([]);
      for (const row of rows) expect(row.fields[COLUMNS[row.type].indexOf('oem_id')]).toBe(oemId);
      expectOneCsvPerFolder([...new Set(rows.map((r) => r.key))]);
    }

    const errors = await eventually(async () => {
      const lines = (await Promise.all((await listKeys('_errors/')).map(read))).join('').trim().split('\n').filter(Boolean);
      const found = lines.map((l) => JSON.parse(l) as { sequenceNumber: string; reason: string });
      return invalidSequenceNumbers.every((s) => found.some((f) => f.sequenceNumber === s)) ? found : undefined;
    }, 20_000, 'the invalid records under _errors/');
    for (const s of invalidSequenceNumbers) expect(errors.find((e) => e.sequenceNumber === s)?.reason).toEqual(expect.any(String));
    expect(await listKeys('aws/')).toEqual([]);
  });

  it('retries S3 failures and loses nothing', async () => {
    let injected = 0;
    cloud.intercept('s3', async (request) => {
      if (request.method === 'PUT' && request.url.includes('/oem-fault/') && injected < 5) {
        injected++;
        return s3Error(503, 'SlowDown', 'Please reduce your request rate.');
      }
      return undefined;
    });
    try {
      const events = generateEvents({ oems: ['oem-fault'], devicesPerOem: 3, seed: 11, count: 200, start: new Date(Date.UTC(2026, 10, 22, 9)), intervalMs: 1000 });
      await put(events.map((e) => entry(e, e.metadata.dsn)));
      const want = new Set(events.map(expectedRow));
      const rows = await eventually(async () => {
        const got = await exportedRows('oem-fault');
        return got.length >= want.size ? got : undefined;
      }, 60_000, 'the export after S3 faults');
      expect(injected).toBe(5);
      expect(rows).toHaveLength(want.size);
      expect(new Set(rows.map((r) => r.line))).toEqual(want);
      expectOneCsvPerFolder([...new Set(rows.map((r) => r.key))]);
    } finally {
      cloud.intercept('s3', undefined);
    }
  });

  const exporter = () => [...cloud.functions.values()].find((f) => f.definition.logicalId.startsWith('ExporterFunction'))!;

  function batch(shardId: string, events: unknown[], firstSeq: bigint): KinesisStreamEvent {
    return {
      Records: events.map((event, i) => ({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'dsn',
          sequenceNumber: String(firstSeq + BigInt(i)),
          data: Buffer.from(JSON.stringify(event)).toString('base64'),
          approximateArrivalTimestamp: Date.now() / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${shardId}:${firstSeq + BigInt(i)}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/test',
        awsRegion: cloud.region,
        eventSourceARN: cloud.outputs.EventStreamArn!,
      })),
    };
  }

  const withOem = (oemId: string, id: string) => ({
    ...seedEvents.datapoint,
    metadata: { ...seedEvents.datapoint.metadata, oem_id: oemId },
    datapoint: { ...seedEvents.datapoint.datapoint, id },
  });

  it('adds no file when a batch is delivered again', async () => {
    const event = batch('shardId-000000000042', [withOem('oem-redeliver', 'a'), withOem('oem-redeliver', 'b')], 4_900_000_000_000n);
    for (let delivery = 0; delivery < 3; delivery++) {
      const result = await exporter().invoke(event);
      expect(result).toMatchObject({ ok: true, payload: { batchItemFailures: [] } as KinesisStreamBatchResponse });
    }
    const keys = await listKeys('oem-redeliver/');
    expect(keys).toHaveLength(1);
    expect(parseCsv(await read(keys[0]!))).toHaveLength(3);
  });

  it('puts two writers of the same OEM and type in the same second into two folders', async () => {
    // Occupy the next few seconds' folders as another writer would, then race two shards.
    const now = Math.floor(Date.now() / 1000) * 1000;
    const taken = [0, 1, 2].map((s) => exportKey('oem-race', 'datapoint', new Date(now + s * 1000)));
    for (const key of taken) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'other writer' }));
    const results = await Promise.all([
      exporter().invoke(batch('shardId-000000000050', [withOem('oem-race', 'x')], 5_000_000n)),
      exporter().invoke(batch('shardId-000000000051', [withOem('oem-race', 'y')], 6_000_000n)),
    ]);
    for (const result of results) expect(result).toMatchObject({ ok: true, payload: { batchItemFailures: [] } });
    const keys = await listKeys('oem-race/');
    expect(keys).toHaveLength(5);
    expectOneCsvPerFolder(keys);
    for (const key of taken) expect(await read(key)).toBe('other writer');
    const written = keys.filter((k) => !taken.includes(k));
    const ids = await Promise.all(written.map(async (k) => parseCsv(await read(k))[1]![COLUMNS.datapoint.indexOf('id')]));
    expect(ids.sort()).toEqual(['x', 'y']);
  });
});
