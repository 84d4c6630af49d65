/**
 * Time to ready of the local cloud, as `npm start` gives it: a new Node process with tsx, the local cloud's
 * modules, the emulators, the synth, the Lambda bundles and the deployment, until the endpoints answer.
 * Cold: a fresh data directory (no assembly, empty bundle cache). Warm: the next starts, nothing changed.
 *
 * Run as a child (`node --import tsx bench/start.ts <dataDir>`), this file is that start: it prints one
 * `READY {…}` line once the local cloud is ready, then stops it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Figure } from './datapoint-logs';

const ROOT = path.resolve(__dirname, '..');
const READY = 'READY ';
const WARM_RUNS = 3;
const GOAL_SECONDS = 5;

interface ChildReport {
  /** From process start to the local cloud's modules loaded (Node, tsx, SDKs, emulators). */
  loadedMs: number;
  /** startLocalCloud itself: services, synth or its reuse, bundles, deployment. */
  startMs: number;
  /** CPU time of the start's process until ready, user + system (not esbuild's own process): what load cannot stretch. */
  cpuMs: number;
  build: { synthesized: boolean; bundlesBuilt: number; bundlesReused: number };
}

interface StartRun extends ChildReport {
  /** From spawning the process to its ready line: what a user waits for. */
  readyMs: number;
  loadAverage: number;
}

/** One start in a new process against `dataDir`. */
function startOnce(dataDir: string): Promise<StartRun> {
  const loadAverage = os.loadavg()[0]!;
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let report: StartRun | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n').find((l) => l.startsWith(READY));
      if (line && !report) {
        report = { ...(JSON.parse(line.slice(READY.length)) as ChildReport), readyMs: Number(process.hrtime.bigint() - started) / 1e6, loadAverage };
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => (report && code === 0 ? resolve(report) : reject(new Error(`start exited with ${code}: ${stderr.slice(-2000)}`))));
  });
}

/** Cold start, then warm starts, in one data directory created for the run. */
export async function startBenchmark(log: (line: string) => void): Promise<Figure[]> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-start-'));
  try {
    log('  cold start (fresh data directory, empty bundle cache)…');
    const cold = await startOnce(dataDir);
    const warm: StartRun[] = [];
    for (let i = 0; i < WARM_RUNS; i++) {
      log(`  warm start ${i + 1}/${WARM_RUNS}…`);
      warm.push(await startOnce(dataDir));
    }
    const median = [...warm].sort((a, b) => a.readyMs - b.readyMs)[Math.floor(warm.length / 2)]!;
    const loads = [cold, ...warm].map((r) => r.loadAverage);
    const section = `Local cloud start (nproc ${os.availableParallelism()}, 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} at the starts)`;
    const seconds = (ms: number) => +(ms / 1000).toFixed(2);
    const what = (r: StartRun) => `${r.build.synthesized ? 'synthesized' : 'assembly reused'}, ${r.build.bundlesBuilt} bundles built, ${r.build.bundlesReused} reused`;
    return [
      { section, name: `cold start to ready: fresh .local, empty bundle cache (${what(cold)})`, value: seconds(cold.readyMs), unit: 's' },
      { section, name: 'cold start: of which loading Node, tsx and the local cloud’s modules', value: seconds(cold.loadedMs), unit: 's' },
      { section, name: 'cold start: of which startLocalCloud (services, synth, bundles, deployment)', value: seconds(cold.startMs), unit: 's' },
      { section, name: 'cold start: CPU time of the start process (esbuild’s own process not included)', value: seconds(cold.cpuMs), unit: 's' },
      {
        section,
        name: `warm start to ready: next start, nothing changed (median of ${WARM_RUNS}: ${warm.map((r) => seconds(r.readyMs)).join(', ')} s; ${what(median)})`,
        value: seconds(median.readyMs),
        unit: 's',
        baseline: { name: 'cold start, same run', value: seconds(cold.readyMs), unit: 's' },
        ratio: median.readyMs / cold.readyMs,
        goal: `warm ≤ ${GOAL_SECONDS} s`,
        pass: median.readyMs <= GOAL_SECONDS * 1000 && warm.every((r) => !r.build.synthesized && r.build.bundlesBuilt === 0),
      },
      { section, name: 'warm start: of which loading Node, tsx and the local cloud’s modules', value: seconds(median.loadedMs), unit: 's' },
      { section, name: 'warm start: of which startLocalCloud (services, synth reuse, bundle lookup, deployment)', value: seconds(median.startMs), unit: 's' },
      { section, name: 'warm start: CPU time of the start process', value: seconds(median.cpuMs), unit: 's' },
    ];
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The child: one start as `npm start -- --no-simulate --quiet` makes it, on free ports, in the given data directory. */
async function child(dataDir: string): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { startLocalCloud } = await import('../infra/local-cloud/local-cloud');
  const loadedMs = performance.now();
  const cloud = await startLocalCloud({ rootDir: ROOT, dataDir, edgePort: 0, apiPort: 0, log: () => undefined, functionLog: () => undefined });
  const cpu = process.cpuUsage();
  const report: ChildReport = { loadedMs, startMs: performance.now() - loadedMs, cpuMs: (cpu.user + cpu.system) / 1000, build: cloud.build };
  process.stdout.write(`${READY}${JSON.stringify(report)}\n`);
  await cloud.stop();
}

if (require.main === module) {
  const dataDir = process.argv[2];
  if (!dataDir) throw new Error('usage: node --import tsx bench/start.ts <dataDir>');
  child(dataDir).then(
    () => process.exit(0),
    (error: Error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
