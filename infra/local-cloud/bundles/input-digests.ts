import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** What a missing file hashes as: a deleted input changes the hash instead of failing the lookup. */
const MISSING = 'missing';

/**
 * SHA-256 digests of project files by project-relative path, each file read once per start: the functions
 * share most of their inputs (the SDK, the shared modules), so one memo serves every hash of a start.
 * Files are read synchronously: over a thousand small files, that is several times faster than through the
 * thread pool, and a start has nothing else to do meanwhile.
 */
export class InputDigests {
  private readonly digests = new Map<string, string>();

  constructor(readonly rootDir: string) {}

  /** The digest of `file` (relative to the project root), or `missing`. */
  of(file: string): string {
    let digest = this.digests.get(file);
    if (digest === undefined) {
      try {
        digest = createHash('sha256').update(readFileSync(path.resolve(this.rootDir, file))).digest('hex');
      } catch {
        digest = MISSING;
      }
      this.digests.set(file, digest);
    }
    return digest;
  }

  /**
   * One hash over `parts` (JSON-serialisable settings) and the files' paths and contents. The file list is
   * sorted, so the order esbuild reports inputs in does not matter; paths are part of it, so the same contents
   * reached through other files do not match.
   */
  hash(parts: unknown, files: readonly string[]): string {
    const hash = createHash('sha256').update(JSON.stringify(parts));
    for (const file of [...new Set(files)].sort()) hash.update(`\0${file}\0${this.of(file)}`);
    return hash.digest('hex');
  }

  /** Forgets every digest: files written since are read again. */
  clear(): void {
    this.digests.clear();
  }
}
