import type { DeployedStack } from '../../cloudformation/template';

export interface RecordedTopic {
  arn: string;
  /** The KMS key the topic is encrypted with, if any. */
  kmsMasterKeyId?: string;
}

export interface RecordedSubscription {
  topicArn: string;
  protocol: string;
  endpoint: string;
}

export interface RecordedTopicPolicy {
  topics: string[];
  /** The policy's statements' Sids (or effects), to see what it enforces. */
  statements: Array<{ sid?: string; effect: string; condition?: unknown }>;
}

export interface SnsRecord {
  topics: RecordedTopic[];
  subscriptions: RecordedSubscription[];
  policies: RecordedTopicPolicy[];
}

/**
 * `AWS::SNS::Topic`, `AWS::SNS::Subscription` and `AWS::SNS::TopicPolicy`: recorded so that the template
 * deploys; nothing is published or delivered locally (no e-mail leaves the machine).
 */
export function recordSns(stack: DeployedStack): SnsRecord {
  const props = (resource: { Properties?: Record<string, unknown> }) => stack.resolve(resource.Properties ?? {}) as Record<string, unknown>;
  const topics = stack.resourcesOfType('AWS::SNS::Topic').map(([id, resource]): RecordedTopic => {
    const p = props(resource);
    return { arn: stack.ref(id), ...(p.KmsMasterKeyId !== undefined ? { kmsMasterKeyId: String(p.KmsMasterKeyId) } : {}) };
  });
  const subscriptions = stack.resourcesOfType('AWS::SNS::Subscription').map(([, resource]): RecordedSubscription => {
    const p = props(resource);
    return { topicArn: String(p.TopicArn), protocol: String(p.Protocol), endpoint: String(p.Endpoint) };
  });
  const policies = stack.resourcesOfType('AWS::SNS::TopicPolicy').map(([, resource]): RecordedTopicPolicy => {
    const p = props(resource);
    const document = (p.PolicyDocument ?? {}) as { Statement?: Array<{ Sid?: string; Effect?: string; Condition?: unknown }> };
    return {
      topics: Array.isArray(p.Topics) ? p.Topics.map(String) : [],
      statements: (document.Statement ?? []).map((st) => ({
        ...(st.Sid !== undefined ? { sid: st.Sid } : {}), effect: String(st.Effect), ...(st.Condition !== undefined ? { condition: st.Condition } : {}),
      })),
    };
  });
  return { topics, subscriptions, policies };
}
