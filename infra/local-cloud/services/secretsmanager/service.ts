import type { CredentialStore } from '../../auth/credentials';
import type { LocalService } from '../../service';
import type { LocalSecretsManager } from './models';
import { secretsManagerHandler } from './responses';

export interface SecretsManagerService extends LocalService {
  readonly secrets: LocalSecretsManager;
}

/** Secrets Manager on the edge (`X-Amz-Target: secretsmanager.*`); keys of `store` are held to their policies. */
export function secretsManagerService(secrets: LocalSecretsManager, store?: CredentialStore): SecretsManagerService {
  return {
    name: 'secretsmanager',
    matcher: { signingName: 'secretsmanager', targetPrefixes: ['secretsmanager'] },
    handle: secretsManagerHandler(secrets, store),
    secrets,
    close: () => secrets.close(),
  };
}
