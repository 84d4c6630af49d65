import { Authenticator, deniedMessage, rejection, type CredentialStore } from '../../auth/credentials';
import { jsonError } from '../../aws-protocol/errors';
import { json, type BufferedRequest, type ServiceHandler } from '../../aws-protocol/http';
import { AMZ_JSON_1_1, targetOperation } from '../../aws-protocol/json-protocol';
import { SecretsError, type Input, type LocalSecretsManager } from './models';

/**
 * Secrets Manager's JSON 1.1 protocol (`X-Amz-Target: secretsmanager.<Operation>`). A request signed with
 * a key the credential store issued is checked against that user's policies (`secretsmanager:<Operation>`
 * on the secret's ARN); other callers pass.
 */

const JSON_11 = { 'content-type': AMZ_JSON_1_1 };

export function secretsManagerHandler(secrets: LocalSecretsManager, store?: CredentialStore): ServiceHandler {
  const auth = store && new Authenticator(store);
  return async (request) => {
    const operation = targetOperation(request);
    try {
      let input: Input;
      try {
        input = JSON.parse(request.body.toString('utf8') || '{}') as Input;
      } catch {
        throw new SecretsError('SerializationException', 'Start of structure or map found where not expected.');
      }
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw new SecretsError('SerializationException', 'Start of structure or map found where not expected.');
      secrets.purgeExpired();
      if (auth) checkCaller(auth, secrets, request, operation, input);
      const { body, changed } = dispatch(secrets, operation, input);
      if (changed) await secrets.persist();
      return json(200, body, JSON_11);
    } catch (error) {
      if (error instanceof SecretsError) return jsonError(error.status, error.type, error.message, { contentType: AMZ_JSON_1_1, messageKey: 'Message' });
      throw error;
    }
  };
}

/** Keys issued by the credential store are verified and held to their user's policies. */
function checkCaller(auth: Authenticator, secrets: LocalSecretsManager, request: BufferedRequest, operation: string, input: Input): void {
  const caller = auth.authenticate(request);
  if (caller.kind === 'rejected') {
    const { code, status, message } = rejection(caller, 'json');
    throw new SecretsError(code, message, status);
  }
  if (caller.kind !== 'user') return;
  const id = typeof input.SecretId === 'string' ? input.SecretId : typeof input.Name === 'string' ? input.Name : undefined;
  const secret = id ? secrets.find(id) : undefined;
  const resource = secret?.arn ?? (id ? `arn:aws:secretsmanager:${secrets.region}:${secrets.accountId}:secret:${id}` : '*');
  const action = `secretsmanager:${operation}`;
  const evaluation = auth.authorize(caller.user, { action, resource, context: secret ? { 'secretsmanager:Name': secret.name } : {} });
  if (evaluation.decision !== 'Allow') throw new SecretsError('AccessDeniedException', deniedMessage(caller.user, action, resource, evaluation));
  auth.recordUse(caller, 'secretsmanager', secrets.region);
}

/** Runs an operation; `changed` says whether the state must be written. */
function dispatch(secrets: LocalSecretsManager, operation: string, input: Input): { body: unknown; changed: boolean } {
  switch (operation) {
    case 'CreateSecret':
      return { body: secrets.createSecret(input), changed: true };
    case 'GetSecretValue': {
      const { output, touched } = secrets.getSecretValue(input);
      return { body: output, changed: touched };
    }
    case 'BatchGetSecretValue': {
      const { output, touched } = secrets.batchGetSecretValue(input);
      return { body: output, changed: touched };
    }
    case 'PutSecretValue':
      return { body: secrets.putSecretValue(input), changed: true };
    case 'UpdateSecret':
      return { body: secrets.updateSecret(input), changed: true };
    case 'DescribeSecret':
      return { body: secrets.describeSecret(input), changed: false };
    case 'DeleteSecret':
      return { body: secrets.deleteSecret(input), changed: true };
    case 'RestoreSecret':
      return { body: secrets.restoreSecret(input), changed: true };
    case 'ListSecrets':
      return { body: secrets.listSecrets(input), changed: false };
    case 'ListSecretVersionIds':
      return { body: secrets.listVersionIds(input), changed: false };
    case 'UpdateSecretVersionStage':
      return { body: secrets.updateVersionStage(input), changed: true };
    case 'TagResource':
      secrets.tagResource(input);
      return { body: {}, changed: true };
    case 'UntagResource':
      secrets.untagResource(input);
      return { body: {}, changed: true };
    default:
      throw new SecretsError('UnknownOperationException', `The local cloud's Secrets Manager does not implement ${operation || 'this operation'}.`);
  }
}
