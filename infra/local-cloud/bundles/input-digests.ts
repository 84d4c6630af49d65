import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
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
  private readonly digests = new Map<string, { digest: string; readAt: number }>();

  constructor(readonly rootDir: string) {}

  /** The digest of `file` (relative to the project root), or `missing`; read again if the memo is older than `notBefore`. */
  of(file: string, notBefore = 0): string {
    const known = this.digests.get(file);
    if (known && known.readAt >= notBefore) return known.digest;
    const readAt = Date.now();
    let digest: string;
    try {
      digest = createHash('sha256').update(readFileSync(path.resolve(this.rootDir, file))).digest('hex');
    } catch {
      digest = MISSING;
    }
    this.digests.set(file, { digest, readAt });
    return digest;
  }

  /**
   * Whether any of the files was modified at or after `time` (ms since the epoch). A missing file counts as
   * modified when `missingIsModified` (files known to have been read, since removed).
   */
  modifiedSince(files: readonly string[], time: number, missingIsModified = true): boolean {
    return files.some((file) => {
      try {
        return statSync(path.resolve(this.rootDir, file)).mtimeMs >= time;
      } catch {
        return missingIsModified;
      }
    });
  }

  /**
   * One hash over `parts` (JSON-serialisable settings) and the files' paths and contents. The file list is
   * sorted, so the order esbuild reports inputs in does not matter; paths are part of it, so the same contents
   * reached through other files do not match. Contents are read no earlier than `notBefore`.
   */
  hash(parts: unknown, files: readonly string[], notBefore = 0): string {
    const hash = createHash('sha256').update(JSON.stringify(parts));
    for (const file of [...new Set(files)].sort()) hash.update(`\0${file}\0${this.of(file, notBefore)}`);
    return hash.digest('hex');
  }
}
