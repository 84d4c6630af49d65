import { rename, writeFile } from 'node:fs/promises';

/**
 * Writes a stand-in's state as JSON: whole, atomically (a temporary file renamed over the old one),
 * one write at a time, so a crash or a concurrent request never leaves half a file.
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
