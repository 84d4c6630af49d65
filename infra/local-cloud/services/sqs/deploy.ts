import { CreateQueueCommand, QueueNameExists, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DeployContext } from '../../cloudformation/deploy';
import type { CfnResource, DeployedStack } from '../../cloudformation/template';

/** The template's queue properties that are SQS attributes (tags and names aside). */
const ATTRIBUTE_PROPERTIES = [
  'DelaySeconds', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds', 'VisibilityTimeout',
  'FifoQueue', 'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit',
  'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled', 'RedrivePolicy', 'RedriveAllowPolicy',
] as const;

/** An `AWS::SQS::Queue`'s properties as the attribute strings CreateQueue takes. */
export function queueAttributesFromTemplate(stack: DeployedStack, resource: CfnResource): Record<string, string> {
  const props = stack.resolve(resource.Properties ?? {}) as Record<string, unknown>;
  const attributes: Record<string, string> = {};
  for (const key of ATTRIBUTE_PROPERTIES) {
    const value = props[key];
    if (value === undefined) continue;
    // CloudFormation takes the policies as objects; SQS keeps them as JSON strings.
    attributes[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return attributes;
}

/**
 * `AWS::SQS::Queue` through the SQS API at the edge: dead-letter queues before the queues that redrive to
 * them (SQS checks the target exists); a queue there from an earlier start gets the template's attributes.
 */
export async function deployQueues(stack: DeployedStack, context: DeployContext): Promise<void> {
  const sqs = new SQSClient(context.client);
  try {
    const pending = stack.resourcesOfType('AWS::SQS::Queue');
    const arnOf = new Map(pending.map(([id]) => [stack.getAtt(id, 'Arn'), id]));
    const done = new Set<string>();
    while (pending.length > 0) {
      const ready = pending.findIndex(([, resource]) => {
        const target = redriveTarget(stack, resource);
        return target === undefined || !arnOf.has(target) || done.has(arnOf.get(target)!);
      });
      if (ready < 0) throw new Error(`queues redrive to each other in a cycle: ${pending.map(([id]) => id).join(', ')}`);
      const [id, resource] = pending.splice(ready, 1)[0]!;
      const QueueName = stack.getAtt(id, 'QueueName');
      const Attributes = queueAttributesFromTemplate(stack, resource);
      await sqs.send(new CreateQueueCommand({ QueueName, Attributes })).catch(async (error: unknown) => {
        if (!(error instanceof QueueNameExists)) throw error;
        const { FifoQueue: _type, ...changeable } = Attributes;
        await sqs.send(new SetQueueAttributesCommand({ QueueUrl: stack.ref(id), Attributes: changeable }));
      });
      done.add(id);
    }
  } finally {
    sqs.destroy();
  }
}

function redriveTarget(stack: DeployedStack, resource: CfnResource): string | undefined {
  const policy = stack.resolve(resource.Properties?.RedrivePolicy);
  const parsed = typeof policy === 'string' ? (JSON.parse(policy) as unknown) : policy;
  const target = (parsed as { deadLetterTargetArn?: unknown } | undefined)?.deadLetterTargetArn;
  return typeof target === 'string' ? target : undefined;
}
