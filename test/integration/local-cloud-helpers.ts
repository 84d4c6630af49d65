import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../infra/local-cloud/local-cloud';

const ROOT = path.resolve(__dirname, '..', '..');

/** Starts a local cloud on free ports in a temporary data directory; `stop()` removes it. */
export async function startTestCloud(options: Partial<LocalCloudOptions> = {}): Promise<LocalCloud> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'local-cloud-test-'));
  const cloud = await startLocalCloud({
    rootDir: ROOT,
    dataDir,
    edgePort: 0,
    apiPort: 0,
    pollIntervalMs: 50,
    retryBaseDelayMs: 20,
    log: () => undefined,
    functionLog: () => undefined,
    ...options,
  });
  return {
    ...cloud,
    stop: async () => {
      await cloud.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
