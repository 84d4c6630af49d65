import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { callerFromEvent } from '../shared/auth';
import { OEM_ID_PATTERN } from '../shared/device-events';
import { BadRequestError, ForbiddenError, json } from '../shared/http';
import type { CredentialsService } from './credentials';

/**
 * The credentials routes. Only an admin of the OEM in the path may call them: the caller's OEM and
 * role come from the verified token; another OEM's admin or a non-admin gets 403.
 */
export async function handleCredentials(event: APIGatewayProxyEventV2WithJWTAuthorizer, service: Pick<CredentialsService, 'current' | 'refresh'>): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = callerFromEvent(event);
  const oemId = event.pathParameters?.oem_id ?? '';
  if (!OEM_ID_PATTERN.test(oemId)) throw new BadRequestError(`oem_id ${JSON.stringify(oemId)} is not an OEM id`, 'BadPath');
  if (!caller.admin || caller.oemId !== oemId) throw new ForbiddenError(`only an admin of OEM ${oemId} may manage its data export credentials`, 'NotOemAdmin');
  const refresh = event.requestContext.http.method.toUpperCase() === 'POST';
  const credentials = refresh ? await service.refresh(oemId) : await service.current(oemId);
  return { ...json(200, credentials), headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } };
}
