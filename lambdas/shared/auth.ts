import type { APIGatewayProxyEventV2WithJWTAuthorizer } from 'aws-lambda';
import { ForbiddenError, UnauthorizedError } from './http';

/** Token claim holding the caller's OEM (Cognito custom attribute `oem_id`). */
export const OEM_CLAIM = 'custom:oem_id';
/** Token claim listing the caller's Cognito groups. */
export const GROUPS_CLAIM = 'cognito:groups';
/** Group whose members administer their own OEM. */
export const ADMIN_GROUP = 'oem-admin';

/** The verified caller of an HTTP route. Tenancy and role come only from verified claims. */
export interface Caller {
  /** The token's `sub`. */
  subject: string;
  oemId: string;
  /** Member of `oem-admin`: may manage its own OEM's data export credentials. */
  admin: boolean;
}

type ClaimValue = string | number | boolean | string[];

/**
 * The caller of a route behind the JWT authorizer. No claims or no `sub` → 401;
 * an identity without an OEM → 403.
 */
export function callerFromEvent(event: APIGatewayProxyEventV2WithJWTAuthorizer): Caller {
  // The authorizer context is absent when a route is (mis)configured without the authorizer.
  const claims: Record<string, ClaimValue> | undefined = event.requestContext.authorizer?.jwt?.claims;
  if (!claims) throw new UnauthorizedError('Missing or invalid token');

  const subject = claims.sub;
  if (typeof subject !== 'string' || subject === '') throw new UnauthorizedError('Token has no subject');

  const oemId = claims[OEM_CLAIM];
  if (typeof oemId !== 'string' || oemId.trim() === '') {
    throw new ForbiddenError('Caller belongs to no OEM', 'NoOem');
  }

  return { subject, oemId, admin: groupsOf(claims[GROUPS_CLAIM]).includes(ADMIN_GROUP) };
}

/**
 * Group names from the `cognito:groups` claim, read exactly as API Gateway HTTP APIs pass it to the
 * integration: an array claim becomes one string, its items joined by single spaces in brackets
 * (`[oem-admin other]`). Cognito group names cannot hold whitespace, so splitting on spaces is exact;
 * nothing else is split or stripped: `"oem-admin"` (quotes included) and `x,oem-admin` are names of
 * their own and never count as `oem-admin`. A real array (direct invocation) is taken item by item;
 * a string without brackets is one group.
 */
export function groupsOf(claim: ClaimValue | undefined): string[] {
  if (Array.isArray(claim)) return claim.filter((g) => typeof g === 'string' && g !== '');
  if (typeof claim !== 'string' || claim === '') return [];
  if (claim.startsWith('[') && claim.endsWith(']')) return claim.slice(1, -1).split(' ').filter((g) => g !== '');
  return [claim];
}
