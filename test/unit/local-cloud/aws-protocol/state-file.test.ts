import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AtomicFile, readState, StateWriter, writeAtomically, writeFileAtomic } from '../../../../infra/local-cloud/aws-protocol/state-file';

const LOCAL_CLOUD = path.resolve(__dirname, '../../../../infra/local-cloud');

describe('the atomic writer', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'state-file-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes and replaces a file, with the mode asked for, leaving no temporary file', async () => {
    const file = path.join(dir, 'issuer.json');
    await writeFileAtomic(file, 'first', { mode: 0o600 });
    await writeFileAtomic(file, 'second', { mode: 0o600 });
    expect(await readFile(file, 'utf8')).toBe('second');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['issuer.json']);
    await writeFileAtomic(path.join(dir, 'deep', 'er', 'outputs.json'), '{}', { createDir: true });
    expect(await readFile(path.join(dir, 'deep', 'er', 'outputs.json'), 'utf8')).toBe('{}');
  });

  it('leaves the old content when the writer fails midway, or the temporary file is discarded', async () => {
    const file = path.join(dir, 'checkpoint');
    await writeFileAtomic(file, '49590338271490256608559692538361571095921575989136588898');
    await expect(writeAtomically(file, async (handle) => {
      await handle.write('4959');
      throw new Error('crash');
    })).rejects.toThrow('crash');
    const temp = await AtomicFile.create(file, { tempDir: dir });
    await temp.handle.write('partial');
    await temp.discard();
    expect(await readFile(file, 'utf8')).toBe('49590338271490256608559692538361571095921575989136588898');
    expect(await readdir(dir)).toEqual(['checkpoint']);
  });

  it('never shows a reader half a file while it is rewritten', async () => {
    const file = path.join(dir, 'state.json');
    const small = JSON.stringify({ v: 'small' });
    const large = JSON.stringify({ v: 'large'.repeat(200_000) });
    await writeFileAtomic(file, small);
    // A reader in another thread, reading as fast as it can while the writes happen.
    const reader = new Worker(
      `const { readFileSync } = require('node:fs'); const { parentPort, workerData } = require('node:worker_threads');
       const seen = new Set(); let stop = false; parentPort.on('message', () => { stop = true; });
       (function loop() { for (let i = 0; i < 200; i++) { try { seen.add(readFileSync(workerData, 'utf8').length); } catch (e) { seen.add(e.code); } }
         if (stop) parentPort.postMessage([...seen]); else setImmediate(loop); })();`,
      { eval: true, workerData: file },
    );
    for (let i = 0; i < 150; i++) await writeFileAtomic(file, i % 2 ? small : large);
    const seen = await new Promise<unknown[]>((resolve) => {
      reader.once('message', resolve);
      reader.postMessage('stop');
    });
    await reader.terminate();
    expect(seen.every((length) => length === small.length || length === large.length)).toBe(true);
  });

  it('StateWriter writes one state at a time, the last one winning', async () => {
    const file = path.join(dir, 'tables.json');
    const writer = new StateWriter(file);
    await Promise.all(Array.from({ length: 20 }, (_, i) => writer.write({ i })));
    await writer.settled();
    expect(readState(file, {})).toEqual({ i: 19 });
    expect(readState(path.join(dir, 'missing.json'), { none: true })).toEqual({ none: true });
    await writeFile(path.join(dir, 'broken.json'), '{');
    expect(readState(path.join(dir, 'broken.json'), 'fallback')).toBe('fallback');
  });
});

describe('the local cloud writes every state file through the atomic writer', () => {
  /** Where a file may be written otherwise: the writer itself, and build output (no state) checked or rebuilt at start. */
  const ALLOWED: Record<string, string> = {
    'aws-protocol/state-file.ts': 'the atomic writer',
    'bundles/function-bundles.ts': 'Lambda bundles, built in a staging folder and renamed into place',
    'synth.ts': 'CDK asset folders, linked or copied from the bundle cache and refilled unless they hold the same files',
  };

  function sources(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return sources(file);
      return /\.(ts|cjs|js)$/.test(entry.name) ? [file] : [];
    });
  }

  it('has no writeFile, appendFile or write stream outside it', () => {
    const inPlace = /\b(writeFile|writeFileSync|appendFile|appendFileSync|createWriteStream|copyFile|copyFileSync)\s*\(/;
    const offenders = sources(LOCAL_CLOUD)
      .map((file) => path.relative(LOCAL_CLOUD, file).split(path.sep).join('/'))
      .filter((file) => !(file in ALLOWED))
      .flatMap((file) => readFileSync(path.join(LOCAL_CLOUD, file), 'utf8').split('\n')
        .map((line, i) => ({ line: line.trim(), at: `${file}:${i + 1}` }))
        .filter(({ line }) => inPlace.test(line) && !line.startsWith('//') && !line.startsWith('*'))
        .map(({ line, at }) => `${at}: ${line}`));
    expect(offenders).toEqual([]);
  });
});
