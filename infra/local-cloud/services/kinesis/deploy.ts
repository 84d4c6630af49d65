import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, StartStreamEncryptionCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { alreadyExists, type DeployContext } from '../../cloudformation/deploy';
import type { DeployedStack } from '../../cloudformation/template';

/** Shards of an on-demand stream locally: kinesalite needs a count; AWS starts an on-demand stream at four. */
export const ON_DEMAND_SHARDS = 4;

/** `AWS::Kinesis::Stream`: shards and server-side encryption; waits until each stream is ACTIVE. */
export async function deployStreams(stack: DeployedStack, context: DeployContext): Promise<void> {
  // HTTP/1.1, as every Kinesis client of the local cloud: the SDK's HTTP/2 default fails against kinesalite.
  const kinesis = new KinesisClient({ ...context.client, requestHandler: new NodeHttpHandler() });
  try {
    for (const [id, resource] of stack.resourcesOfType('AWS::Kinesis::Stream')) {
      const name = stack.ref(id);
      const props = stack.resolve(resource.Properties ?? {}) as {
        ShardCount?: number; StreamModeDetails?: { StreamMode?: string }; StreamEncryption?: { EncryptionType: 'KMS'; KeyId: string };
      };
      const shards = props.StreamModeDetails?.StreamMode === 'ON_DEMAND' ? ON_DEMAND_SHARDS : props.ShardCount ?? 1;
      await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards })).catch((e: unknown) => {
        if (!alreadyExists(e)) throw e;
      });
      for (let i = 0; ; i++) {
        const { StreamDescriptionSummary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        if (StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
        if (i > 100) throw new Error(`stream ${name} did not become active`);
        await new Promise((r) => setTimeout(r, 20));
      }
      if (props.StreamEncryption) {
        await kinesis.send(new StartStreamEncryptionCommand({ StreamName: name, ...props.StreamEncryption }));
      }
    }
  } finally {
    kinesis.destroy();
  }
}
