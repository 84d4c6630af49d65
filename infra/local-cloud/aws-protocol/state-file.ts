import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';

/**
 * A service's state kept as one JSON file under the data directory: read once at start, written
 * whole and atomically (a temporary file renamed over the old one), one write at a time, so a crash
 * or a concurrent request never leaves half a file.
 */
export class StateWriter {
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  write(state: unknown): Promise<void> {
    const run = this.writing.then(async () => {
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(temp, JSON.stringify(state, null, 2));
      await rename(temp, this.file);
    });
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
