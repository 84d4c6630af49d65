import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateEvent } from '../../../lambdas/domain/device-events';
import { createFleet, DEFAULT_OEMS } from '../../../tools/simulator/fleet';
import { type CliIo, describeFleet, formatSummary, main, parseCliArgs, readLocalOutputs, UsageError, USAGE } from '../../../tools/simulator/cli';

const noEnv: NodeJS.ProcessEnv = {};
const local = { AwsEndpoint: 'http://127.0.0.1:4566', EventStreamName: 'DeviceEvents-abc', Region: 'us-east-1' };

describe('parseCliArgs', () => {
  test('defaults come from .local/outputs.json', () => {
    const { options, help } = parseCliArgs([], noEnv, () => local);
    expect(help).toBe(false);
    expect(options).toEqual({
      streamName: 'DeviceEvents-abc',
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      oems: [...DEFAULT_OEMS],
      devicesPerOem: 5,
      rate: 20,
      duration: 0,
      seed: 1,
    });
  });

  test('options override outputs.json; outputs.json overrides the environment', () => {
    const env = { AWS_ENDPOINT_URL: 'http://10.0.0.1:4566', AWS_REGION: 'eu-west-1' };
    const a = parseCliArgs(['--stream', 'mine', '--endpoint', 'http://localhost:4567', '--region', 'eu-central-1'], env, () => local);
    expect(a.options).toMatchObject({ streamName: 'mine', endpoint: 'http://localhost:4567', region: 'eu-central-1' });
    const b = parseCliArgs([], env, () => local);
    expect(b.options).toMatchObject({ endpoint: 'http://127.0.0.1:4566', region: 'us-east-1' });
  });

  test('without outputs.json: the environment, else the SDK defaults (real AWS)', () => {
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_REGION: 'us-west-2' };
    expect(parseCliArgs(['--stream', 's'], env, () => undefined).options).toMatchObject({ endpoint: 'http://127.0.0.1:4566', region: 'us-west-2' });
    expect(parseCliArgs(['--stream', 's'], { AWS_ENDPOINT_URL_KINESIS: 'http://k:1', AWS_ENDPOINT_URL: 'http://x:2' }, () => undefined).options.endpoint).toBe('http://k:1');
    const aws = parseCliArgs(['--stream', 's'], noEnv, () => undefined);
    expect(aws.options.endpoint).toBeUndefined();
    expect(aws.options.region).toBeUndefined();
    expect(aws.source).toBe('options');
  });

  test('fleet, rate, duration and seed options', () => {
    const { options } = parseCliArgs(
      ['--oems', '1234abcd, acme', '--devices', '12', '--rate', '2.5', '--duration', '30', '--seed=-7'],
      noEnv,
      () => local,
    );
    expect(options).toMatchObject({ oems: ['1234abcd', 'acme'], devicesPerOem: 12, rate: 2.5, duration: 30, seed: -7 });
    expect(parseCliArgs(['--oem-count', '4'], noEnv, () => local).options.oems).toBe(4);
    expect(parseCliArgs(['--oem', 'acme', '--oem', '1234abcd,beta'], noEnv, () => local).options.oems).toEqual(['acme', '1234abcd', 'beta']);
    expect(parseCliArgs(['--rate=100'], noEnv, () => local).options.rate).toBe(100);
  });

  test.each([
    [['--rate', '0'], /--rate must be > 0/],
    [['--rate', 'fast'], /--rate expects a number/],
    [['--duration=-1'], /--duration must be >= 0/],
    [['--duration', '-1'], /ambiguous/],
    [['--devices', '0'], /--devices must be >= 1/],
    [['--devices', '2.5'], /--devices expects an integer/],
    [['--oem-count', 'x'], /--oem-count expects an integer/],
    [['--seed', '1e3'], /--seed expects an integer/],
    [['--oems', 'a,,b'], /--oems expects/],
    [['--oems', 'a,a'], /twice/],
    [['--oems', 'a', '--oem-count', '2'], /either --oem\/--oems or --oem-count/],
    [['--oem', 'a', '--oem-count', '2'], /either --oem\/--oems or --oem-count/],
    [['--oem', 'a', '--oem', 'a'], /--oem lists an OEM twice/],
    [['--oem', '_x'], /--oem expects OEM ids/],
    [['--print', '0'], /--print must be >= 1/],
    [['--endpoint', 'localhost:4566'], /--endpoint must be an http/],
    [['--endpoint', 'not a url'], /--endpoint expects a URL/],
    [['--region', 'US East'], /--region looks wrong/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['stray'], /positional/i],
    [['--rate'], /argument missing|--rate/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCliArgs(argv, noEnv, () => local)).toThrow(UsageError);
    expect(() => parseCliArgs(argv, noEnv, () => local)).toThrow(message);
  });

  test('the default OEMs are the ones the README uses', () => {
    expect(DEFAULT_OEMS).toContain('1234abcd');
    const readme = readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    for (const id of DEFAULT_OEMS) expect(readme).toContain(id);
  });

  test('--print needs no stream', () => {
    expect(parseCliArgs(['--print', '3'], noEnv, () => undefined)).toMatchObject({ print: 3 });
  });

  test('no stream anywhere is a usage error that says what to do', () => {
    expect(() => parseCliArgs([], noEnv, () => undefined)).toThrow(/--stream NAME.*npm start/);
    expect(parseCliArgs(['--help'], noEnv, () => undefined).help).toBe(true);
  });
});

describe('readLocalOutputs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sim-outputs-'));

  test('flat file as the local cloud writes it', () => {
    const file = path.join(dir, 'flat.json');
    writeFileSync(file, JSON.stringify({ ...local, ApiUrl: 'http://127.0.0.1:3000', ExportBucketName: 'b' }));
    expect(readLocalOutputs(file)).toEqual(local);
  });

  test('nested by stack name as cdk deploy --outputs-file writes it', () => {
    const file = path.join(dir, 'nested.json');
    writeFileSync(file, JSON.stringify({ PipelineStack: { EventStreamName: 'S', ApiUrl: 'x' } }));
    expect(readLocalOutputs(file)).toEqual({ EventStreamName: 'S' });
  });

  test('missing file, broken file', () => {
    expect(readLocalOutputs(path.join(dir, 'absent.json'))).toBeUndefined();
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{ nope');
    expect(() => readLocalOutputs(file)).toThrow(UsageError);
  });
});

describe('main', () => {
  function fakeIo(): CliIo & { outLines: string[]; errLines: string[] } {
    const outLines: string[] = [];
    const errLines: string[] = [];
    return { outLines, errLines, out: (l) => outLines.push(l), err: (l) => errLines.push(l), onStop: () => () => {} };
  }

  test('--help prints the usage and exits 0', async () => {
    const io = fakeIo();
    expect(await main(['--help'], io, (argv) => parseCliArgs(argv, noEnv, () => undefined))).toBe(0);
    expect(io.outLines.join('\n')).toBe(USAGE);
    for (const flag of ['--endpoint', '--stream', '--region', '--oems', '--oem-count', '--devices', '--rate', '--duration', '--seed', '--help']) {
      expect(USAGE).toContain(flag);
    }
  });

  test('--print N prints N events as JSON lines of the chosen OEMs and sends nothing', async () => {
    const io = fakeIo();
    const parse = (argv: readonly string[]) => parseCliArgs(argv, noEnv, () => undefined);
    expect(await main(['--print', '40', '--oem', 'acme', '--devices', '2'], io, parse)).toBe(0);
    expect(io.outLines).toHaveLength(40);
    const events: unknown[] = io.outLines.map((line) => JSON.parse(line));
    for (const event of events) {
      expect(validateEvent(event)).toMatchObject({ ok: true });
      expect(event).toMatchObject({ metadata: { oem_id: 'acme' } });
    }
    expect(io.errLines).toEqual([]);
  });

  test('each simulated OEM is described with a device and a datapoint it has', () => {
    const fleet = createFleet({ oems: ['1234abcd', 'acme'], devicesPerOem: 3 });
    const lines = describeFleet(fleet);
    expect(lines).toHaveLength(2);
    fleet.oems.forEach((oem, i) => {
      const device = fleet.devices.find((d) => d.oemId === oem.oemId)!;
      const line = lines[i]!;
      expect(line).toContain(oem.oemId);
      expect(line).toContain('3 device(s)');
      expect(line).toContain(`dsn ${device.dsn}`);
      const [, datapoint] = /datapoint (\S+)/.exec(line)!;
      expect(device.properties.map((p) => `${p.block}/${p.blockIndex}/${p.name}`)).toContain(datapoint);
    });
  });

  test('a bad option exits 2 with a clear message', async () => {
    const io = fakeIo();
    expect(await main(['--rate=-3'], io, (argv) => parseCliArgs(argv, noEnv, () => local))).toBe(2);
    expect(io.errLines[0]).toBe('simulate: --rate must be > 0, got -3');
    expect(io.outLines).toEqual([]);
  });

  test('summary line', () => {
    const line = formatSummary({
      generated: 10, sent: 9, failed: 1, retried: 2, putRecordsCalls: 3, elapsedMs: 1500, aborted: true,
      byType: { datapoint: 6, datapointack: 2, connectivity: 1, location: 1, registration: 0 },
    });
    expect(line).toBe(
      'stopped: sent 9 of 10 events (datapoint 6, datapointack 2, connectivity 1, location 1, registration 0) in 1.5s; 1 failed, 2 retried, 3 PutRecords calls',
    );
  });
});
