import kinesalite from 'kinesalite';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { closeServer, listen } from '../../aws-protocol/http';
import type { LocalService, ServiceEnvironment } from '../../service';
import { deployStreams } from './deploy';
import { KinesisGateway } from './provider';

export interface KinesisService extends LocalService {
  /** kinesalite itself, for readers that poll it directly (the event source mappings). */
  readonly emulatorUrl: string;
}

/** Kinesis: kinesalite (streams under `<dataDir>/kinesis`) behind the gateway that adds encryption settings. */
export async function startKinesis(env: ServiceEnvironment): Promise<KinesisService> {
  const dataDir = path.join(env.dataDir, 'kinesis');
  await mkdir(dataDir, { recursive: true });
  const emulator = kinesalite({ path: dataDir, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  const port = await listen(emulator, 0);
  const gateway = new KinesisGateway(port, path.join(env.stateDir, 'kinesis-encryption.json'));
  return {
    name: 'kinesis',
    matcher: { signingName: 'kinesis', targetPrefixes: ['Kinesis_20131202'] },
    handle: gateway.handle,
    emulatorUrl: `http://127.0.0.1:${port}`,
    deploy: deployStreams,
    close: async () => {
      await gateway.close();
      await closeServer(emulator);
    },
  };
}
