import S3rver from 's3rver';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CredentialStore } from '../../auth/credentials';
import type { LocalService, ServiceEnvironment } from '../../registry';
import { S3Authorizer } from './auth';
import { deployBuckets } from './deploy';
import { S3Gateway } from './provider';

export interface S3Service extends LocalService {
  readonly gateway: S3Gateway;
}

/**
 * S3: s3rver (objects under `<dataDir>/s3`) behind the gateway, which keeps the bucket configurations
 * s3rver lacks under `<dataDir>/s3-config` and holds the keys of `store` to their policies. Unsigned
 * requests are S3's (browsers, curl).
 */
export async function startS3(env: ServiceEnvironment, store: CredentialStore): Promise<S3Service> {
  const objectsDir = path.join(env.dataDir, 's3');
  const configDir = path.join(env.dataDir, 's3-config');
  await Promise.all([mkdir(objectsDir, { recursive: true }), mkdir(configDir, { recursive: true })]);
  const emulator = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: objectsDir });
  const { port } = await emulator.run();
  const gateway = new S3Gateway(port, configDir, new S3Authorizer(store).check);
  return {
    name: 's3',
    matcher: { signingName: 's3', fallback: true },
    handle: gateway.handle,
    gateway,
    deploy: deployBuckets,
    close: () => emulator.close(),
  };
}
