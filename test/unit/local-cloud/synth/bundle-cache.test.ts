import { build, version, type BuildOptions } from 'esbuild';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BundleCache, FUNCTION_BUNDLE_OPTIONS, type Esbuild } from '../../../../infra/local-cloud/bundles/function-bundles';
import { InputDigests } from '../../../../infra/local-cloud/bundles/input-digests';

const ENTRY = path.join('src', 'handler.ts');
let root: string;
let cacheDir: string;
let builds: string[];

/** The real esbuild, counting its builds. */
const countingEsbuild: Esbuild = {
  version,
  build: (options: BuildOptions & { metafile: true }) => {
    builds.push(String((options.entryPoints as string[])[0]));
    return build(options);
  },
};

/** A cache as one start sees the project: file digests are read afresh, as by a new process. */
const cacheOf = (settings: ConstructorParameters<typeof BundleCache>[2] = {}) =>
  new BundleCache(new InputDigests(root), cacheDir, { esbuild: countingEsbuild, ...settings });

const write = (file: string, content: string) => writeFile(path.join(root, file), content);

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'bundle-cache-'));
  cacheDir = path.join(root, '.local', 'bundles');
  builds = [];
  await mkdir(path.join(root, 'src'));
  await write('package.json', '{ "name": "probe", "private": true }\n');
  await write('package-lock.json', '{ "lockfileVersion": 3, "packages": {} }\n');
  await write(ENTRY, "import { greeting } from './greeting';\nexport const handler = async () => greeting('world');\n");
  await write('src/greeting.ts', 'export const greeting = (name: string) => `hello ${name}`;\n');
  await write('src/unrelated.ts', 'export const unused = 1;\n');
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('bundle hash', () => {
  it('is the same while nothing changes, and the bundle is reused without esbuild', async () => {
    const first = await cacheOf().bundle(ENTRY);
    expect(first.built).toBe(true);
    const second = await cacheOf().bundle(ENTRY);
    expect(second).toEqual({ ...first, built: false });
    expect(builds).toHaveLength(1);
    expect(cacheOf().bundleHash(ENTRY, ['src/greeting.ts', ENTRY])).toBe(first.hash);
  });

  it('covers exactly the files esbuild read', async () => {
    const { hash } = await cacheOf().bundle(ENTRY);
    const [recordFile] = await readdir(path.join(cacheDir, 'entries'));
    const record = JSON.parse(await readFile(path.join(cacheDir, 'entries', recordFile!), 'utf8')) as { inputs: string[] };
    expect(record.inputs).toEqual(['src/greeting.ts', 'src/handler.ts']);
    await write('src/unrelated.ts', 'export const unused = 2;\n');
    expect(await cacheOf().bundle(ENTRY)).toMatchObject({ hash, built: false });
    expect(builds).toHaveLength(1);
  });

  it('changes when an input file of the function changes, and the function is bundled again', async () => {
    const before = await cacheOf().bundle(ENTRY);
    await write('src/greeting.ts', 'export const greeting = (name: string) => `hi ${name}`;\n');
    const after = await cacheOf().bundle(ENTRY);
    expect(after.hash).not.toBe(before.hash);
    expect(after.built).toBe(true);
    expect(await readFile(path.join(after.dir, 'index.js'), 'utf8')).toContain('hi ');
    expect(builds).toHaveLength(2);
  });

  it('changes with the lock file, package.json or tsconfig.json', async () => {
    const hashes = [(await cacheOf().bundle(ENTRY)).hash];
    for (const [file, content] of [
      ['package-lock.json', '{ "lockfileVersion": 3, "packages": { "node_modules/x": { "version": "1.0.1" } } }\n'],
      ['package.json', '{ "name": "probe", "private": true, "version": "2.0.0" }\n'],
      ['tsconfig.json', '{ "compilerOptions": { "strict": true } }\n'],
    ] as const) {
      await write(file, content);
      const bundle = await cacheOf().bundle(ENTRY);
      expect(bundle.built).toBe(true);
      hashes.push(bundle.hash);
    }
    expect(new Set(hashes).size).toBe(4);
  });

  it('changes with the options and with the esbuild version', async () => {
    const base = cacheOf().bundleHash(ENTRY, [ENTRY]);
    expect(cacheOf().bundleHash(ENTRY, [ENTRY])).toBe(base);
    expect(cacheOf({ options: { ...FUNCTION_BUNDLE_OPTIONS, minify: false } }).bundleHash(ENTRY, [ENTRY])).not.toBe(base);
    expect(cacheOf({ options: { ...FUNCTION_BUNDLE_OPTIONS, target: 'node22' } }).bundleHash(ENTRY, [ENTRY])).not.toBe(base);
    expect(cacheOf({ esbuild: { ...countingEsbuild, version: '0.0.1' } }).bundleHash(ENTRY, [ENTRY])).not.toBe(base);
  });

  it('changes with the entry and the set of inputs, not their order', () => {
    const cache = cacheOf();
    const base = cache.bundleHash(ENTRY, [ENTRY, 'src/greeting.ts']);
    expect(cache.bundleHash(ENTRY, ['src/greeting.ts', ENTRY])).toBe(base);
    expect(cache.bundleHash(ENTRY, [ENTRY])).not.toBe(base);
    expect(cache.bundleHash('src/greeting.ts', [ENTRY, 'src/greeting.ts'])).not.toBe(base);
  });

  it('changes when an input is deleted', async () => {
    const before = cacheOf().bundleHash(ENTRY, [ENTRY, 'src/unrelated.ts']);
    await rm(path.join(root, 'src/unrelated.ts'));
    expect(cacheOf().bundleHash(ENTRY, [ENTRY, 'src/unrelated.ts'])).not.toBe(before);
  });

  it('finds the bundle of an earlier state again when a change is undone', async () => {
    const original = await cacheOf().bundle(ENTRY);
    await write('src/greeting.ts', 'export const greeting = (name: string) => `hi ${name}`;\n');
    await cacheOf().bundle(ENTRY);
    await write('src/greeting.ts', 'export const greeting = (name: string) => `hello ${name}`;\n');
    expect(await cacheOf().bundle(ENTRY)).toEqual({ ...original, built: false });
    expect(builds).toHaveLength(2);
  });

  it('builds an entry once however often it is asked for in one start', async () => {
    const cache = cacheOf();
    const [a, b] = await Promise.all([cache.bundle(ENTRY), cache.bundle(ENTRY)]);
    expect(a).toBe(b);
    expect(builds).toHaveLength(1);
  });

  it('reports a build failure and caches nothing for it', async () => {
    await write('src/greeting.ts', 'export const greeting = (name: string) => `hello ${name}\n');
    const quiet = { options: { ...FUNCTION_BUNDLE_OPTIONS, logLevel: 'silent' as const } };
    await expect(cacheOf(quiet).bundle(ENTRY)).rejects.toThrow(/Build failed/);
    await write('src/greeting.ts', 'export const greeting = (name: string) => `hello ${name}`;\n');
    expect(await cacheOf(quiet).bundle(ENTRY)).toMatchObject({ built: true });
  });

  it('prunes bundles unused for a week and builds left half-way, never those of the current start', async () => {
    const old = new Date(Date.now() - 8 * 24 * 3600_000);
    const used = await cacheOf().bundle(ENTRY);
    await utimes(used.dir, old, old);
    const stale = path.join(cacheDir, 'f'.repeat(64));
    const recent = path.join(cacheDir, 'e'.repeat(64));
    const leftover = path.join(cacheDir, 'building-x');
    for (const dir of [stale, recent, leftover]) await mkdir(dir);
    await utimes(stale, old, old);
    await utimes(leftover, old, old);

    const cache = cacheOf();
    await cache.bundle(ENTRY);
    expect(await cache.prune()).toBe(2);
    expect((await readdir(cacheDir)).sort()).toEqual(['e'.repeat(64), 'entries', used.hash].sort());
  });

  it('builds again when an input is saved while esbuild runs, so no bundle is filed under contents it was not built from', async () => {
    let saves = 1;
    const savingEsbuild: Esbuild = {
      version,
      build: async (options) => {
        const result = await countingEsbuild.build(options);
        if (saves-- > 0) await write('src/greeting.ts', 'export const greeting = (name: string) => `hey ${name}`;\n');
        return result;
      },
    };
    const bundle = await cacheOf({ esbuild: savingEsbuild }).bundle(ENTRY);
    expect(builds).toHaveLength(2);
    expect(await readFile(path.join(bundle.dir, 'index.js'), 'utf8')).toContain('hey ');
    expect(await cacheOf().bundle(ENTRY)).toEqual({ ...bundle, built: false });
  });
});
