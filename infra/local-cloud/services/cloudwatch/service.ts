import type { LocalService } from '../../service';
import { recordCloudWatch, type CloudWatchRecord } from './deploy';

export interface CloudWatchService extends LocalService {
  /** What the last deployment recorded. */
  readonly recorded: CloudWatchRecord;
}

/**
 * CloudWatch's resource types, deployed as records only: the local cloud answers no CloudWatch API (the edge
 * has no matcher for it) and evaluates no alarm.
 */
export function cloudWatchService(): CloudWatchService {
  const recorded: CloudWatchRecord = { alarms: [], dashboards: [] };
  return {
    name: 'cloudwatch',
    recorded,
    deploy: async (stack, context) => {
      const record = recordCloudWatch(stack);
      recorded.alarms.splice(0, Infinity, ...record.alarms);
      recorded.dashboards.splice(0, Infinity, ...record.dashboards);
      if (record.alarms.length + record.dashboards.length > 0) {
        context.log(`CloudWatch: ${record.dashboards.length} dashboard(s) and ${record.alarms.length} alarm(s) recorded, not evaluated locally`);
      }
    },
  };
}
