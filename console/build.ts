import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Builds the console into `outDir`: index.html, one hashed JS bundle and one hashed CSS file under `assets/`.
 * Everything is bundled (no CDN) and nothing is inline, so the host can send a strict content security policy;
 * index.html carries one too. `config.json` is not written here: the deployment (or the local cloud) adds it.
 */

const SRC = path.join(__dirname, 'src');

/** The JS budget of DESIGN §8: the gzip size of the bundle the browser loads. */
export const JS_GZIP_BUDGET = 200 * 1024;

export interface ConsoleBuild {
  /** Paths under the site root, e.g. `/assets/main-ABCD1234.js`. */
  js: string;
  css: string;
  jsBytes: number;
  jsGzipBytes: number;
  cssGzipBytes: number;
}

// Scripts and styles only from the site itself; no plugins, no <base> rewriting. The host adds the rest
// (default-src, connect-src for the API and the sign-in domain, frame-ancestors) as a response header.
const META_CSP = "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'";

export async function buildConsole(outDir: string, options: { log?: (line: string) => void } = {}): Promise<ConsoleBuild> {
  const log = options.log ?? ((line: string) => console.log(line));
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(SRC, 'main.tsx')],
    outdir: outDir,
    entryNames: 'assets/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome111', 'firefox111', 'safari16.4', 'edge111'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: false,
    legalComments: 'linked',
    metafile: true,
    write: false,
    logLevel: 'warning',
    absWorkingDir: path.join(__dirname, '..'),
  });
  let js: { path: string; contents: Uint8Array } | undefined;
  let css: { path: string; contents: Uint8Array } | undefined;
  for (const file of result.outputFiles) {
    await mkdir(path.dirname(file.path), { recursive: true });
    await writeFile(file.path, file.contents);
    if (file.path.endsWith('.js')) js = file;
    if (file.path.endsWith('.css')) css = file;
  }
  if (!js || !css) throw new Error('esbuild wrote no JS or no CSS bundle');
  const site = (p: string) => `/${path.relative(outDir, p).split(path.sep).join('/')}`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${META_CSP}">
<title>Device data console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${site(css.path)}">
<script type="module" src="${site(js.path)}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The console needs JavaScript.</noscript>
</body>
</html>
`;
  await writeFile(path.join(outDir, 'index.html'), html);
  const built: ConsoleBuild = {
    js: site(js.path),
    css: site(css.path),
    jsBytes: js.contents.byteLength,
    jsGzipBytes: gzipSync(js.contents, { level: 9 }).byteLength,
    cssGzipBytes: gzipSync(css.contents, { level: 9 }).byteLength,
  };
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  log(`Console built in ${outDir}: JS ${kb(built.jsBytes)} (${kb(built.jsGzipBytes)} gzip, budget ${kb(JS_GZIP_BUDGET)}), CSS ${kb(built.cssGzipBytes)} gzip`);
  if (built.jsGzipBytes > JS_GZIP_BUDGET) throw new Error(`The console's JS is ${kb(built.jsGzipBytes)} gzip, over the ${kb(JS_GZIP_BUDGET)} budget`);
  return built;
}

// `node --import tsx console/build.ts [outDir]`
if (require.main === module) {
  const outDir = path.resolve(process.argv[2] ?? path.join(__dirname, '..', '.local', 'console-dist'));
  buildConsole(outDir).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
