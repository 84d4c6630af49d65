import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/**
 * The local cloud's one way to write a file: into a temporary file, renamed over the target once complete.
 * A reader, a crash (`kill -9`) or an aborted writer therefore sees the old content or the new, never a
 * part (rename is atomic on POSIX file systems). The data is not fsynced: it survives the local cloud's
 * process dying, not the machine losing power, which is what a local emulator needs.
 */
export interface AtomicWriteOptions {
  /** Permissions of a file the write creates (default 0o666 less the umask). */
  mode?: number;
  /** Where the temporary file is made (default: beside the target); must be on the target's file system. */
  tempDir?: string;
}

/**
 * A temporary file that becomes `target` only on `commit`: for writers that stream their content or must
 * commit under a lock of their own (local S3). Anything but a commit leaves the target untouched.
 */
export class AtomicFile {
  private constructor(
    readonly handle: FileHandle,
    private readonly temp: string,
  ) {}

  static async create(target: string, options: AtomicWriteOptions = {}): Promise<AtomicFile> {
    // Random, so concurrent writers of one file never share a temporary file.
    const name = `${options.tempDir ? '' : `${path.basename(target)}.`}${randomBytes(8).toString('hex')}.tmp`;
    const temp = path.join(options.tempDir ?? path.dirname(target), name);
    return new AtomicFile(await open(temp, 'wx', options.mode ?? 0o666), temp);
  }

  /** Closes the temporary file and renames it over `target`; on failure the temporary file is removed. */
  async commit(target: string): Promise<void> {
    try {
      await this.handle.close();
      await rename(this.temp, target);
    } catch (error) {
      await this.discard();
      throw error;
    }
  }

  /** Drops the temporary file (safe to call after a failed commit, or twice). */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }
}

/**
 * Writes `file` through `write`, which fills the temporary file's handle; the file appears (or is replaced)
 * only when `write` resolves. If `write` throws, the target is untouched and the temporary file removed.
 */
export async function writeAtomically(file: string, write: (handle: FileHandle) => Promise<void>, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = await AtomicFile.create(file, options);
  try {
    await write(temp.handle);
  } catch (error) {
    await temp.discard();
    throw error;
  }
  await temp.commit(file);
}

/** `writeFile`, atomically: the file holds the old content or `data`, never a part of it. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions & { createDir?: boolean } = {}): Promise<void> {
  if (options.createDir) await mkdir(path.dirname(file), { recursive: true });
  await writeAtomically(file, async (handle) => {
    await handle.writeFile(data);
  }, options);
}

/**
 * A service's state kept as one JSON file under the data directory: read once at start, written
 * whole and atomically ({@link writeFileAtomic}), one write at a time, so a crash or a concurrent
 * request never leaves half a file.
 */
export class StateWriter {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  write(state: unknown): Promise<void> {
    const run = this.writing.then(() => writeFileAtomic(this.file, JSON.stringify(state, null, 2)));
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Resolves when every write asked for so far is done. */
  settled(): Promise<void> {
    return this.writing;
  }
}

/** The state kept in `file`, or `fallback` when there is none yet (or it cannot be read). */
export function readState<T>(file: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return fallback;
  }
}
