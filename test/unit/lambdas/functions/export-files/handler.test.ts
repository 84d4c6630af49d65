import '../function-env';
import { makeHandler, type Deps } from '../../../../../lambdas/functions/export-files/handler';
import { ApiRateLimiter } from '../../../../../lambdas/domain/rate-limit/limiter';
import { logger } from '../../../../../lambdas/shared/logger';
import { jwtEvent, lambdaContext } from '../../events';

beforeAll(() => logger.setLogLevel('SILENT'));

const OEM = '1234abcd';
const BASE = 'GET /oems/{oem_id}/data-export/files';
const KEY = `${OEM}/datapoint/2026-12-02-10:05:00/${OEM}_datapoint_20261202T100500Z.csv`;
const NOW = new Date('2026-12-02T12:00:00Z');

function event(route: string, query: Record<string, string> = {}, claims: Record<string, string> = { 'custom:oem_id': OEM }, oemId = OEM) {
  return { ...jwtEvent({ sub: 'u1', ...claims }, route), pathParameters: { oem_id: oemId }, queryStringParameters: query };
}

function setup(overrides: Partial<Deps['files']> = {}) {
  const files: Deps['files'] = {
    listLevel: jest.fn(async (prefix: string) => ({
      prefixes: prefix === `${OEM}/` ? [`${OEM}/datapoint/`, `${OEM}/_staging/`] : [],
      objects: [],
      complete: true,
    })),
    presignDownload: jest.fn(async (key: string, seconds: number) => `https://bucket.example/${key}?X-Amz-Expires=${seconds}`),
    readStart: jest.fn(async () => ({ text: 'display_name,value\r\nSGk=,1\r\n', size: 27, complete: true })),
    ...overrides,
  };
  return { files, handler: makeHandler({ files, now: () => NOW }) };
}

const body = (reply: { body?: string }) => JSON.parse(reply.body!) as Record<string, unknown>;

describe('the export files routes', () => {
  it('count against the OEM\'s rate limit: 429 with Retry-After past it, the files not read', async () => {
    const counts = new Map<string, number>();
    const limiter = new ApiRateLimiter(
      { increment: async (key: string) => { counts.set(key, (counts.get(key) ?? 0) + 1); return counts.get(key)!; } },
      { requests: 1, windowSeconds: 10 },
      () => NOW.getTime(),
    );
    const { files } = setup();
    const handler = makeHandler({ files, now: () => NOW, limiter });
    expect((await handler(event(BASE), lambdaContext)).statusCode).toBe(200);
    const reply = await handler(event(BASE), lambdaContext);
    expect(reply).toMatchObject({ statusCode: 429, headers: { 'retry-after': expect.any(String) } });
    expect(files.listLevel).toHaveBeenCalledTimes(1);
  });

  it('lists for a member who is not an admin, never cached', async () => {
    const { handler } = setup();
    const reply = await handler(event(BASE), lambdaContext);
    expect(reply).toMatchObject({ statusCode: 200, headers: { 'cache-control': 'no-store' } });
    expect(body(reply)).toEqual({ prefix: '', folders: [{ name: 'datapoint', prefix: 'datapoint/' }], files: [] });
  });

  it('presigns a download for 300 s from now', async () => {
    const { handler, files } = setup();
    const reply = await handler(event(`${BASE}/download`, { key: KEY }), lambdaContext);
    expect(body(reply)).toEqual({ url: `https://bucket.example/${KEY}?X-Amz-Expires=300`, expiresAt: '2026-12-02T12:05:00.000Z' });
    expect(files.presignDownload).toHaveBeenCalledWith(KEY, 300);
  });

  it('previews with the decoded columns', async () => {
    const { handler } = setup();
    expect(body(await handler(event(`${BASE}/preview`, { key: KEY }), lambdaContext))).toEqual({
      key: KEY, size: 27, columns: ['display_name', 'value'], rows: [['Hi', '1']], decoded: ['display_name'], truncated: false,
    });
  });

  it.each([
    ['another OEM\'s member', BASE, {}, { 'custom:oem_id': '5678ef90' }, 403, 'NotOemMember'],
    ['a key of another OEM', `${BASE}/download`, { key: `5678ef90/datapoint/x/y.csv` }, undefined, 403, 'NotOemFile'],
    ['a bad prefix', BASE, { prefix: 'datapoint' }, undefined, 400, 'BadPrefix'],
    ['no key', `${BASE}/preview`, {}, undefined, 400, 'BadKey'],
    ['too many rows', `${BASE}/preview`, { key: KEY, rows: '500' }, undefined, 400, 'BadRows'],
  ])('refuses %s', async (_what, route, query, claims, status, code) => {
    const { handler, files } = setup();
    const reply = await handler(event(route, query, claims), lambdaContext);
    expect(reply.statusCode).toBe(status);
    expect(body(reply)).toMatchObject({ code });
    expect(files.presignDownload).not.toHaveBeenCalled();
    expect(files.readStart).not.toHaveBeenCalled();
  });

  it('answers a missing file with 404 and a store failure with a generic 500', async () => {
    expect((await setup({ readStart: jest.fn(async () => undefined) }).handler(event(`${BASE}/preview`, { key: KEY }), lambdaContext)).statusCode).toBe(404);
    const failing = await setup({ listLevel: jest.fn(async () => { throw new Error('S3 is down: secret detail'); }) }).handler(event(BASE), lambdaContext);
    expect(failing.statusCode).toBe(500);
    expect(failing.body).not.toContain('secret detail');
  });
});
