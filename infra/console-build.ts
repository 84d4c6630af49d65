import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * How the console's build is made, for the stack's asset bundling and the local cloud alike (no CDK imports:
 * the local cloud reads this without loading aws-cdk-lib).
 */

export const REPO_ROOT = path.resolve(__dirname, '..');
/** The console's source folder and its build script (`node --import tsx console/build.ts <outDir>`). */
export const CONSOLE_DIR = path.join(REPO_ROOT, 'console');
export const CONSOLE_BUILD_SCRIPT = path.join(CONSOLE_DIR, 'build.ts');
/**
 * Metadata type on the console's BucketDeployment custom resource: the index of its source that is the
 * console build. The local cloud, which synthesizes with bundling skipped, builds that source itself.
 */
export const CONSOLE_BUILD_METADATA = 'device-pipeline:console-build-source';

/** Builds the console into `outDir` with its build script, or writes a placeholder page when there is none. */
export function buildConsoleInto(outDir: string): void {
  if (!existsSync(CONSOLE_BUILD_SCRIPT)) {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'index.html'), PLACEHOLDER_PAGE);
    return;
  }
  execFileSync(process.execPath, ['--import', 'tsx', CONSOLE_BUILD_SCRIPT, outDir], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

const PLACEHOLDER_PAGE =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>OEM console</title></head>' +
  '<body><main><h1>OEM console</h1><p>The console build is not available in this checkout.</p></main></body></html>\n';
