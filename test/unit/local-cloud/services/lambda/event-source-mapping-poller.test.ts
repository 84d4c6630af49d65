import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamEvent } from 'aws-lambda';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KinesisEventSourceMapping, type KinesisMappingSettings } from '../../../../../infra/local-cloud/services/lambda/event-source-mapping';
import type { InvocationResult } from '../../../../../infra/local-cloud/services/lambda/runtime';

/** An in-memory single-shard stream answering the three calls a poller makes. */
class FakeStream {
  readonly records: KinesisRecord[] = [];

  put(ids: string[], arrival = new Date()): void {
    for (const id of ids) {
      const seq = String(1000 + this.records.length);
      this.records.push({ SequenceNumber: seq, PartitionKey: 'dsn', Data: Buffer.from(id), ApproximateArrivalTimestamp: arrival });
    }
  }

  readonly client = {
    send: async (command: unknown): Promise<unknown> => {
      if (command instanceof ListShardsCommand) return { Shards: [{ ShardId: 'shardId-000000000000' }] };
      if (command instanceof GetShardIteratorCommand) {
        const { ShardIteratorType, StartingSequenceNumber } = command.input;
        const at = ShardIteratorType === 'AFTER_SEQUENCE_NUMBER'
          ? this.records.findIndex((r) => r.SequenceNumber === StartingSequenceNumber) + 1
          : ShardIteratorType === 'LATEST' ? this.records.length : 0;
        return { ShardIterator: String(at) };
      }
      if (command instanceof GetRecordsCommand) {
        const from = Number(command.input.ShardIterator);
        const page = this.records.slice(from, from + (command.input.Limit ?? 10_000));
        return { Records: page, NextShardIterator: String(from + page.length) };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as KinesisClient;
}

const ids = (event: KinesisStreamEvent) => event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString());

function settings(overrides: Partial<KinesisMappingSettings>): KinesisMappingSettings {
  return {
    uuid: '00000000-0000-4000-a000-000000000000',
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    streamName: 's',
    streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
    batchSize: 100,
    maxBatchingWindowSeconds: 0,
    bisectBatchOnFunctionError: false,
    maxRetryAttempts: -1,
    maxRecordAgeSeconds: -1,
    reportBatchItemFailures: true,
    startingPosition: 'TRIM_HORIZON',
    onFailureBucket: 'failures',
    region: 'us-east-1',
    ...overrides,
  };
}

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'mapping-'));
});
afterEach(() => rm(stateDir, { recursive: true, force: true }));

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function run(stream: FakeStream, overrides: Partial<KinesisMappingSettings>, invoke: (event: KinesisStreamEvent) => InvocationResult | Promise<InvocationResult>) {
  const batches: string[][] = [];
  const destination: Array<{ Key: string; body: { requestContext: { condition: string }; KinesisBatchInfo: { batchSize: number } } }> = [];
  const s3 = {
    send: async (command: unknown) => {
      if (!(command instanceof PutObjectCommand)) throw new Error('unexpected S3 command');
      destination.push({ Key: command.input.Key!, body: JSON.parse(String(command.input.Body)) });
      return {};
    },
  } as unknown as S3Client;
  const mapping = new KinesisEventSourceMapping(settings(overrides), {
    kinesis: stream.client,
    s3,
    stateDir,
    log: () => undefined,
    pollIntervalMs: 10,
    retryBaseDelayMs: 1,
    invoke: async (event) => {
      batches.push(ids(event));
      return invoke(event);
    },
  });
  return { mapping, batches, destination };
}

const success: InvocationResult = { ok: true, payload: null, requestId: 'r' };
const failure: InvocationResult = { ok: false, error: { errorType: 'Error', errorMessage: 'boom', trace: [] }, requestId: 'r' };

describe('KinesisEventSourceMapping', () => {
  it('invokes with at most BatchSize records per batch, in order', async () => {
    const stream = new FakeStream();
    stream.put(Array.from({ length: 25 }, (_, i) => `r${i}`));
    const { mapping, batches } = run(stream, { batchSize: 10 }, () => success);
    await mapping.start();
    await until(() => batches.flat().length === 25);
    await mapping.stop();
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    expect(batches.flat()).toEqual(Array.from({ length: 25 }, (_, i) => `r${i}`));
  });

  it('gathers records for the batching window before invoking', async () => {
    const stream = new FakeStream();
    stream.put(['a', 'b']);
    const { mapping, batches } = run(stream, { maxBatchingWindowSeconds: 1 }, () => success);
    const started = Date.now();
    await mapping.start();
    await new Promise((r) => setTimeout(r, 300));
    stream.put(['c']);
    await until(() => batches.length > 0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await mapping.stop();
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('sends records older than MaximumRecordAgeInSeconds to the on-failure destination instead of the function', async () => {
    const stream = new FakeStream();
    stream.put(['old1', 'old2'], new Date(Date.now() - 120_000));
    stream.put(['fresh']);
    const { mapping, batches, destination } = run(stream, { maxRecordAgeSeconds: 60 }, () => success);
    await mapping.start();
    await until(() => batches.length === 1 && destination.length === 1);
    await mapping.stop();
    expect(batches).toEqual([['fresh']]);
    expect(destination[0]!.body.requestContext.condition).toBe('RecordAgeExceeded');
    expect(destination[0]!.body.KinesisBatchInfo.batchSize).toBe(2);
  });

  it('retries a failing batch without limit when MaximumRetryAttempts is -1, then goes on', async () => {
    const stream = new FakeStream();
    stream.put(['x']);
    let calls = 0;
    const { mapping, batches, destination } = run(stream, {}, () => (++calls < 4 ? failure : success));
    await mapping.start();
    await until(() => calls === 4);
    await mapping.stop();
    expect(batches).toEqual([['x'], ['x'], ['x'], ['x']]);
    expect(destination).toEqual([]);
  });

  it('resumes after its checkpoint when started again', async () => {
    const stream = new FakeStream();
    stream.put(['a', 'b']);
    const first = run(stream, {}, () => success);
    await first.mapping.start();
    await until(() => first.batches.flat().length === 2);
    await first.mapping.stop();

    stream.put(['c']);
    const second = run(stream, {}, () => success);
    await second.mapping.start();
    await until(() => second.batches.length === 1);
    await second.mapping.stop();
    expect(second.batches).toEqual([['c']]);
  });

  it('starts at the end of the stream with StartingPosition LATEST', async () => {
    const stream = new FakeStream();
    stream.put(['before']);
    const { mapping, batches } = run(stream, { startingPosition: 'LATEST' }, () => success);
    await mapping.start();
    await new Promise((r) => setTimeout(r, 50));
    stream.put(['after']);
    await until(() => batches.length === 1);
    await mapping.stop();
    expect(batches).toEqual([['after']]);
  });
});
