import { build, version, type BuildOptions, type Metafile } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputDigests } from './input-digests';

/**
 * The esbuild options PipelineFunction gives NodejsFunction (infra/constructs/pipeline-function.ts), in the JS
 * API's words: NodejsFunction runs `esbuild --bundle <entry> --target=node24 --platform=node --format=cjs
 * --outfile=<dir>/index.js --minify --sourcemap --log-level=warning --main-fields=module,main` in the project
 * root, with no externals. A unit test builds a function both ways and compares the bundles byte for byte.
 */
export const FUNCTION_BUNDLE_OPTIONS: FunctionBundleOptions = Object.freeze({
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  mainFields: ['module', 'main'],
  external: [],
});

/** esbuild options of a function bundle, but for what the cache sets per build. */
export type FunctionBundleOptions = Omit<BuildOptions, 'entryPoints' | 'outfile' | 'outdir' | 'absWorkingDir' | 'metafile' | 'write'>;

/**
 * Files that change a bundle besides the ones esbuild reports reading: the lock file (the versions of every
 * package bundled) and the project's package.json and tsconfig.json, which esbuild consults while resolving
 * and transpiling.
 */
export const PROJECT_FILES: readonly string[] = ['package-lock.json', 'package.json', 'tsconfig.json'];

/** The part of esbuild the cache uses (tests pass a counting one). */
export interface Esbuild {
  version: string;
  build(options: BuildOptions & { metafile: true }): Promise<{ metafile?: Metafile }>;
}

export interface FunctionBundle {
  /** The function's entry, relative to the project root. */
  entry: string;
  /** The hash of everything the bundle is built from; its directory's name. */
  hash: string;
  /** The cached bundle: `index.js` and `index.js.map`, as NodejsFunction writes them. */
  dir: string;
  /** Whether esbuild ran for it in this start (false: found in the cache). */
  built: boolean;
}

/** Builds of one entry before giving up when its files keep changing under esbuild. */
const MAX_BUILD_ATTEMPTS = 3;

/** What the cache remembers of an entry's latest build: the files esbuild read for it. */
interface EntryRecord {
  entry: string;
  hash: string;
  inputs: string[];
}

/**
 * Lambda bundles cached by a hash of their inputs, under `<cacheDir>/<hash>/`:
 *
 *   hash = sha256(entry, the options (FUNCTION_BUNDLE_OPTIONS), esbuild's version,
 *                 path and contents of each file in the esbuild metafile's inputs, and of PROJECT_FILES)
 *
 * The inputs are known only once esbuild has run, so `<cacheDir>/entries/<entry id>.json` keeps the input list of
 * each entry's latest build. A lookup hashes the current contents of those files: when a bundle of that hash
 * exists, esbuild does not run. Any change to a file the function was built from, to the lock file, the options or
 * esbuild's version gives another hash, so the function is bundled again (into a new directory: switching back to
 * an earlier state finds its bundle; bundles unused for a week are pruned). A new file that changes how an unchanged
 * import resolves is not noticed: `npm start -- --fresh` empties the cache.
 */
export class BundleCache {
  private readonly pending = new Map<string, { requested: Promise<void>; done: Promise<FunctionBundle> }>();
  private readonly esbuild: Esbuild;
  private readonly options: FunctionBundleOptions;

  constructor(
    private readonly digests: InputDigests,
    readonly cacheDir: string,
    settings: { esbuild?: Esbuild; options?: FunctionBundleOptions } = {},
  ) {
    this.esbuild = settings.esbuild ?? { version, build };
    this.options = settings.options ?? FUNCTION_BUNDLE_OPTIONS;
  }

  get rootDir(): string {
    return this.digests.rootDir;
  }

  /**
   * The hash of a bundle of `entry` built from `inputs` (project-relative paths, as in esbuild's metafile), with
   * the files' contents as read no earlier than `notBefore`.
   */
  bundleHash(entry: string, inputs: readonly string[], notBefore = 0): string {
    return this.digests.hash(
      { entry: toPosix(entry), options: this.options, esbuild: this.esbuild.version },
      [...inputs, ...PROJECT_FILES],
      notBefore,
    );
  }

  /** The bundle of `entry` (relative to the project root): from the cache when its inputs are unchanged, else built. */
  bundle(entry: string): Promise<FunctionBundle> {
    return this.lookup(entry).done;
  }

  /**
   * Resolves once each entry was found in the cache or esbuild was asked to build it. A caller about to block this
   * thread (the synth) waits for it, so that esbuild, in its own process, bundles meanwhile.
   */
  async requested(entries: readonly string[]): Promise<void> {
    await Promise.all(entries.map((entry) => this.lookup(entry).requested));
  }

  private lookup(entry: string): { requested: Promise<void>; done: Promise<FunctionBundle> } {
    const key = toPosix(entry);
    let lookup = this.pending.get(key);
    if (!lookup) {
      let onRequested = (): void => undefined;
      const requested = new Promise<void>((resolve) => (onRequested = resolve));
      const done = this.cached(entry).then((hit) => hit ?? this.build(entry, onRequested)).finally(onRequested);
      // A failure is reported to whoever awaits `done`; this only keeps an early one from counting as unhandled.
      done.catch(() => undefined);
      lookup = { requested, done };
      this.pending.set(key, lookup);
    }
    return lookup;
  }

  /**
   * Removes the bundles no start has used for `unusedForMs` (a week by default) except those of this start, and
   * builds an interrupted start left behind; resolves to the number of directories removed.
   */
  async prune(unusedForMs = 7 * 24 * 3600_000): Promise<number> {
    const inUse = new Set<string>();
    for (const { done } of this.pending.values()) {
      const bundle = await done.catch(() => undefined);
      if (bundle) inUse.add(bundle.hash);
    }
    const now = Date.now();
    let removed = 0;
    for (const name of await readdir(this.cacheDir).catch(() => [] as string[])) {
      const maxAge = /^[0-9a-f]{64}$/.test(name) && !inUse.has(name) ? unusedForMs : name.startsWith('building-') ? 3600_000 : undefined;
      if (maxAge === undefined) continue;
      const modified = await stat(path.join(this.cacheDir, name)).then((s) => s.mtimeMs, () => now);
      if (now - modified > maxAge) {
        await rm(path.join(this.cacheDir, name), { recursive: true, force: true });
        removed++;
      }
    }
    return removed;
  }

  private async cached(entry: string): Promise<FunctionBundle | undefined> {
    const record = await readFile(this.recordPath(entry), 'utf8').then((text) => JSON.parse(text) as EntryRecord, () => undefined);
    if (!record || !Array.isArray(record.inputs)) return undefined;
    const hash = this.bundleHash(entry, record.inputs);
    const dir = path.join(this.cacheDir, hash);
    if (!(await isFile(path.join(dir, 'index.js')))) return undefined;
    // The directory's time says when a start last used it (see prune).
    const now = new Date();
    await utimes(dir, now, now).catch(() => undefined);
    return { entry, hash, dir, built: false };
  }

  private async build(entry: string, onRequested: () => void): Promise<FunctionBundle> {
    await mkdir(path.join(this.cacheDir, 'entries'), { recursive: true });
    for (let attempt = 1; ; attempt++) {
      // Built aside and renamed into place, so an interrupted build never leaves a half bundle under a valid hash.
      const staging = await mkdtemp(path.join(this.cacheDir, 'building-'));
      try {
        const startedAt = Date.now();
        const building = this.esbuild.build({
          ...this.options,
          entryPoints: [path.resolve(this.rootDir, entry)],
          outfile: path.join(staging, 'index.js'),
          absWorkingDir: this.rootDir,
          metafile: true,
        });
        onRequested();
        const result = await building;
        const inputs = Object.keys(result.metafile?.inputs ?? {}).sort();
        if (inputs.length === 0) throw new Error(`esbuild reported no inputs for ${entry}`);
        // The hash reads the contents after the build; a file saved while esbuild ran may differ from what it
        // read, and its bundle must not be filed under the new contents' hash: build again.
        const hash = this.bundleHash(entry, inputs, startedAt);
        if (this.digests.modifiedSince(inputs, startedAt) || this.digests.modifiedSince(PROJECT_FILES, startedAt, false)) {
          if (attempt < MAX_BUILD_ATTEMPTS) continue;
          throw new Error(`The inputs of ${entry} kept changing while it was bundled; start again`);
        }
        const dir = path.join(this.cacheDir, hash);
        if (!(await isFile(path.join(dir, 'index.js')))) {
          await rm(dir, { recursive: true, force: true });
          await rename(staging, dir);
        }
        await writeAtomically(this.recordPath(entry), `${JSON.stringify({ entry: toPosix(entry), hash, inputs } satisfies EntryRecord)}\n`);
        return { entry, hash, dir, built: true };
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
  }

  private recordPath(entry: string): string {
    const id = createHash('sha256').update(toPosix(entry)).digest('hex').slice(0, 32);
    return path.join(this.cacheDir, 'entries', `${id}.json`);
  }
}

function toPosix(file: string): string {
  return file.split(path.sep).join('/');
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then((s) => s.isFile(), () => false);
}

/** Writes through a temporary file and a rename: a reader sees the old content or the new, never a part. */
export async function writeAtomically(file: string, content: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, content);
  await rename(temporary, file);
}
