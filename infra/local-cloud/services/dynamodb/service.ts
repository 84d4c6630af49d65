import dynalite from 'dynalite';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { closeServer, listen } from '../../aws-protocol/http';
import type { LocalService, ServiceEnvironment } from '../../service';
import { deployTables } from './deploy';
import { DynamoDbGateway } from './provider';

export interface DynamoDbService extends LocalService {
  /** Runs the TTL sweep now; resolves to the number of items deleted. */
  sweep(nowSeconds?: number): Promise<number>;
}

/**
 * DynamoDB: dynalite (tables under `<dataDir>/dynamodb`) behind the gateway that adds the TTL API and
 * point-in-time recovery settings, and a sweeper that deletes expired items every `sweepIntervalMs`.
 */
export async function startDynamoDb(env: ServiceEnvironment, options: { sweepIntervalMs?: number } = {}): Promise<DynamoDbService> {
  const dataDir = path.join(env.dataDir, 'dynamodb');
  await mkdir(dataDir, { recursive: true });
  const emulator = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(emulator, 0);
  const gateway = new DynamoDbGateway(port, path.join(env.stateDir, 'dynamodb-tables.json'), env.log);
  let sweeper: NodeJS.Timeout | undefined;
  return {
    name: 'dynamodb',
    matcher: { signingName: 'dynamodb', targetPrefixes: ['DynamoDB_20120810'] },
    handle: gateway.handle,
    deploy: async (stack, context) => {
      await deployTables(stack, context);
      // Sweeping starts once the tables are as the template says (a migration re-creates a table).
      sweeper ??= setInterval(() => void gateway.sweep().catch((e: Error) => env.log(`TTL sweep: ${e.message}`)), options.sweepIntervalMs ?? 10_000);
      sweeper.unref();
    },
    sweep: (nowSeconds) => gateway.sweep(nowSeconds),
    close: async () => {
      clearInterval(sweeper);
      await gateway.close();
      await closeServer(emulator);
    },
  };
}
