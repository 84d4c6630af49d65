import type { CompactionMessage } from './ports';
import { parseWindowKey } from './windows';

/**
 * The compaction queue's messages: body `{"window":"YYYYMMDDTHHMMZ","partition":3}`, message group
 * `p<partition>` (a partition's tasks run one at a time, in the order sent: window order), and
 * deduplication id `<window>-<partition>` (a planner run repeated within SQS's 5-minute deduplication
 * interval sends nothing twice; a later repeat is a redelivery the done marker ends).
 */

export const messageBody = (m: CompactionMessage) => JSON.stringify({ window: m.window, partition: m.partition });
export const messageGroupId = (m: CompactionMessage) => `p${m.partition}`;
export const deduplicationId = (m: CompactionMessage) => `${m.window}-${m.partition}`;

/** A message body, checked. */
export function parseCompactionMessage(body: string): CompactionMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error('compaction message is not JSON');
  }
  const { window, partition } = (value ?? {}) as Partial<CompactionMessage>;
  if (typeof window !== 'string' || parseWindowKey(window) === undefined || !Number.isSafeInteger(partition) || partition! < 0) {
    throw new Error('compaction message needs a window key and a partition number');
  }
  return { window, partition: partition! };
}
