import '../function-env';
import { makeHandler } from '../../../../../lambdas/functions/export-credentials/handler';
import type { ExportCredentials } from '../../../../../lambdas/domain/credentials/credentials';
import { logger } from '../../../../../lambdas/shared/logger';
import { jwtEvent, lambdaContext } from '../../events';

beforeAll(() => logger.setLogLevel('SILENT'));

const OEM = '1234abcd';
const ROUTE = 'GET /oems/{oem_id}/data-export/credentials';

function event(oemId: string, claims: Record<string, string>, method = 'GET') {
  const base = jwtEvent({ sub: 'u1', ...claims }, ROUTE.replace('GET', method));
  return { ...base, requestContext: { ...base.requestContext, http: { ...base.requestContext.http, method } }, pathParameters: { oem_id: oemId } };
}

describe('the credentials routes', () => {
  const service = {
    current: jest.fn(async () => ({ accessKeyId: 'AKIA1' }) as ExportCredentials),
    refresh: jest.fn(async () => ({ accessKeyId: 'AKIA2' }) as ExportCredentials),
  };
  const handler = makeHandler({ service });
  const admin = { 'custom:oem_id': OEM, 'cognito:groups': '[oem-admin]' };
  beforeEach(() => jest.clearAllMocks());

  it('serves the OEM\'s admin, GET for the current and POST for new credentials, never cached', async () => {
    const got = await handler(event(OEM, admin), lambdaContext);
    expect(got).toMatchObject({ statusCode: 200, headers: { 'cache-control': 'no-store' } });
    expect(JSON.parse(got.body!)).toEqual({ accessKeyId: 'AKIA1' });
    expect(JSON.parse((await handler(event(OEM, admin, 'POST'), lambdaContext)).body!)).toEqual({ accessKeyId: 'AKIA2' });
  });

  it.each([
    ['a non-admin of the OEM', OEM, { 'custom:oem_id': OEM }],
    ['another OEM\'s admin', OEM, { 'custom:oem_id': '5678ef90', 'cognito:groups': '[oem-admin]' }],
  ])('refuses %s with 403', async (_, oemId, claims) => {
    expect(await handler(event(oemId, claims), lambdaContext)).toMatchObject({ statusCode: 403 });
    expect(service.current).not.toHaveBeenCalled();
  });

  it('refuses a malformed OEM id with 400', async () => {
    const reply = await handler(event('../x', admin), lambdaContext);
    expect(reply.statusCode).toBe(400);
    expect(JSON.parse(reply.body!)).toMatchObject({ code: 'BadPath' });
  });
});
