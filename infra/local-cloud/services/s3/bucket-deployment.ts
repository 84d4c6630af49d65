import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { buildConsoleInto, CONSOLE_BUILD_METADATA, CONSOLE_DIR, REPO_ROOT } from '../../../console-build';
import { InputDigests } from '../../bundles/input-digests';
import type { DeployContext } from '../../cloudformation/deploy';
import type { DeployedStack } from '../../cloudformation/template';

/** Content types of what a static site holds; others are `application/octet-stream`, as the AWS CLI's guess would fall back to. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.txt': 'text/plain; charset=utf-8', '.map': 'application/json', '.woff2': 'font/woff2', '.webmanifest': 'application/manifest+json',
};

export const contentTypeOf = (file: string): string => CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';

/**
 * The console's `config.json` with `s3Endpoint`, the local AWS endpoint: the console then shows aws CLI, s3cmd and
 * Cyberduck settings that reach the local S3 (on AWS the field is absent and the clients use AWS's own).
 */
function withS3Endpoint(body: Buffer, edgeUrl: string): Buffer {
  try {
    const config = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    return typeof config === 'object' && config !== null && 'apiUrl' in config ? Buffer.from(JSON.stringify({ ...config, s3Endpoint: edgeUrl })) : body;
  } catch {
    return body;
  }
}

interface BucketDeploymentProps {
  SourceObjectKeys: string[];
  SourceMarkers?: Array<Record<string, string>>;
  SourceMarkersConfig?: Array<{ jsonEscape?: boolean }>;
  DestinationBucketName: string;
  DestinationBucketKeyPrefix?: string;
  Prune?: boolean;
}

interface AssetManifest {
  files?: Record<string, { source: { path?: string }; destinations: Record<string, { objectKey: string }> }>;
}

/**
 * `Custom::CDKBucketDeployment` (CDK's BucketDeployment), done natively instead of by its Python provider: each
 * source is the asset directory the assembly's asset manifest names for its object key, its files copied to the
 * destination bucket with the deploy-time markers (`<<marker:0xbaba:N>>`) replaced by their resolved values
 * (JSON-escaped where the source asks) and the template's HTTPS URLs localized; `Prune` removes what the
 * sources no longer hold. The source the console construct marks as its build is built here (with bundling
 * skipped the assembly has no build), cached under `<dataDir>/console-build/<hash of console/>`.
 */
export async function deployBucketDeployments(stack: DeployedStack, context: DeployContext, dataDir: string): Promise<void> {
  const deployments = stack.resourcesOfType('Custom::CDKBucketDeployment');
  if (deployments.length === 0) return;
  const manifest = JSON.parse(await readFile(path.join(context.assemblyDir, `${stack.env.stackName}.assets.json`), 'utf8').catch(() => '{}')) as AssetManifest;
  const assetDirByKey = new Map<string, string>();
  for (const file of Object.values(manifest.files ?? {})) {
    for (const destination of Object.values(file.destinations)) {
      if (file.source.path) assetDirByKey.set(destination.objectKey, path.resolve(context.assemblyDir, file.source.path));
    }
  }
  const s3 = new S3Client({ ...context.client, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  try {
    for (const [id, resource] of deployments) {
      const props = stack.resolve(resource.Properties ?? {}) as BucketDeploymentProps;
      const consoleSource = resource.Metadata?.[CONSOLE_BUILD_METADATA];
      const files = new Map<string, Buffer>();
      for (const [index, objectKey] of props.SourceObjectKeys.entries()) {
        const dir = index === consoleSource ? await consoleBuild(dataDir, context.log) : assetDirByKey.get(objectKey);
        if (!dir || !existsSync(dir)) {
          context.log(`bucket deployment ${id}: source ${objectKey} is not in the assembly, skipped`);
          continue;
        }
        const markers = Object.entries(props.SourceMarkers?.[index] ?? {});
        const jsonEscape = props.SourceMarkersConfig?.[index]?.jsonEscape === true;
        for (const file of await listFiles(dir)) {
          let body: Buffer = await readFile(path.join(dir, file));
          if (markers.length > 0) {
            let text = body.toString('utf8');
            for (const [marker, value] of markers) text = text.split(marker).join(jsonEscape ? JSON.stringify(String(value)).slice(1, -1) : String(value));
            body = Buffer.from(stack.localizeUrls(text));
          }
          if (file === 'config.json' && markers.length > 0 && stack.env.edgeUrl) body = withS3Endpoint(body, stack.env.edgeUrl);
          files.set(file, body);
        }
      }
      const prefix = props.DestinationBucketKeyPrefix ? `${props.DestinationBucketKeyPrefix.replace(/\/$/, '')}/` : '';
      const Bucket = props.DestinationBucketName;
      for (const [file, body] of files) {
        await s3.send(new PutObjectCommand({ Bucket, Key: `${prefix}${file}`, Body: body, ContentType: contentTypeOf(file) }));
      }
      if (props.Prune !== false) {
        const keep = new Set([...files.keys()].map((f) => `${prefix}${f}`));
        let token: string | undefined;
        do {
          const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
          const stale = (page.Contents ?? []).flatMap((o) => (o.Key && !keep.has(o.Key) ? [{ Key: o.Key }] : []));
          if (stale.length) await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: stale } }));
          token = page.NextContinuationToken;
        } while (token);
      }
    }
  } finally {
    s3.destroy();
  }
}

/** Files under `dir`, relative, with `/` separators. */
async function listFiles(dir: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/** The console build of the current `console/` sources: reused when they are unchanged, else built (and older builds removed). */
async function consoleBuild(dataDir: string, log: (line: string) => void): Promise<string> {
  const sources = (await listFiles(CONSOLE_DIR).catch(() => [] as string[])).filter((f) => !f.startsWith('node_modules/')).map((f) => path.relative(REPO_ROOT, path.join(CONSOLE_DIR, f)));
  const key = new InputDigests(REPO_ROOT).hash({ version: 1 }, [...sources, 'package-lock.json']).slice(0, 16);
  const root = path.join(dataDir, 'console-build');
  const dir = path.join(root, key);
  if (existsSync(path.join(dir, 'index.html'))) return dir;
  await rm(root, { recursive: true, force: true });
  const building = `${dir}.tmp`;
  await mkdir(root, { recursive: true });
  const started = Date.now();
  buildConsoleInto(building);
  await rename(building, dir);
  log(`console built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}
