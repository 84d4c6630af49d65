import { KinesisClient } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { openDeployment, type Deployment } from '../integration/deployment';
import { call, datapointEvent, logsPath, putEvents, uniqueOem } from '../integration/iap-helpers';
import { eventually } from '../integration/local-cloud-helpers';
import { accessibilityViolations, describeInBrowser, launchBrowser, newContext, screenshot, signIn, type InBrowser } from './browser';

/**
 * The console in a real browser (Chromium driven by playwright-core) against the local cloud: every step an
 * OEM admin takes, checked against the API and S3 behind it, and what a non-admin and another OEM see.
 * The steps build on each other (one signed-in admin, one OEM's data), so they run in order in one suite.
 */
jest.setTimeout(600_000);

const CONTEXT = { exportWindowMinutes: '1', exportCompactionDelaySeconds: '2', exportBatchingWindowSeconds: '1' };
const DSN = 'BT0000CONSOLE1';
const DATAPOINT = 'temp';
const DISPLAY_NAME = 'Room temperature';

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  prefix: string;
  region: string;
}

describeInBrowser('the OEM console in Chromium', () => {
  const oem = uniqueOem('console');
  const otherOem = uniqueOem('console-other');
  let deployment: Deployment;
  let consoleUrl: string;
  let browser: Browser;
  let page: Page;
  let cspViolations: string[];
  let kinesis: KinesisClient;
  let operator: S3Client;
  let bucket: string;
  /** The credentials the admin saw before and after the refresh. */
  const shown: { before?: Credentials; after?: Credentials } = {};

  const event = (value: number, at: number) => {
    const e = datapointEvent(oem, DSN, DATAPOINT, { value, at });
    (e.metadata as Record<string, unknown>).display_name = DISPLAY_NAME;
    return e;
  };
  const s3With = (c: Credentials) =>
    new S3Client({ region: c.region, endpoint: deployment.aws.endpoint, forcePathStyle: true, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey } });

  beforeAll(async () => {
    browser = await launchBrowser();
    deployment = await openDeployment({ context: CONTEXT });
    consoleUrl = deployment.outputs.ConsoleUrl!.replace(/\/+$/, '');
    bucket = deployment.outputs.ExportBucketName!;
    kinesis = new KinesisClient({ ...deployment.aws, requestHandler: new NodeHttpHandler() });
    operator = new S3Client({ ...deployment.aws, forcePathStyle: true });
    // The datapoint becomes known from its first event, and the events start their way to the export files
    // now: a one-minute window has to close before its CSV is written.
    const start = Date.now() - 3_600_000;
    await putEvents(kinesis, deployment.outputs.EventStreamName!, [event(1, start), event(2, start + 1000)]);
    ({ page, cspViolations } = await newContext(browser));
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    kinesis?.destroy();
    operator?.destroy();
    await deployment?.stop();
  });

  it('signs an admin in and shows the OEM, the role and the credentials, the secret masked until revealed', async () => {
    await page.goto(consoleUrl);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await screenshot(page, '00-sign-in');
    await expect(accessibilityViolations(page)).resolves.toEqual([]);
    await signIn(page, consoleUrl, oem, true);
    await expect(page.getByTestId('identity').textContent()).resolves.toBe(`OEM ${oem} · OEM admin`);
    await page.getByTestId('access-key-id').waitFor();

    const api = await call<Credentials>(deployment, 'GET', `/oems/${oem}/data-export/credentials`, await deployment.token({ oemId: oem, admin: true }));
    expect(api.status).toBe(200);
    const c = api.body;
    await expect(page.getByTestId('access-key-id').textContent()).resolves.toBe(c.accessKeyId);
    await expect(page.getByTestId('bucket').textContent()).resolves.toBe(c.bucket);
    await expect(page.getByTestId('prefix').textContent()).resolves.toBe(`${oem}/`);
    await expect(page.getByTestId('region').textContent()).resolves.toBe(c.region);
    await expect(page.getByTestId('s3-url').textContent()).resolves.toBe(`s3://${c.bucket}/${oem}/`);
    // Masked: none of the secret is on the page until Reveal.
    expect(await page.locator('body').innerText()).not.toContain(c.secretAccessKey);
    await screenshot(page, '01-data-export');
    await expect(accessibilityViolations(page)).resolves.toEqual([]);
    await page.getByRole('button', { name: 'Reveal' }).click();
    await expect(page.getByTestId('secret').textContent()).resolves.toBe(c.secretAccessKey);
    const commands = await page.locator('pre').allInnerTexts();
    expect(commands.join('\n')).toContain(`aws s3 ls s3://${c.bucket}/${oem}/`);
    expect(commands.join('\n')).toContain(`s3cmd --access_key=${c.accessKeyId} --secret_key=${c.secretAccessKey}`);
    // On the local cloud the commands name its S3 endpoint (config.json's s3Endpoint).
    if (deployment.aws.endpoint) expect(commands.join('\n')).toContain(`aws s3 ls s3://${c.bucket}/${oem}/ --endpoint-url ${deployment.aws.endpoint}`);
    shown.before = c;
  });

  it('refreshes the credentials only after Accept in a confirmation dialog; S3 then refuses the old key and takes the new one', async () => {
    const before = shown.before!;
    const refresh = page.getByRole('button', { name: 'Refresh credentials' });
    await refresh.click();
    const dialog = page.getByRole('dialog', { name: 'Refresh credentials?' });
    await dialog.waitFor();
    // Focus starts on the safe choice; Cancel changes nothing and gives focus back.
    await expect(page.locator(':focus').textContent()).resolves.toBe('Cancel');
    await screenshot(page, '02-refresh-confirmation');
    await expect(accessibilityViolations(page)).resolves.toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect(page.locator(':focus').textContent()).resolves.toBe('Refresh credentials');
    await expect(page.getByTestId('access-key-id').textContent()).resolves.toBe(before.accessKeyId);
    // From the keyboard: the focused button shows a focus ring, Enter opens the dialog, Escape cancels.
    await refresh.focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    await expect(page.locator(':focus').textContent()).resolves.toBe('Refresh credentials');
    await expect(refresh.evaluate((element) => {
      const style = (globalThis as unknown as InBrowser.Window).getComputedStyle(element);
      return `${style.outlineStyle} ${style.outlineWidth}`;
    })).resolves.toBe('solid 3px');
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await expect(page.getByTestId('access-key-id').textContent()).resolves.toBe(before.accessKeyId);

    await refresh.click();
    await dialog.getByRole('button', { name: 'Accept' }).click();
    await page.getByTestId('refresh-notice').filter({ hasText: 'New credentials issued' }).waitFor();
    const newKey = (await page.getByTestId('access-key-id').textContent())!;
    expect(newKey).not.toBe(before.accessKeyId);
    await page.getByRole('button', { name: 'Reveal' }).click();
    const after: Credentials = { ...before, accessKeyId: newKey, secretAccessKey: (await page.getByTestId('secret').textContent())! };
    expect(after.secretAccessKey).not.toBe(before.secretAccessKey);
    await screenshot(page, '03-data-export-refreshed');

    const list = new ListObjectsV2Command({ Bucket: before.bucket, Prefix: `${oem}/` });
    const oldClient = s3With(before);
    const newClient = s3With(after);
    try {
      await expect(oldClient.send(list)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
      await expect(newClient.send(list)).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    } finally {
      oldClient.destroy();
      newClient.destroy();
    }
    shown.after = after;
  });

  it("finds the datapoint with the IAP address grammar, shows the API's validation message, and saves its levels", async () => {
    const token = await deployment.token({ oemId: oem });
    await eventually(async () => {
      const known = await call<unknown[]>(deployment, 'GET', logsPath(DSN, '*', '*', DATAPOINT), token);
      return known.status === 200 && known.body.length === 1 ? true : undefined;
    }, 60_000, 'the datapoint to be known from its events');
    await page.getByRole('link', { name: 'Datapoint logs' }).click();
    await page.getByLabel('Device (DSN)').fill(DSN);
    await page.getByLabel('Datapoint', { exact: true }).fill('^te');
    await page.getByLabel('Names are regular expressions').check();
    await expect(page.getByTestId('address').inputValue()).resolves.toBe(`devs/*+name=+${DSN}/if/*/*/*+name=+%5Ete`);
    await page.getByRole('button', { name: 'Search' }).click();
    const open = page.getByRole('button', { name: `Open ${DATAPOINT} of ${DSN}` });
    await open.waitFor();
    await expect(page.getByTestId('datapoints').locator('tbody tr').count()).resolves.toBe(1);
    await open.click();

    const editor = page.getByTestId('editor');
    const retention1 = editor.locator('input[name="level1.retention"]');
    await retention1.fill('abc');
    await editor.getByRole('button', { name: 'Save logging' }).click();
    await expect(page.getByTestId('editor-error').textContent()).resolves.toMatch(/level1\.retention.*"abc"/);
    await expect(retention1.getAttribute('aria-invalid')).resolves.toBe('true');
    await screenshot(page, '04-datapoint-validation');
    await expect(accessibilityViolations(page)).resolves.toEqual([]);

    // The seed's set-up: 5-minute... here every update for a week, hourly for 6 months, daily for 5 years.
    const levels = { 1: ['0', '7'], 2: ['3600', '183'], 3: ['86400', '1827'] } as const;
    for (const n of [1, 2, 3] as const) {
      await editor.locator(`input[name="level${n}.interval"]`).fill(levels[n][0]);
      await editor.locator(`input[name="level${n}.retention"]`).fill(levels[n][1]);
    }
    await editor.getByLabel('minDeltaValue').selectOption('always');
    await editor.getByRole('button', { name: 'Save logging' }).click();
    await editor.getByText('Saved.').waitFor();

    const read = await call<{ root: Record<string, unknown> }[]>(deployment, 'GET', logsPath(DSN, 'device', '0', DATAPOINT), token);
    expect(read.status).toBe(200);
    expect(read.body[0]!.root).toEqual({
      level1: { interval: 0, retention: 7, logMultiple: null },
      level2: { interval: 3600, retention: 183, logMultiple: null },
      level3: { interval: 86_400, retention: 1827, logMultiple: null },
      minDeltaTime: 0,
      minDeltaValue: 'ALWAYS',
    });
  });

  it('draws a trend of the logged values from the level whose interval fits the range, with a table and a CSV of them', async () => {
    const start = Date.now() - 55 * 60_000;
    const values = Array.from({ length: 12 }, (_, i) => 20 + (i % 5) * 1.5);
    await putEvents(kinesis, deployment.outputs.EventStreamName!, values.map((v, i) => event(v, start + i * 5 * 60_000)));
    const token = await deployment.token({ oemId: oem });
    const valuesPath = logsPath(DSN, 'device', '0', DATAPOINT, 'value/*');
    await eventually(async () => {
      const r = await call<unknown[]>(deployment, 'GET', valuesPath, token);
      return r.status === 200 && r.body.length === values.length ? true : undefined;
    }, 60_000, 'the values to be logged');

    const trend = page.getByTestId('trend');
    // Six months reads the hourly level: one of the twelve values (the first of the hour).
    await trend.getByLabel('Last 6 months').check();
    await trend.getByTestId('level-choice').filter({ hasText: 'Level 2 (interval 1 h' }).waitFor();
    await expect(trend.getByTestId('level-choice').textContent()).resolves.toContain(' 1 value ');
    // A week reads the every-update level: all twelve, drawn by uPlot.
    await trend.getByLabel('Last week').check();
    await trend.getByTestId('level-choice').filter({ hasText: 'Level 1 (interval every update' }).waitFor();
    await expect(trend.getByTestId('level-choice').textContent()).resolves.toContain(`${values.length} values`);
    await trend.getByTestId('plot').locator('canvas').waitFor();
    await expect(trend.locator('.uplot .u-legend .u-series').nth(1).textContent()).resolves.toContain(DATAPOINT);
    // uPlot drew pixels of the series colour on its canvas.
    const drawn = await trend.getByTestId('plot').locator('canvas').evaluate((element) => {
      const canvas = element as unknown as InBrowser.Canvas;
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let stroke = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] === 0x1f && data[i + 1] === 0x5f && data[i + 2] === 0xa8) stroke++;
      return stroke;
    });
    expect(drawn).toBeGreaterThan(50);
    // A custom range of the last two hours reads the every-update level too.
    await trend.getByLabel('Custom').check();
    const utcMinute = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    const from = utcMinute(Date.now() - 2 * 3_600_000);
    await trend.getByLabel('From (UTC)').fill(from);
    await trend.getByLabel('To (UTC)').fill(utcMinute(Date.now() + 120_000));
    await trend.getByRole('button', { name: 'Show' }).click();
    await trend.getByTestId('level-choice').filter({ hasText: `from ${from.replace('T', ' ')} to` }).waitFor();
    await expect(trend.getByTestId('level-choice').textContent()).resolves.toMatch(new RegExp(`^Level 1 \\(interval every update.* ${values.length} values from`));
    await trend.getByTestId('plot').locator('canvas').waitFor();
    await screenshot(page, '05-datapoint-trend');

    await trend.getByRole('button', { name: 'Table' }).click();
    const cells = await trend.getByTestId('values').locator('tbody tr td:nth-child(3)').allTextContents();
    expect(cells).toEqual(values.map(String));
    await screenshot(page, '06-datapoint-table');
    await expect(accessibilityViolations(page)).resolves.toEqual([]);

    const [download] = await Promise.all([page.waitForEvent('download'), trend.getByRole('link', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toBe(`${DSN}_${DATAPOINT}_level1.csv`);
    const csv = (await readFile((await download.path())!, 'utf8')).trim().split('\r\n');
    expect(csv[0]).toBe('id,utc,local,value,tags');
    expect(csv.slice(1).map((line) => line.split(',')[3])).toEqual(values.map(String));
  });

  it('browses to an export file, newest folders first, previews it with the base64 columns decoded, and downloads it', async () => {
    const key = await eventually(async () => {
      const listed = await operator.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${oem}/datapoint/` }));
      return listed.Contents?.find((o) => o.Key!.endsWith('.csv'))?.Key;
    }, 240_000, 'an export file of the datapoint events');
    expect(key).toBeDefined();

    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByRole('button', { name: 'datapoint/', exact: true }).click();
    const folderButtons = page.getByTestId('files').locator('button.folder');
    await folderButtons.filter({ hasText: /^\d{4}-\d{2}-\d{2}-\d{2}:\d{2}:\d{2}\/$/ }).first().waitFor();
    const folders = await folderButtons.allTextContents();
    expect(folders.length).toBeGreaterThan(0);
    expect([...folders].sort().reverse()).toEqual(folders);
    await folderButtons.first().click();
    const preview = page.getByRole('button', { name: /^Preview / }).first();
    await preview.waitFor().catch(async (error: unknown) => {
      await screenshot(page, '07-files-failure');
      throw error;
    });
    await preview.click();
    const table = page.getByTestId('preview');
    await table.waitFor();
    const headers = await table.locator('thead th').allTextContents();
    const displayColumn = headers.indexOf('display_name *');
    expect(displayColumn).toBeGreaterThanOrEqual(0);
    const shownNames = await table.locator(`tbody tr td:nth-child(${displayColumn + 1})`).allTextContents();
    expect(shownNames.length).toBeGreaterThan(0);
    expect(new Set(shownNames)).toEqual(new Set([DISPLAY_NAME]));
    expect(await table.innerText()).not.toContain(Buffer.from(DISPLAY_NAME).toString('base64'));
    await screenshot(page, '07-files-preview');
    await expect(accessibilityViolations(page)).resolves.toEqual([]);

    // Download goes to a presigned URL of that very object.
    const fileName = (await page.getByTestId('files').locator('tbody th.file').first().textContent())!;
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().includes('X-Amz-Signature') || r.url().includes('Signature=')),
      page.getByRole('button', { name: `Download ${fileName}` }).click(),
    ]);
    const signed = await fetch(request.url());
    expect(signed.status).toBe(200);
    const object = await operator.send(new GetObjectCommand({ Bucket: bucket, Key: new URL(request.url()).pathname.split('/').slice(2).map(decodeURIComponent).join('/') }));
    await expect(signed.text()).resolves.toBe(await object.Body!.transformToString());
    expect(new URL(request.url()).pathname).toContain(`/${oem}/datapoint/`);
  });

  it('shows a non-admin of the OEM that only admins can view credentials, and none of them', async () => {
    const member = await newContext(browser);
    try {
      await signIn(member.page, consoleUrl, oem, false);
      await expect(member.page.getByTestId('identity').textContent()).resolves.toBe(`OEM ${oem} · OEM member`);
      await member.page.getByTestId('not-admin').waitFor();
      await expect(member.page.getByTestId('not-admin').textContent()).resolves.toContain('Only OEM admins can view the data export credentials');
      const text = await member.page.locator('body').innerText();
      expect(text).not.toContain(shown.after!.accessKeyId);
      expect(text).not.toContain(shown.after!.secretAccessKey);
      await expect(member.page.getByTestId('access-key-id').count()).resolves.toBe(0);
      await expect(member.page.getByRole('button', { name: 'Refresh credentials' }).count()).resolves.toBe(0);
      await screenshot(member.page, '08-data-export-non-admin');
      await expect(accessibilityViolations(member.page)).resolves.toEqual([]);
      expect(member.cspViolations).toEqual([]);
    } finally {
      await member.context.close();
    }
  });

  it("shows an admin of another OEM only that OEM's credentials, no files and none of the datapoints", async () => {
    const other = await newContext(browser);
    try {
      await signIn(other.page, consoleUrl, otherOem, true);
      await other.page.getByTestId('access-key-id').waitFor();
      await expect(other.page.getByTestId('prefix').textContent()).resolves.toBe(`${otherOem}/`);
      expect(await other.page.locator('body').innerText()).not.toContain(shown.after!.accessKeyId);

      await other.page.getByRole('link', { name: 'Files' }).click();
      await other.page.getByText('No export files yet').waitFor();
      expect(await other.page.locator('body').innerText()).not.toContain(oem);

      await other.page.getByRole('link', { name: 'Datapoint logs' }).click();
      await other.page.getByLabel('Device (DSN)').fill(DSN);
      await other.page.getByRole('button', { name: 'Search' }).click();
      await other.page.getByText('No datapoint matches this address.').waitFor();
      await screenshot(other.page, '09-datapoint-logs-other-oem');
      expect(other.cspViolations).toEqual([]);
    } finally {
      await other.context.close();
    }
  });

  it('works on a phone-sized screen', async () => {
    const phone = await newContext(browser, { width: 390, height: 844 });
    try {
      await signIn(phone.page, consoleUrl, oem, true);
      await phone.page.getByTestId('access-key-id').waitFor();
      // Nothing wider than the screen but the scrollable command blocks.
      const overflow = await phone.page.evaluate(() => {
        const root = (globalThis as unknown as InBrowser.Window).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(phone.page, '10-data-export-phone');
      await expect(accessibilityViolations(phone.page)).resolves.toEqual([]);
    } finally {
      await phone.context.close();
    }
  });

  it('signs out: the session is gone from the tab, the console asks to sign in again and refuses a callback it did not start', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await expect(page.evaluate(() => (globalThis as unknown as InBrowser.Window).sessionStorage.getItem('console.session'))).resolves.toBeNull();
    await expect(page.evaluate(() => (globalThis as unknown as InBrowser.Window).localStorage.length)).resolves.toBe(0);
    // A sign-in reply this tab did not ask for (a forged or replayed callback) is refused before any token request.
    const tokenRequests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/oauth2/token')) tokenRequests.push(r.url());
    });
    await page.goto(`${consoleUrl}/callback?code=forged&state=forged`);
    await page.getByRole('alert').filter({ hasText: 'does not belong to a sign-in started in this tab' }).waitFor();
    expect(tokenRequests).toEqual([]);
    await expect(page.getByTestId('identity').count()).resolves.toBe(0);
    expect(cspViolations).toEqual([]);
  });
});
