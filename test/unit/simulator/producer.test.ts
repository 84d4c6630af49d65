import { PutRecordsCommand, type PutRecordsCommandOutput, type PutRecordsInput, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { DeviceEvent } from '../../../tools/simulator/fleet';
import {
  createKinesisClient,
  MAX_RECORDS_PER_CALL,
  type PutRecordsSender,
  runSimulator,
  SimulatorError,
} from '../../../tools/simulator/producer';

interface Call {
  input: PutRecordsInput;
  events: DeviceEvent[];
  partitionKeys: string[];
  bytes: number;
}

/** Hand-written fake of the Kinesis client: records each PutRecords call, fails what the test says. */
class FakeKinesis implements PutRecordsSender {
  readonly calls: Call[] = [];
  /** Accepted events, in acceptance order. */
  readonly accepted: DeviceEvent[] = [];

  constructor(
    private readonly behaviour: {
      /** Return true to report the record failed. */
      failRecord?: (event: DeviceEvent, callIndex: number, recordIndex: number) => boolean;
      /** Return an error to throw for the whole call. */
      throwCall?: (callIndex: number) => Error | undefined;
    } = {},
  ) {}

  async send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> {
    expect(command).toBeInstanceOf(PutRecordsCommand);
    const input = command.input;
    const records = input.Records ?? [];
    const events = records.map((r) => JSON.parse(Buffer.from(r.Data ?? new Uint8Array()).toString('utf8')) as DeviceEvent);
    const partitionKeys = records.map((r) => r.PartitionKey ?? '');
    const bytes = records.reduce((sum, r) => sum + (r.Data?.byteLength ?? 0) + Buffer.byteLength(r.PartitionKey ?? ''), 0);
    const callIndex = this.calls.length;
    this.calls.push({ input, events, partitionKeys, bytes });
    await Promise.resolve();
    const thrown = this.behaviour.throwCall?.(callIndex);
    if (thrown) throw thrown;
    let failed = 0;
    const results: PutRecordsResultEntry[] = events.map((event, i) => {
      if (this.behaviour.failRecord?.(event, callIndex, i)) {
        failed++;
        return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' };
      }
      this.accepted.push(event);
      return { SequenceNumber: String(this.accepted.length), ShardId: 'shardId-000000000000' };
    });
    return { FailedRecordCount: failed, Records: results, $metadata: {} };
  }
}

function namedError(name: string, message = name): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

/** Identity of an event (dsn + per-device seq). */
const key = (e: DeviceEvent) => `${e.metadata.dsn}#${e.seq}`;

const base = { streamName: 'DeviceEvents', oems: ['1234abcd', 'deadbeef'], devicesPerOem: 5, seed: 3, retryBaseDelayMs: 1, progressIntervalMs: 0 };

describe('runSimulator', () => {
  test('a restart with the same seed sends no event id of the previous run', async () => {
    const ids = (events: readonly DeviceEvent[]) =>
      events.flatMap((e) => ('datapoint' in e ? [e.datapoint.id] : 'datapointack' in e ? [e.datapointack.id] : []));
    const first = new FakeKinesis();
    const second = new FakeKinesis();
    await runSimulator({ ...base, client: first, rate: 20_000, duration: 0.05 });
    await runSimulator({ ...base, client: second, rate: 20_000, duration: 0.05 });
    const before = new Set(ids(first.accepted));
    expect(before.size).toBeGreaterThan(500);
    expect(ids(second.accepted).filter((id) => before.has(id))).toEqual([]);
    // Same seed: the same devices and values, so only the ids tell the runs apart.
    expect(second.accepted.map(key)).toEqual(first.accepted.map(key));
  });

  test('batches at most 500 records per call, partition key = dsn, data = event JSON', async () => {
    const fake = new FakeKinesis();
    const stats = await runSimulator({ ...base, client: fake, rate: 20_000, duration: 0.15 });
    expect(stats.generated).toBe(3000);
    expect(stats.sent).toBe(3000);
    expect(stats.failed).toBe(0);
    expect(stats.retried).toBe(0);
    expect(stats.aborted).toBe(false);
    expect(fake.accepted).toHaveLength(3000);
    expect(stats.putRecordsCalls).toBe(fake.calls.length);
    const sizes = fake.calls.map((c) => c.events.length);
    expect(Math.max(...sizes)).toBe(MAX_RECORDS_PER_CALL);
    for (const call of fake.calls) {
      expect(call.input.StreamName).toBe('DeviceEvents');
      expect(call.events.length).toBeGreaterThan(0);
      expect(call.events.length).toBeLessThanOrEqual(500);
      expect(call.bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
      call.events.forEach((event, i) => expect(call.partitionKeys[i]).toBe(event.metadata.dsn));
    }
    expect(new Set(fake.accepted.map(key)).size).toBe(3000);
    expect(Object.values(stats.byType).reduce((a, b) => a + b, 0)).toBe(3000);
    expect(new Set(fake.accepted.map((e) => e.metadata.oem_id))).toEqual(new Set(['1234abcd', 'deadbeef']));
  });

  test('honours a byte limit per call', async () => {
    const fake = new FakeKinesis();
    const stats = await runSimulator({ ...base, client: fake, rate: 10_000, duration: 0.1, maxBatchBytes: 8_000 });
    expect(stats.sent).toBe(1000);
    expect(fake.calls.length).toBeGreaterThan(10);
    for (const call of fake.calls) {
      if (call.events.length > 1) expect(call.bytes).toBeLessThanOrEqual(8_000);
    }
  });

  test('retries the records reported failed, and only those', async () => {
    const firstAttempt = new Set<string>();
    const fake = new FakeKinesis({
      // Every third record of a call fails the first time it is sent.
      failRecord: (event, _call, i) => {
        const k = key(event);
        if (firstAttempt.has(k)) return false;
        firstAttempt.add(k);
        return i % 3 === 0;
      },
    });
    const stats = await runSimulator({ ...base, client: fake, rate: 10_000, duration: 0.2 });
    expect(stats.generated).toBe(2000);
    expect(stats.sent).toBe(2000);
    expect(stats.failed).toBe(0);
    expect(stats.retried).toBeGreaterThan(0);
    // Every event accepted exactly once.
    const accepted = fake.accepted.map(key);
    expect(accepted).toHaveLength(2000);
    expect(new Set(accepted).size).toBe(2000);
    // A retry call carries only records that failed before.
    const seen = new Set<string>();
    let retryCalls = 0;
    for (const call of fake.calls) {
      const keys = call.events.map(key);
      const repeats = keys.filter((k) => seen.has(k));
      if (repeats.length > 0) {
        retryCalls++;
        expect(repeats).toHaveLength(keys.length);
      }
      keys.forEach((k) => seen.add(k));
    }
    expect(retryCalls).toBeGreaterThan(0);
    expect(stats.retried).toBe(fake.calls.reduce((n, c) => n + c.events.length, 0) - 2000);
  });

  test('retries a record failing several times with backoff, then gives up after maxRetries', async () => {
    const attempts = new Map<string, number>();
    const fake = new FakeKinesis({
      failRecord: (event) => {
        const k = key(event);
        const n = (attempts.get(k) ?? 0) + 1;
        attempts.set(k, n);
        // Datapoint acks always fail; other events fail twice, then go through.
        return event.metadata.event_type === 'datapointack' || n <= 2;
      },
    });
    const logs: string[] = [];
    const stats = await runSimulator({ ...base, client: fake, rate: 5_000, duration: 0.1, maxRetries: 3, log: (m) => logs.push(m) });
    const acks = stats.byType.datapointack;
    expect(acks).toBeGreaterThan(0);
    expect(stats.generated).toBe(500);
    expect(stats.failed).toBe(acks);
    expect(stats.sent).toBe(500 - acks);
    for (const [k, n] of attempts) {
      const isAck = fake.calls.some((c) => c.events.some((e) => key(e) === k && e.metadata.event_type === 'datapointack'));
      expect(n).toBe(isAck ? 4 : 3);
    }
    expect(logs.some((m) => m.includes('giving up'))).toBe(true);
  });

  test('retries a call that throws a retryable error', async () => {
    const fake = new FakeKinesis({ throwCall: (i) => (i === 0 || i === 1 ? namedError('ProvisionedThroughputExceededException') : undefined) });
    const stats = await runSimulator({ ...base, client: fake, rate: 1_000, duration: 0.05 });
    expect(stats.sent).toBe(50);
    expect(stats.failed).toBe(0);
    expect(fake.accepted).toHaveLength(50);
    expect(stats.retried).toBeGreaterThan(0);
  });

  test('stops at once with the stats on an error retrying cannot fix', async () => {
    const fake = new FakeKinesis({ throwCall: () => namedError('ResourceNotFoundException', 'Stream DeviceEvents not found') });
    const run = runSimulator({ ...base, client: fake, rate: 100, duration: 5 });
    await expect(run).rejects.toThrow(SimulatorError);
    await expect(run).rejects.toThrow(/ResourceNotFoundException/);
    const err = await run.catch((e: unknown) => e);
    expect(err instanceof SimulatorError && err.stats.failed).toBe(1);
    expect(fake.calls).toHaveLength(1);
  });

  test('paces to the rate and runs for the duration', async () => {
    const fake = new FakeKinesis();
    const t0 = Date.now();
    const stats = await runSimulator({ ...base, client: fake, rate: 50, duration: 0.5 });
    // The 25th event is due at 480 ms: the run cannot end earlier (no upper bound: never time a test).
    expect(stats.sent).toBe(25);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(470);
    // At 50 events/s, ticks of at least 100 ms: several events per call, never one call for all.
    expect(fake.calls[0]?.events).toHaveLength(1);
    expect(fake.calls.length).toBeGreaterThanOrEqual(2);
    expect(fake.calls.length).toBeLessThan(25);
  });

  test('duration 0 runs until aborted, then returns the stats', async () => {
    const fake = new FakeKinesis();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const stats = await runSimulator({ ...base, client: fake, rate: 200, duration: 0 }, controller.signal);
    expect(stats.aborted).toBe(true);
    expect(stats.sent).toBeGreaterThan(0);
    expect(stats.generated).toBe(stats.sent + stats.failed);
  });

  test('an ARN is passed as StreamARN', async () => {
    const fake = new FakeKinesis();
    const arn = 'arn:aws:kinesis:us-east-1:123456789012:stream/DeviceEvents';
    await runSimulator({ ...base, client: fake, streamName: arn, rate: 100, duration: 0.01 });
    expect(fake.calls[0]?.input.StreamARN).toBe(arn);
    expect(fake.calls[0]?.input.StreamName).toBeUndefined();
  });

  test('refuses bad options', async () => {
    const fake = new FakeKinesis();
    await expect(runSimulator({ ...base, client: fake, rate: 0 })).rejects.toThrow(RangeError);
    await expect(runSimulator({ ...base, client: fake, duration: -1 })).rejects.toThrow(RangeError);
    await expect(runSimulator({ ...base, client: fake, streamName: '' })).rejects.toThrow(RangeError);
    await expect(runSimulator({ ...base, client: fake, maxBatchRecords: 501 })).rejects.toThrow(RangeError);
    expect(fake.calls).toHaveLength(0);
  });
});

describe('createKinesisClient', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  function withoutConfiguredCredentials(): void {
    for (const k of Object.keys(process.env)) {
      if (/^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN|PROFILE|CONTAINER_|WEB_IDENTITY|ROLE_ARN|CREDENTIAL)/.test(k)) delete process.env[k];
    }
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  }

  test('uses the HTTP/1.1 handler for an http endpoint and falls back to test/test credentials', async () => {
    withoutConfiguredCredentials();
    const client = createKinesisClient({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1' });
    expect(client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
    const creds = await client.config.credentials();
    expect(creds.accessKeyId).toBe('test');
    expect(creds.secretAccessKey).toBe('test');
    expect(await client.config.region()).toBe('us-east-1');
    client.destroy();
  });

  test('prefers configured credentials, and defaults the region for a local endpoint', async () => {
    withoutConfiguredCredentials();
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    const client = createKinesisClient({ endpoint: 'http://localhost:4566' });
    expect((await client.config.credentials()).accessKeyId).toBe('AKIDEXAMPLE');
    expect(await client.config.region()).toBe('us-east-1');
    client.destroy();
  });

  test('without an endpoint it is a plain SDK client', async () => {
    const client = createKinesisClient({ region: 'eu-west-1' });
    expect(client.config.requestHandler).not.toBeInstanceOf(NodeHttpHandler);
    expect(await client.config.region()).toBe('eu-west-1');
    client.destroy();
  });
});
