import { handler } from '../../../../../lambdas/functions/identity/handler';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { httpEvent, jwtEvent, lambdaContext } from '../../events';
import { logger } from '../../../../../lambdas/shared/logger';

beforeAll(() => logger.setLogLevel('SILENT'));

describe('GET /me', () => {
  it('returns the verified caller', async () => {
    const result = await handler(
      jwtEvent({ sub: 'user-1', 'custom:oem_id': '1234abcd', 'cognito:groups': '[oem-admin]' }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body ?? '')).toEqual({ subject: 'user-1', oemId: '1234abcd', admin: true });
  });

  it('answers 403 for a token without an OEM', async () => {
    const result = await handler(jwtEvent({ sub: 'user-1' }), lambdaContext);
    expect(result.statusCode).toBe(403);
    expect(JSON.parse(result.body ?? '')).toEqual({ code: 'NoOem', message: 'Caller belongs to no OEM' });
  });

  it('answers 401 without claims', async () => {
    // A route wired without the authorizer: no authorizer context at all.
    const event = httpEvent('GET /me') as APIGatewayProxyEventV2WithJWTAuthorizer;
    const result = await handler(event, lambdaContext);
    expect(result.statusCode).toBe(401);
  });
});
