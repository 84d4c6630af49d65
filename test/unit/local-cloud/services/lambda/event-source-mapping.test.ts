import type { _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { interpretResult, takeBatch } from '../../../../../infra/local-cloud/services/lambda/event-source-mapping';
import type { InvocationResult } from '../../../../../infra/local-cloud/services/lambda/runtime';

const records: KinesisRecord[] = ['100', '200', '300'].map((seq) => ({ SequenceNumber: seq, PartitionKey: 'dsn', Data: new Uint8Array(10) }));
const ok = (payload: unknown): InvocationResult => ({ ok: true, payload, requestId: 'r' });

describe('interpretResult (ReportBatchItemFailures)', () => {
  it.each([
    ['no payload', null],
    ['an empty object', {}],
    ['an empty list', { batchItemFailures: [] }],
    ['a null list', { batchItemFailures: null }],
  ])('treats %s as complete success', (_, payload) => {
    expect(interpretResult(ok(payload), records, true)).toEqual({ kind: 'success' });
  });

  it('retries from the lowest reported sequence number', () => {
    const payload = { batchItemFailures: [{ itemIdentifier: '300' }, { itemIdentifier: '200' }] };
    expect(interpretResult(ok(payload), records, true)).toEqual({ kind: 'partial', retryFrom: 1 });
  });

  it.each([
    ['an empty identifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['a null identifier', { batchItemFailures: [{ itemIdentifier: null }] }],
    ['a bad key name', { batchItemFailures: [{ sequenceNumber: '200' }] }],
    ['a sequence number not in the batch', { batchItemFailures: [{ itemIdentifier: '999' }] }],
    ['a list that is not a list', { batchItemFailures: 'x' }],
  ])('treats %s as complete failure', (_, payload) => {
    expect(interpretResult(ok(payload), records, true)).toMatchObject({ kind: 'error' });
  });

  it('ignores item failures when the mapping does not report them', () => {
    expect(interpretResult(ok({ batchItemFailures: [{ itemIdentifier: '200' }] }), records, false)).toEqual({ kind: 'success' });
  });

  it('reports a function error as an error', () => {
    const failed: InvocationResult = { ok: false, error: { errorType: 'Error', errorMessage: 'boom', trace: [] }, requestId: 'r' };
    expect(interpretResult(failed, records, true)).toEqual({ kind: 'error', errorType: 'Error', errorMessage: 'boom' });
  });
});

describe('takeBatch', () => {
  it('takes at most batchSize records, in order, and leaves the rest', () => {
    const pending = [...records];
    expect(takeBatch(pending, 2).map((r) => r.SequenceNumber)).toEqual(['100', '200']);
    expect(pending.map((r) => r.SequenceNumber)).toEqual(['300']);
  });

  it('cuts a batch at the 6 MB invocation payload limit, but always takes one record', () => {
    const big = (seq: string): KinesisRecord => ({ SequenceNumber: seq, Data: new Uint8Array(1024 * 1024) });
    const pending = Array.from({ length: 10 }, (_, i) => big(String(i)));
    const batch = takeBatch(pending, 10_000);
    expect(batch).toHaveLength(4); // 4 × ~1.33 MB base64 fits in 6 MB, 5 would not
    expect(pending).toHaveLength(6);
    const huge = [{ SequenceNumber: '1', Data: new Uint8Array(7 * 1024 * 1024) }];
    expect(takeBatch(huge, 10)).toHaveLength(1);
  });
});
