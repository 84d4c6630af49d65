import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * The browser the console suites drive: the system Chromium (Debian package `chromium`) through playwright-core,
 * which downloads no browser of its own. Without it the suites are skipped with a message saying how to install
 * it, unless `REQUIRE_BROWSER=1` (CI), which makes a missing browser a failure.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const BROWSER_REQUIRED = process.env.REQUIRE_BROWSER === '1';
export const BROWSER_AVAILABLE = existsSync(CHROMIUM_PATH);

/** Screenshots of every page the suites visit (gitignored). */
export const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', '.local', 'screenshots');

const SKIP_MESSAGE =
  `Browser tests skipped: no Chromium at ${CHROMIUM_PATH}. Install it with \`sudo apt-get install -y chromium\` ` +
  '(Debian/Ubuntu), or point CHROMIUM_PATH at a Chromium or Chrome binary. CI sets REQUIRE_BROWSER=1, where a missing browser fails.';

/** `describe` when a browser is there or required, else `describe.skip` after saying why. */
export function describeInBrowser(name: string, body: () => void): void {
  if (BROWSER_AVAILABLE || BROWSER_REQUIRED) {
    describe(name, body);
    return;
  }
  process.stderr.write(`\n${SKIP_MESSAGE}\n\n`);
  describe.skip(`${name} (skipped: no Chromium; apt-get install chromium)`, body);
}

export async function launchBrowser(): Promise<Browser> {
  if (!BROWSER_AVAILABLE) throw new Error(`REQUIRE_BROWSER=1 but ${SKIP_MESSAGE.replace('Browser tests skipped: ', '')}`);
  const { chromium } = await import('playwright-core');
  // --no-sandbox: CI and these machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox'] });
}

/** A fresh browser profile (own sessionStorage) at a laptop's size, recording any CSP violation it reports. */
export async function newContext(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page; cspViolations: string[] }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  return { context, page, cspViolations };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Signs in through the local issuer's sign-in page, as a person would: OEM id, the admin box, Sign in. */
export async function signIn(page: Page, consoleUrl: string, oemId: string, admin: boolean): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('OEM id').fill(oemId);
  const box = page.getByLabel('OEM admin');
  if (admin) await box.check();
  else await box.uncheck();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('identity').filter({ hasText: oemId }).waitFor();
}

/**
 * The little of the browser's globals that functions run in the page use (the test code is type-checked
 * without the DOM library, which the Lambda code must not see).
 */
export declare namespace InBrowser {
  interface Storage {
    getItem(key: string): string | null;
    readonly length: number;
  }
  interface Window {
    document: { documentElement: { scrollWidth: number; clientWidth: number } };
    sessionStorage: Storage;
    localStorage: Storage;
    getComputedStyle(element: unknown): { outlineStyle: string; outlineWidth: string };
  }
  interface Canvas {
    width: number;
    height: number;
    getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
  }
}

interface AxeViolation {
  id: string;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * The WCAG 2 A/AA rules axe-core checks (labels, names, contrast, landmarks, ARIA use) on the page as it is
 * now: the violations, each with the elements it found. axe runs through the debugging protocol, so the
 * page's CSP (which would refuse an injected script) stays as it is.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const source = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as InBrowser.Window).document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => n.target) }));
  });
  return violations.map((v) => `${v.id} (${v.help}): ${JSON.stringify(v.nodes.slice(0, 5))}`);
}
