import type { LocalService } from '../../service';
import { recordSns, type SnsRecord } from './deploy';

export interface SnsService extends LocalService {
  /** What the last deployment recorded. */
  readonly recorded: SnsRecord;
}

/** SNS's resource types, deployed as records only: no SNS API on the edge, nothing delivered. */
export function snsService(): SnsService {
  const recorded: SnsRecord = { topics: [], subscriptions: [], policies: [] };
  return {
    name: 'sns',
    recorded,
    deploy: async (stack, context) => {
      const record = recordSns(stack);
      recorded.topics.splice(0, Infinity, ...record.topics);
      recorded.subscriptions.splice(0, Infinity, ...record.subscriptions);
      recorded.policies.splice(0, Infinity, ...record.policies);
      if (record.topics.length > 0) {
        context.log(`SNS: ${record.topics.length} topic(s) and ${record.subscriptions.length} subscription(s) recorded, nothing delivered locally`);
      }
    },
  };
}
