import { handler } from '../../../../../lambdas/functions/health/handler';
import { httpEvent, lambdaContext } from '../../events';
import { logger } from '../../../../../lambdas/shared/logger';

beforeAll(() => logger.setLogLevel('SILENT'));

describe('GET /health', () => {
  it('answers 200 { status: "ok" }', async () => {
    const result = await handler(httpEvent('GET /health'), lambdaContext);
    expect(result).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'ok' }),
    });
  });
});
