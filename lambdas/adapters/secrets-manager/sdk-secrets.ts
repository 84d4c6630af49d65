import {
  CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretsPort, StoredCredentials } from '../../domain/credentials/ports';

/** Secrets Manager as the credentials rules need it: one secret per OEM holding its current access key. */
export class SdkSecrets implements SecretsPort {
  constructor(private readonly secrets: SecretsManagerClient) {}

  async get(name: string): Promise<StoredCredentials | undefined> {
    try {
      const out = await this.secrets.send(new GetSecretValueCommand({ SecretId: name }));
      return out.SecretString ? (JSON.parse(out.SecretString) as StoredCredentials) : undefined;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async put(name: string, value: StoredCredentials): Promise<void> {
    const SecretString = JSON.stringify(value);
    try {
      await this.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
      await this.secrets.send(new CreateSecretCommand({ Name: name, SecretString, Description: 'OEM data export access key' })).catch(async (e: unknown) => {
        if (!(e instanceof ResourceExistsException)) throw e;
        await this.secrets.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
      });
    }
  }
}
