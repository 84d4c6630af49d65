/**
 * `npm start`: runs the stack on the embedded local cloud.
 *
 *   npm start -- [--fresh] [--no-simulate] [--oem id]... [--context key=value]... [--quiet]
 *   env: EDGE_PORT (4566), PORT (3000), CONSOLE_PORT (3001), AUTH_PORT (3002), AWS_REGION (us-east-1)
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_OEMS, isOemId, OEM_ID_RULE } from '../../tools/simulator/fleet';
import { parseContext } from './cli-args';
import { startLocalCloud } from './local-cloud';

const USAGE = `Usage: npm start -- [options]
  --fresh                 wipe .local/ (data, keys, checkpoints) before starting
  --no-simulate           do not run the simulated device fleet
  --oem ID                an OEM id the simulator uses (repeatable; default ${DEFAULT_OEMS.join(' and ')})
  --context key=value     CDK context for the synth (repeatable), e.g. --context exportBatchingWindowSeconds=5
  --quiet                 do not print function logs
  -h, --help              this help
Environment: EDGE_PORT (default 4566), PORT (default 3000), CONSOLE_PORT (default 3001), AUTH_PORT (default 3002),
             AWS_REGION (default us-east-1)`;

/** Export settings for a demo (the stack's defaults are for a fleet: five-minute windows, 16 partitions). */
export const DEMO_CONTEXT: Record<string, string> = {
  exportWindowMinutes: '1',
  exportCompactionDelaySeconds: '5',
  exportCompactionPartitions: '2',
  exportBatchingWindowSeconds: '2',
};

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function contextOrExit(pairs: string[]): Record<string, string> {
  try {
    return parseContext(pairs);
  } catch (error) {
    fail((error as Error).message);
  }
}

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) fail(`${name} must be a port number, got "${raw}"`);
  return value;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        fresh: { type: 'boolean', default: false },
        'no-simulate': { type: 'boolean', default: false },
        simulate: { type: 'boolean', default: true },
        context: { type: 'string', multiple: true, short: 'c', default: [] },
        oem: { type: 'string', multiple: true, default: [] },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (error) {
    fail((error as Error).message);
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const badOem = args.oem.find((id) => !isOemId(id));
  if (badOem !== undefined) fail(`--oem expects an OEM id (${OEM_ID_RULE}), got ${JSON.stringify(badOem)}`);
  if (new Set(args.oem).size !== args.oem.length) fail(`--oem names an OEM twice: ${args.oem.join(', ')}`);
  const rootDir = path.resolve(__dirname, '..', '..');
  console.log('Starting the local cloud (the stack is synthesized and its functions bundled only when they changed)…');
  // A demo sees its first files a minute after the first events: one-minute windows, a short grace,
  // few compaction partitions. `--context` overrides each, e.g. --context exportWindowMinutes=5.
  const context = { ...DEMO_CONTEXT, ...contextOrExit(args.context ?? []) };
  const cloud = await startLocalCloud({
    rootDir,
    fresh: args.fresh,
    edgePort: port('EDGE_PORT', 4566),
    apiPort: port('PORT', 3000),
    consolePort: port('CONSOLE_PORT', 3001),
    authPort: port('AUTH_PORT', 3002),
    signInOemId: args.oem[0] ?? DEFAULT_OEMS[0],
    region: process.env.AWS_REGION || 'us-east-1',
    context,
    functionLog: args.quiet ? () => undefined : (fn, line) => console.log(`[${fn.replace(/[0-9A-F]{8}$/, '')}] ${line}`),
  });

  const simulate = args.simulate && !args['no-simulate'];
  const abort = new AbortController();
  let simulation: Promise<unknown> = Promise.resolve();
  let simulated = 'off';
  if (simulate) {
    const [{ runSimulator }, { createFleet }, { describeFleet }] = await Promise.all([
      import('../../tools/simulator/producer'),
      import('../../tools/simulator/fleet'),
      import('../../tools/simulator/cli'),
    ]);
    // The same fleet as `npm run simulate` with no options, fewer events per second.
    const fleet = createFleet({ oems: args.oem.length > 0 ? args.oem : DEFAULT_OEMS, devicesPerOem: 4, runId: randomUUID() });
    simulated = ['on (--no-simulate turns it off; --oem <id> chooses the OEMs), 5 events/s for', ...describeFleet(fleet, '    ')].join('\n');
    simulation = runSimulator(
      { streamName: cloud.outputs.EventStreamName!, region: cloud.region, endpoint: cloud.edgeUrl, fleet, rate: 5, duration: 0 },
      abort.signal,
    ).catch((error: Error) => console.error(`simulator stopped: ${error.message}`));
  }

  console.log(`
Local cloud ready in ${process.uptime().toFixed(1)} s from launch (data in ${path.relative(process.cwd(), cloud.dataDir) || '.'}/)
  AWS endpoint   ${cloud.edgeUrl}   (S3, DynamoDB, Kinesis, SQS, EventBridge, IAM, STS, Secrets Manager; region ${cloud.region})
  Export         one CSV per OEM, type and ${String(context.exportWindowMinutes)}-minute window, written ${String(context.exportCompactionDelaySeconds)} s after the window closes
  HTTP API       ${cloud.apiUrl}     (try: curl ${cloud.apiUrl}/health)
  Console        ${cloud.consoleUrl}     (sign in with an OEM id; tick "OEM admin" for the credentials)
  Sign-in        ${cloud.authUrl}     (OAuth 2.0: /oauth2/authorize, /oauth2/token, /logout)
  Outputs        ${path.join(path.relative(process.cwd(), cloud.dataDir) || '.', 'outputs.json')}
${Object.entries(cloud.outputs).map(([k, v]) => `    ${k.padEnd(22)} ${v}`).join('\n')}
  Token          npm run token -- --oem <oem_id> [--admin]
  Simulator      ${simulated}
Ctrl-C stops everything.
`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      console.error('Forced exit.');
      process.exit(130);
    }
    stopping = true;
    console.log(`\n${signal}: stopping the local cloud…`);
    abort.abort();
    void simulation
      .then(() => cloud.stop())
      .then(() => {
        console.log('Stopped.');
        process.exit(0);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => shutdown('SIGHUP'));
}

main().catch((error: Error) => {
  console.error(`The local cloud could not start: ${error.message}`);
  process.exit(1);
});
