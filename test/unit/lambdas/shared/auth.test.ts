import { callerFromEvent, groupsOf } from '../../../../lambdas/shared/auth';
import { ForbiddenError, UnauthorizedError } from '../../../../lambdas/shared/http';
import { httpEvent, jwtEvent } from '../events';
import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';

const base = { sub: 'user-1', 'custom:oem_id': '1234abcd' };

describe('callerFromEvent', () => {
  it('reads subject and OEM from the verified claims', () => {
    expect(callerFromEvent(jwtEvent(base))).toEqual({ subject: 'user-1', oemId: '1234abcd', admin: false });
  });

  it.each([
    ['a real array', ['other', 'oem-admin']],
    ['the bracketed string API Gateway sends', '[oem-admin other]'],
    ['a bracketed string with one group', '[oem-admin]'],
    ['a single string', 'oem-admin'],
  ])('recognises an admin from %s', (_, groups) => {
    expect(callerFromEvent(jwtEvent({ ...base, 'cognito:groups': groups })).admin).toBe(true);
  });

  it.each([
    ['no groups claim', undefined],
    ['other groups only', '[other oem-admins]'],
    ['an empty bracketed string', '[]'],
    ['an empty array', []],
    ['a non-string claim', true],
    ['a JSON-like bracketed string (not what API Gateway sends)', '["other","oem-admin"]'],
    ['a quoted group name', '["oem-admin"]'],
    ['a comma-joined name', '[x,oem-admin]'],
  ])('is not admin with %s', (_, groups) => {
    const claims = groups === undefined ? base : { ...base, 'cognito:groups': groups };
    expect(callerFromEvent(jwtEvent(claims)).admin).toBe(false);
  });

  it('answers 401 without an authorizer context', () => {
    const event = httpEvent('GET /me') as APIGatewayProxyEventV2WithJWTAuthorizer;
    expect(() => callerFromEvent(event)).toThrow(UnauthorizedError);
  });

  it('answers 401 without a subject', () => {
    expect(() => callerFromEvent(jwtEvent({ 'custom:oem_id': '1234abcd' }))).toThrow(UnauthorizedError);
  });

  it.each([
    ['missing', { sub: 'user-1' }],
    ['empty', { sub: 'user-1', 'custom:oem_id': ' ' }],
    ['not a string', { sub: 'user-1', 'custom:oem_id': 42 }],
  ])('answers 403 when the OEM claim is %s', (_, claims) => {
    const error = (() => {
      try {
        callerFromEvent(jwtEvent(claims));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({ statusCode: 403, code: 'NoOem' });
  });
});

describe('groupsOf', () => {
  it('splits the bracketed form API Gateway passes on spaces', () => {
    expect(groupsOf('[a b c]')).toEqual(['a', 'b', 'c']);
    expect(groupsOf('[oem-admin]')).toEqual(['oem-admin']);
  });
  it('takes a real array item by item', () => {
    expect(groupsOf(['oem-admin', 'x'])).toEqual(['oem-admin', 'x']);
  });
  it('keeps a single name whole', () => {
    expect(groupsOf('oem-admin')).toEqual(['oem-admin']);
  });
  it('never strips quotes or splits on commas: such names are not oem-admin', () => {
    expect(groupsOf('["oem-admin"]')).toEqual(['"oem-admin"']);
    expect(groupsOf('[x,oem-admin]')).toEqual(['x,oem-admin']);
    expect(groupsOf('x,oem-admin')).toEqual(['x,oem-admin']);
    expect(groupsOf(' oem-admin ')).toEqual([' oem-admin ']);
    expect(groupsOf(['"oem-admin"'])).not.toContain('oem-admin');
  });
  it('returns nothing for empty or missing claims', () => {
    expect(groupsOf('')).toEqual([]);
    expect(groupsOf('[]')).toEqual([]);
    expect(groupsOf(undefined)).toEqual([]);
    expect(groupsOf(3)).toEqual([]);
  });
});

describe('callerFromEvent admin role', () => {
  const event = (groups: string) => ({
    requestContext: { authorizer: { jwt: { claims: { sub: 's', 'custom:oem_id': '1234abcd', 'cognito:groups': groups }, scopes: null } } },
  }) as unknown as Parameters<typeof callerFromEvent>[0];
  it('is admin only for the exact group name', () => {
    expect(callerFromEvent(event('[oem-admin]')).admin).toBe(true);
    expect(callerFromEvent(event('[x oem-admin]')).admin).toBe(true);
    expect(callerFromEvent(event('["oem-admin"]')).admin).toBe(false);
    expect(callerFromEvent(event('[x,oem-admin]')).admin).toBe(false);
  });
});
