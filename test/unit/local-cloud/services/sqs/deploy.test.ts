import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DeployedStack, type CfnResource } from '../../../../../infra/local-cloud/cloudformation/template';
import { startEdge, type EdgeEndpoint } from '../../../../../infra/local-cloud/edge';
import { ServiceRegistry } from '../../../../../infra/local-cloud/registry';
import { deployQueues, queueAttributesFromTemplate } from '../../../../../infra/local-cloud/services/sqs/deploy';
import { LocalSqs } from '../../../../../infra/local-cloud/services/sqs/models';
import { sqsService } from '../../../../../infra/local-cloud/services/sqs/service';

const ACCOUNT = '000000000000';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The queues of the two-stage export as CDK synthesizes them: a FIFO queue redriving to its FIFO DLQ (listed after it). */
function exportQueues(visibilityTimeout = 300): Record<string, CfnResource> {
  return {
    CompactionQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        FifoQueue: true,
        ContentBasedDeduplication: false,
        VisibilityTimeout: visibilityTimeout,
        MessageRetentionPeriod: 86_400,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['CompactionDlq', 'Arn'] }, maxReceiveCount: 5 },
      },
    },
    CompactionDlq: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true, MessageRetentionPeriod: 1_209_600, KmsMasterKeyId: 'alias/aws/sqs' } },
    Named: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'plain-queue' } },
  };
}

describe('AWS::SQS::Queue', () => {
  let dir: string;
  let sqs: LocalSqs;
  let edge: EdgeEndpoint;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sqs-deploy-'));
    sqs = new LocalSqs(path.join(dir, 'sqs.json'), 'us-east-1', ACCOUNT);
    edge = await startEdge(0, new ServiceRegistry([sqsService(sqs)]), () => undefined);
  });
  afterEach(async () => {
    await edge.close();
    await sqs.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stackOf = (resources: Record<string, CfnResource>) =>
    new DeployedStack({ Resources: resources }, { stackName: 'DevicePipeline', region: 'us-east-1', accountId: ACCOUNT, apiEndpoint: 'http://127.0.0.1:3000', edgeUrl: edge.url });
  const deploy = (stack: DeployedStack) => deployQueues(stack, { client: { region: 'us-east-1', endpoint: edge.url, credentials }, assemblyDir: dir, log: () => undefined });

  it('gives Ref the queue URL at the edge and GetAtt the ARN and name, FIFO names ending in .fifo', () => {
    const stack = stackOf(exportQueues());
    const url = stack.ref('CompactionQueue');
    expect(url).toMatch(new RegExp(`^${edge.url}/${ACCOUNT}/DevicePipeline-CompactionQueue-[A-Z0-9]{12}\\.fifo$`));
    const name = stack.getAtt('CompactionQueue', 'QueueName');
    expect(url.endsWith(`/${name}`)).toBe(true);
    expect(stack.getAtt('CompactionQueue', 'Arn')).toBe(`arn:aws:sqs:us-east-1:${ACCOUNT}:${name}`);
    expect(stack.getAtt('CompactionQueue', 'QueueUrl')).toBe(url);
    expect(stack.ref('Named')).toBe(`${edge.url}/${ACCOUNT}/plain-queue`);
    // Without a local edge, the URL is SQS's own, as CloudFormation gives it.
    const onAws = new DeployedStack({ Resources: exportQueues() }, { stackName: 'S', region: 'eu-west-1', accountId: '123456789012', apiEndpoint: '' });
    expect(onAws.ref('Named')).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/plain-queue');
  });

  it('turns template properties into SQS attributes', () => {
    const stack = stackOf(exportQueues());
    expect(queueAttributesFromTemplate(stack, stack.resource('CompactionQueue'))).toEqual({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      VisibilityTimeout: '300',
      MessageRetentionPeriod: '86400',
      SqsManagedSseEnabled: 'true',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: stack.getAtt('CompactionDlq', 'Arn'), maxReceiveCount: 5 }),
    });
  });

  it('creates the queues, dead-letter queue first, and a second deployment updates them in place', async () => {
    const stack = stackOf(exportQueues());
    await deploy(stack);
    const client = new SQSClient({ endpoint: edge.url, region: 'us-east-1', credentials });
    try {
      const QueueUrl = stack.ref('CompactionQueue');
      const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
      expect(Attributes).toMatchObject({ FifoQueue: 'true', VisibilityTimeout: '300', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: stack.getAtt('CompactionDlq', 'Arn'), maxReceiveCount: 5 }) });
      expect((await client.send(new GetQueueAttributesCommand({ QueueUrl: stack.ref('CompactionDlq'), AttributeNames: ['KmsMasterKeyId'] }))).Attributes).toEqual({ KmsMasterKeyId: 'alias/aws/sqs' });
      await client.send(new SendMessageCommand({ QueueUrl, MessageBody: 'kept', MessageGroupId: 'p0', MessageDeduplicationId: 'W-0' }));

      // A restart with a changed template: the queue (and its message) stays, its attributes follow the template.
      const changed = stackOf(exportQueues(600));
      await deploy(changed);
      const after = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['VisibilityTimeout', 'ApproximateNumberOfMessages'] }));
      expect(after.Attributes).toEqual({ VisibilityTimeout: '600', ApproximateNumberOfMessages: '1' });
    } finally {
      client.destroy();
    }
  });
});
