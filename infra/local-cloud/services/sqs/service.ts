import type { LocalService } from '../../service';
import { deployQueues } from './deploy';
import type { LocalSqs } from './models';
import { sqsHandler } from './responses';

export interface SqsService extends LocalService {
  /** The queues themselves, for consumers in the local cloud (Lambda's event source mappings). */
  readonly queues: LocalSqs;
}

/** SQS on the edge (`X-Amz-Target: AmazonSQS.*`, signing name `sqs`); state in `<dataDir>/state/sqs.json`. */
export function sqsService(queues: LocalSqs): SqsService {
  return {
    name: 'sqs',
    // The query version routes old query-protocol callers here, to be told that only JSON is spoken.
    matcher: { signingName: 'sqs', targetPrefixes: ['AmazonSQS'], queryVersion: '2012-11-05' },
    handle: sqsHandler(queues),
    queues,
    deploy: deployQueues,
    close: () => queues.close(),
  };
}
