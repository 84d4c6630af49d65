import S3rver from 's3rver';
import path from 'node:path';
import type { CredentialStore } from '../../auth/credentials';
import type { LocalService, ServiceEnvironment } from '../../service';
import { S3Authorizer } from './auth';
import { deployBucketDeployments } from './bucket-deployment';
import { deployBuckets } from './deploy';
import { ObjectStore } from './object-store';
import { S3Gateway } from './provider';

export interface S3Service extends LocalService {
  readonly gateway: S3Gateway;
  /** s3rver itself, behind the gateway (tests reach it to check what the store does with any client). */
  readonly emulatorUrl: string;
}

/**
 * S3: s3rver behind the gateway, both over the local cloud's object store (objects under `<dataDir>/s3`,
 * see object-store.ts); the gateway keeps the bucket configurations s3rver lacks under
 * `<dataDir>/s3-config` and holds the keys of `store` to their policies. Unsigned requests are S3's
 * (browsers, curl).
 */
export async function startS3(env: ServiceEnvironment, store: CredentialStore): Promise<S3Service> {
  const objectsDir = path.join(env.dataDir, 's3');
  const configDir = path.join(env.dataDir, 's3-config');
  const objects = await ObjectStore.open(objectsDir, configDir, env.log);
  const emulator = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: objectsDir });
  // s3rver's controllers read `ctx.store` and `ctx.app.store`: both become the local cloud's store.
  emulator.store = emulator.context.store = objects;
  const { port } = await emulator.run();
  const authorizer = new S3Authorizer(store);
  const gateway = new S3Gateway(port, objects, configDir, authorizer.check, authorizer.mayListBucket);
  return {
    name: 's3',
    matcher: { signingName: 's3', fallback: true },
    handle: gateway.handle,
    gateway,
    emulatorUrl: `http://127.0.0.1:${port}`,
    deploy: async (stack, context) => {
      await deployBuckets(stack, context);
      await deployBucketDeployments(stack, context, env.dataDir);
    },
    close: () => emulator.close(),
  };
}
