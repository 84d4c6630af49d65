import { randomUUID } from 'node:crypto';
import { Authenticator, queryRejection, type CredentialStore } from '../../auth/credentials';
import { QueryError, queryError } from '../../aws-protocol/errors';
import type { ServiceHandler } from '../../aws-protocol/http';
import { queryProtocolParams, queryResponse } from '../../aws-protocol/query-protocol';
import { xmlElement } from '../../aws-protocol/xml';

/**
 * STS over the query protocol (`Version=2011-06-15`): only `GetCallerIdentity` (who am I), enough for
 * `aws sts get-caller-identity` with a key the local IAM issued. Other callers are the account's root.
 */

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function stsHandler(store: CredentialStore, auth = new Authenticator(store)): ServiceHandler {
  return async (request) => {
    const params = queryProtocolParams(request);
    const action = params.get('Action') ?? '';
    const requestId = randomUUID();
    const caller = auth.authenticate(request);
    if (caller.kind === 'rejected') return queryError(STS_NAMESPACE, queryRejection(caller), requestId);
    if (action !== 'GetCallerIdentity') {
      return queryError(STS_NAMESPACE, new QueryError('InvalidAction', 400, `The local cloud's STS answers GetCallerIdentity only, not ${action}.`), requestId);
    }
    if (caller.kind === 'user') auth.recordUse(caller, 'sts');
    const identity = caller.kind === 'user'
      ? { arn: caller.user.arn, userId: caller.user.userId }
      : { arn: `arn:aws:iam::${store.accountId}:root`, userId: store.accountId };
    return queryResponse(STS_NAMESPACE, action, xmlElement('Arn', identity.arn) + xmlElement('UserId', identity.userId) + xmlElement('Account', store.accountId), requestId);
  };
}
