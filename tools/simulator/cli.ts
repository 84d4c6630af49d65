/**
 * Command line of the fleet simulator (`npm run simulate -- [options]`, see {@link USAGE}).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createFleet, DEFAULT_OEMS, EVENT_TYPES, fleetSamples, isOemId, OEM_ID_RULE, type Fleet } from './fleet';
import { runSimulator, SimulatorError, type SimulatorOptions, type SimulatorStats } from './producer';

export const USAGE = `Usage: npm run simulate -- [options]

Puts events of a simulated device fleet on the pipeline's Kinesis stream.

Options:
  --endpoint URL     AWS endpoint, e.g. http://127.0.0.1:4566 (local cloud or LocalStack)
  --stream NAME      Kinesis stream name or ARN
  --region REGION    AWS region
  --oem ID           an OEM id to simulate (repeatable; default ${DEFAULT_OEMS.join(' and ')}, the README's)
  --oems A,B,C       the same, comma-separated
  --oem-count N      that many OEMs with generated ids instead (not with --oem/--oems)
  --devices N        devices per OEM (default 5)
  --rate N           events per second (default 20)
  --duration S       seconds to run; 0 = until Ctrl-C (default 0)
  --seed N           seed of the simulated fleet (default 1; same seed = same devices and values;
                     event ids are new on every run)
  --print N          print N events as JSON lines (one Kinesis record each) and exit; sends nothing
  --quiet            no progress lines, only the summary
  -h, --help         show this help

Defaults: endpoint, stream and region come from .local/outputs.json (written by \`npm start\`: keys
AwsEndpoint, EventStreamName, Region) when it exists, else from AWS_ENDPOINT_URL_KINESIS / AWS_ENDPOINT_URL and
AWS_REGION; without an endpoint, the simulator talks to real AWS with the SDK's default credentials.

Examples:
  npm run simulate                                  # local cloud started by \`npm start\`
  npm run simulate -- --rate 200 --duration 60 --oem 1234abcd --oem 5678ef90 --devices 20
  npm run simulate -- --print 5 --oem 1234abcd      # five events, not sent
  npm run simulate -- --endpoint http://127.0.0.1:4566 --stream DeviceEvents   # LocalStack
  AWS_PROFILE=dev npm run simulate -- --stream <EventStreamName> --region eu-west-1   # AWS
`;

/** A mistake on the command line (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliConfig {
  help: boolean;
  quiet: boolean;
  /** `--print N`: print N events and exit, sending nothing. */
  print?: number;
  options: Omit<SimulatorOptions, 'log' | 'client'> & { streamName: string };
  /** Where the endpoint/stream/region defaults came from, for the first log line. */
  source: string;
}

export interface LocalOutputs {
  AwsEndpoint?: string;
  EventStreamName?: string;
  Region?: string;
}

/** Message of an error from any realm (`instanceof Error` fails across VM contexts). */
function messageOf(err: unknown): string {
  if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return (err as { message: string }).message;
  }
  return String(err);
}

function parseNumber(flag: string, text: string | undefined, opts: { integer?: boolean; min?: number; exclusiveMin?: boolean }): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  const pattern = opts.integer ? /^-?\d+$/ : /^-?(\d+(\.\d*)?|\.\d+)$/;
  const value = Number(trimmed);
  if (!pattern.test(trimmed) || !Number.isFinite(value)) {
    throw new UsageError(`${flag} expects ${opts.integer ? 'an integer' : 'a number'}, got ${JSON.stringify(text)}`);
  }
  if (opts.min !== undefined && (opts.exclusiveMin ? value <= opts.min : value < opts.min)) {
    throw new UsageError(`${flag} must be ${opts.exclusiveMin ? '>' : '>='} ${opts.min}, got ${text}`);
  }
  if (opts.integer && !Number.isSafeInteger(value)) throw new UsageError(`${flag} is out of range: ${text}`);
  return value;
}

function parseUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} expects a URL like http://127.0.0.1:4566, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${flag} must be an http: or https: URL, got ${JSON.stringify(text)}`);
  }
  return text;
}

/**
 * Reads `.local/outputs.json`: flat (as the local cloud writes it) or nested by stack name (as
 * `cdk deploy --outputs-file` writes it). Returns undefined when the file does not exist.
 */
export function readLocalOutputs(file: string): LocalOutputs | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${messageOf(err)}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const record = parsed as Record<string, unknown>;
  const pick = (o: Record<string, unknown>): LocalOutputs => {
    const out: LocalOutputs = {};
    if (typeof o.AwsEndpoint === 'string') out.AwsEndpoint = o.AwsEndpoint;
    if (typeof o.EventStreamName === 'string') out.EventStreamName = o.EventStreamName;
    if (typeof o.Region === 'string') out.Region = o.Region;
    return out;
  };
  if (typeof record.EventStreamName === 'string') return pick(record);
  for (const value of Object.values(record)) {
    if (value && typeof value === 'object' && !Array.isArray(value) && typeof (value as Record<string, unknown>).EventStreamName === 'string') {
      return { ...pick(value as Record<string, unknown>), ...pick(record) };
    }
  }
  return pick(record);
}

export function defaultOutputsFile(): string {
  const root = typeof __dirname === 'string' ? path.resolve(__dirname, '..', '..') : process.cwd();
  return path.join(root, '.local', 'outputs.json');
}

/** Parses the command line; throws {@link UsageError} on a bad option. */
export function parseCliArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  loadOutputs: () => LocalOutputs | undefined = () => readLocalOutputs(defaultOutputsFile()),
): CliConfig {
  const parse = () =>
    parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        endpoint: { type: 'string' },
        stream: { type: 'string' },
        region: { type: 'string' },
        oem: { type: 'string', multiple: true },
        oems: { type: 'string' },
        'oem-count': { type: 'string' },
        devices: { type: 'string' },
        rate: { type: 'string' },
        duration: { type: 'string' },
        seed: { type: 'string' },
        print: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse().values;
  } catch (err) {
    throw new UsageError(messageOf(err));
  }

  const help = values.help ?? false;
  const quiet = values.quiet ?? false;

  const listed = [...(values.oem ?? []), ...(values.oems !== undefined ? [values.oems] : [])];
  if (listed.length > 0 && values['oem-count'] !== undefined) {
    throw new UsageError('use either --oem/--oems or --oem-count, not both');
  }
  let oems: string[] | number = parseNumber('--oem-count', values['oem-count'], { integer: true, min: 1 }) ?? [...DEFAULT_OEMS];
  if (listed.length > 0) {
    const flag = values.oem !== undefined ? '--oem' : '--oems';
    const ids = listed.flatMap((text) => text.split(',')).map((s) => s.trim());
    const bad = ids.find((id) => !isOemId(id));
    if (bad !== undefined) {
      throw new UsageError(`${flag} expects OEM ids (${OEM_ID_RULE}), got ${JSON.stringify(bad === '' ? listed.join(',') : bad)}`);
    }
    if (new Set(ids).size !== ids.length) throw new UsageError(`${flag} lists an OEM twice: ${listed.join(',')}`);
    oems = ids;
  }
  const devicesPerOem = parseNumber('--devices', values.devices, { integer: true, min: 1 }) ?? 5;
  const rate = parseNumber('--rate', values.rate, { min: 0, exclusiveMin: true }) ?? 20;
  const duration = parseNumber('--duration', values.duration, { min: 0 }) ?? 0;
  const seed = parseNumber('--seed', values.seed, { integer: true }) ?? 1;
  const print = parseNumber('--print', values.print, { integer: true, min: 1 });

  const outputs = loadOutputs();
  const sources = new Set<string>();
  let endpoint = values.endpoint !== undefined ? parseUrl('--endpoint', values.endpoint) : undefined;
  let streamName = values.stream;
  let region = values.region;
  if (endpoint !== undefined || streamName !== undefined || region !== undefined) sources.add('options');
  if (outputs && (endpoint === undefined || streamName === undefined || region === undefined)) {
    if (endpoint === undefined && outputs.AwsEndpoint) endpoint = parseUrl('AwsEndpoint in .local/outputs.json', outputs.AwsEndpoint);
    streamName ??= outputs.EventStreamName;
    region ??= outputs.Region;
    sources.add('.local/outputs.json');
  }
  const envEndpoint = env.AWS_ENDPOINT_URL_KINESIS || env.AWS_ENDPOINT_URL;
  if (endpoint === undefined && envEndpoint) {
    endpoint = parseUrl(env.AWS_ENDPOINT_URL_KINESIS ? 'AWS_ENDPOINT_URL_KINESIS' : 'AWS_ENDPOINT_URL', envEndpoint);
    sources.add('environment');
  }
  if (region === undefined && (env.AWS_REGION || env.AWS_DEFAULT_REGION)) {
    region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
    sources.add('environment');
  }
  if (region !== undefined && !/^[a-z0-9-]+$/.test(region)) throw new UsageError(`--region looks wrong: ${JSON.stringify(region)}`);

  if (!streamName && !help && print === undefined) {
    throw new UsageError(
      'no stream: pass --stream NAME, or start the local cloud (npm start) so that .local/outputs.json names it',
    );
  }
  const options: CliConfig['options'] = { streamName: streamName ?? '', oems, devicesPerOem, rate, duration, seed };
  if (endpoint !== undefined) options.endpoint = endpoint;
  if (region !== undefined) options.region = region;
  const config: CliConfig = { help, quiet, options, source: sources.size > 0 ? [...sources].join(', ') : 'SDK defaults' };
  if (print !== undefined) config.print = print;
  return config;
}

export function formatSummary(stats: SimulatorStats, outcome: 'done' | 'stopped' | 'failed' = stats.aborted ? 'stopped' : 'done'): string {
  const types = EVENT_TYPES.map((t) => `${t} ${stats.byType[t]}`).join(', ');
  return (
    `${outcome}: sent ${stats.sent} of ${stats.generated} events (${types}) ` +
    `in ${(stats.elapsedMs / 1000).toFixed(1)}s; ${stats.failed} failed, ${stats.retried} retried, ` +
    `${stats.putRecordsCalls} PutRecords calls`
  );
}

/** Lines naming each simulated OEM with a device and a datapoint to look for (the start banner's). */
export function describeFleet(fleet: Fleet, indent = ''): string[] {
  return fleetSamples(fleet).map(
    (s) => `${indent}${s.oemId.padEnd(12)} ${s.devices} device(s), e.g. dsn ${s.dsn}, datapoint ${s.datapoint}`,
  );
}

/** `count` events of the configured fleet as JSON lines, stamped `rate` per second from `start`. */
export function printedEvents(options: CliConfig['options'], count: number, start: Date = new Date()): string[] {
  const fleet = createFleet({ oems: options.oems, devicesPerOem: options.devicesPerOem, seed: options.seed, runId: randomUUID() });
  const interval = 1000 / (options.rate ?? 20);
  return Array.from({ length: count }, (_, i) => JSON.stringify(fleet.nextEvent(new Date(start.getTime() + i * interval))));
}

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Installs a stop handler (Ctrl-C); returns a function that removes it. */
  onStop: (handler: () => void) => () => void;
}

const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  onStop: (handler) => {
    let stops = 0;
    const listener = () => {
      stops++;
      if (stops > 1) process.exit(130); // second Ctrl-C: stop now
      handler();
    };
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
    return () => {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    };
  },
};

/** Runs the CLI; resolves to the exit code (0 ok, 1 run failed or records lost, 2 bad usage). */
export async function main(argv: readonly string[], io: CliIo = processIo, parse: (argv: readonly string[]) => CliConfig = parseCliArgs): Promise<number> {
  let config: CliConfig;
  try {
    config = parse(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`simulate: ${err.message}`);
      io.err('Run `npm run simulate -- --help` for the options.');
      return 2;
    }
    throw err;
  }
  if (config.help) {
    io.out(USAGE);
    return 0;
  }
  if (config.print !== undefined) {
    for (const line of printedEvents(config.options, config.print)) io.out(line);
    return 0;
  }

  const controller = new AbortController();
  const removeStop = io.onStop(() => {
    io.err('stopping (Ctrl-C again to force)…');
    controller.abort();
  });
  const log = config.quiet ? undefined : (m: string) => io.err(m);
  log?.(
    `target: stream ${config.options.streamName}, endpoint ${config.options.endpoint ?? 'AWS default'}, ` +
      `region ${config.options.region ?? 'SDK default'} (from ${config.source})`,
  );
  const { oems, devicesPerOem, seed } = config.options;
  const fleet = createFleet({ oems, devicesPerOem, seed, runId: randomUUID() });
  for (const line of describeFleet(fleet, '  ')) log?.(line);
  try {
    const stats = await runSimulator({ ...config.options, fleet, ...(log ? { log } : {}) }, controller.signal);
    io.out(formatSummary(stats));
    return stats.failed > 0 && !stats.aborted ? 1 : 0;
  } catch (err) {
    if (err instanceof SimulatorError) {
      io.err(`simulate: ${err.message}`);
      io.out(formatSummary(err.stats, 'failed'));
      return 1;
    }
    io.err(`simulate: ${messageOf(err)}`);
    return 1;
  } finally {
    removeStop();
  }
}
