import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildConsole, JS_GZIP_BUDGET } from '../../../console/build';

describe('the console build', () => {
  let outDir: string;
  let lines: string[];
  let built: Awaited<ReturnType<typeof buildConsole>>;

  beforeAll(async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), 'console-build-'));
    lines = [];
    built = await buildConsole(outDir, { log: (l) => lines.push(l) });
  }, 120_000);

  afterAll(() => rm(outDir, { recursive: true, force: true }));

  it('writes index.html with one hashed script and stylesheet, nothing inline, and no config.json', async () => {
    const html = await readFile(path.join(outDir, 'index.html'), 'utf8');
    expect(built.js).toMatch(/^\/assets\/main-[A-Z0-9]+\.js$/);
    expect(built.css).toMatch(/^\/assets\/main-[A-Z0-9]+\.css$/);
    expect(html).toContain(`<script type="module" src="${built.js}"></script>`);
    expect(html).toContain(`<link rel="stylesheet" href="${built.css}">`);
    // No inline script or style: every <script> has a src, no <style>, no style= attribute.
    expect(html.match(/<script\b[^>]*>/g)).toEqual([`<script type="module" src="${built.js}">`]);
    expect(html).not.toMatch(/<style|style=/);
    expect(html).toContain(`content="script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'"`);
    expect((await readdir(outDir)).sort()).toEqual(['assets', 'index.html']);
  });

  it('bundles everything (no CDN) under the gzip budget and prints the size', async () => {
    const js = await readFile(path.join(outDir, built.js), 'utf8');
    expect(js).not.toMatch(/https?:\/\/(cdn|unpkg|cdnjs|esm\.sh|jsdelivr)/);
    const css = await readFile(path.join(outDir, built.css), 'utf8');
    expect(css).toContain('.uplot');
    expect(built.jsGzipBytes).toBeGreaterThan(1000);
    expect(built.jsGzipBytes).toBeLessThan(JS_GZIP_BUDGET);
    expect(lines.join('\n')).toMatch(/JS [\d.]+ KB \([\d.]+ KB gzip, budget 200\.0 KB\)/);
  });
});
