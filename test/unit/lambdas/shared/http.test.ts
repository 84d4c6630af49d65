import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  HttpError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  httpHandler,
  json,
} from '../../../../lambdas/shared/http';
import { logger } from '../../../../lambdas/shared/logger';
import { httpEvent, lambdaContext } from '../events';

// Keep test output readable; spies still see every call.
beforeAll(() => logger.setLogLevel('SILENT'));
afterEach(() => jest.restoreAllMocks());

describe('json', () => {
  it('returns a structured result with a JSON body and content type', () => {
    expect(json(201, { a: 1 })).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
  });
});

describe('HttpError subclasses', () => {
  it.each([
    [new BadRequestError(), 400, 'BadRequest'],
    [new UnauthorizedError(), 401, 'Unauthorized'],
    [new ForbiddenError(), 403, 'Forbidden'],
    [new NotFoundError(), 404, 'NotFound'],
    [new ConflictError(), 409, 'Conflict'],
    [new PayloadTooLargeError(), 413, 'PayloadTooLarge'],
  ])('%s has its status and code', (error, statusCode, code) => {
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ statusCode, code });
  });

  it('takes a message and a more specific code', () => {
    expect(new BadRequestError('sz must be a number', 'InvalidQuery')).toMatchObject({
      statusCode: 400,
      code: 'InvalidQuery',
      message: 'sz must be a number',
      name: 'BadRequestError',
    });
  });
});

describe('httpHandler', () => {
  it('passes a successful result through', async () => {
    const handler = httpHandler(async () => json(200, { ok: true }));
    await expect(handler(httpEvent(), lambdaContext)).resolves.toEqual(json(200, { ok: true }));
  });

  it('maps an HttpError to its status and a { code, message } body', async () => {
    const handler = httpHandler(async () => {
      throw new NotFoundError('No datapoint Blue_LED', 'DatapointNotFound');
    });
    const result = await handler(httpEvent(), lambdaContext);
    expect(result.statusCode).toBe(404);
    expect(result.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(result.body ?? '')).toEqual({ code: 'DatapointNotFound', message: 'No datapoint Blue_LED' });
  });

  it('answers anything else with a generic 500 and logs the error, not the event', async () => {
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const handler = httpHandler(async () => {
      throw new Error('secret table name in a stack trace');
    });
    const event = { ...httpEvent(), body: 'private payload' };
    const result = await handler(event, lambdaContext);
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body ?? '')).toEqual({ code: 'InternalError', message: 'Internal error' });
    expect(result.body).not.toContain('secret');
    expect(logged).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(logged.mock.calls)).not.toContain('private payload');
  });

  it('treats a thrown non-Error as an internal error', async () => {
    jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const handler = httpHandler(async () => {
      throw 'a string';
    });
    await expect(handler(httpEvent(), lambdaContext)).resolves.toMatchObject({ statusCode: 500 });
  });
});
