import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { documentClient } from '../shared/clients';
import { requireEnv } from '../shared/config';
import { httpHandler } from '../shared/http';
import { DynamoLocks, SdkIam, SdkSecrets } from './adapters';
import { CredentialsService } from './credentials';
import { handleCredentials } from './routes';

const service = new CredentialsService(
  new SdkIam(new IAMClient({})),
  new SdkSecrets(new SecretsManagerClient({})),
  new DynamoLocks(documentClient(), requireEnv('LOCK_TABLE')),
  {
    bucket: requireEnv('EXPORT_BUCKET'),
    region: requireEnv('AWS_REGION'),
    iamPath: requireEnv('IAM_PATH'),
    secretPrefix: requireEnv('SECRET_PREFIX'),
  },
);

/** GET /oems/{oem_id}/data-export/credentials, POST …/credentials/refresh (admins of that OEM only). */
export const handler = httpHandler((event: APIGatewayProxyEventV2WithJWTAuthorizer) => handleCredentials(event, service)) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
