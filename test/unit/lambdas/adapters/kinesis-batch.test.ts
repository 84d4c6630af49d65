import { batchResponse, lowestSequenceNumber, streamRecords } from '../../../../lambdas/adapters/kinesis-batch';
import { compareSequenceNumbers } from '../../../../lambdas/domain/event-stream';
import { kinesisEvent } from '../events';

describe('streamRecords', () => {
  it('decodes each record: shard from the event id, data from base64, arrival in epoch ms', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x7b]);
    const event = kinesisEvent([
      { data: '{"a":1}', sequenceNumber: '49590338271490256608559692538361571095921575989136588898', partitionKey: 'AC000W000000001', arrivalMs: 1_764_000_000_123 },
      { data: bytes, sequenceNumber: '49590338271490256608559692538361571095921575989136588899' },
    ], 'shardId-000000000007');
    event.Records[1]!.kinesis.approximateArrivalTimestamp = 1_764_000_000.4566;

    expect(streamRecords(event)).toEqual([
      {
        shardId: 'shardId-000000000007',
        sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
        partitionKey: 'AC000W000000001',
        data: Buffer.from('{"a":1}'),
        arrivalMs: 1_764_000_000_123,
      },
      expect.objectContaining({ shardId: 'shardId-000000000007', data: bytes, arrivalMs: 1_764_000_000_457 }),
    ]);
  });

  it('decodes an empty batch to no records', () => {
    expect(streamRecords({ Records: [] })).toEqual([]);
  });
});

describe('sequence numbers', () => {
  it('orders them as numbers, though they are too long for one', () => {
    expect(compareSequenceNumbers('9', '10')).toBeLessThan(0);
    expect(compareSequenceNumbers('49590338271490256608559692538361571095921575989136588899', '4959033827149025660855969253836157109592157598913658890')).toBeGreaterThan(0);
    expect(compareSequenceNumbers('123', '124')).toBeLessThan(0);
    expect(compareSequenceNumbers('124', '124')).toBe(0);
  });

  it('finds the lowest, or none', () => {
    expect(lowestSequenceNumber(['300', '1000', '99', '200'])).toBe('99');
    expect(lowestSequenceNumber([])).toBeUndefined();
  });
});

describe('batchResponse', () => {
  it('answers no failure when nothing failed', () => {
    expect(batchResponse([])).toEqual({ batchItemFailures: [] });
  });

  it('answers the lowest failed sequence number only: Lambda retries the shard from it', () => {
    // Text order would pick "1000"; as numbers "999" is lower.
    expect(batchResponse(['1000', '1200', '999'])).toEqual({ batchItemFailures: [{ itemIdentifier: '999' }] });
  });

  it('answers a failure reported twice once', () => {
    expect(batchResponse(new Set(['5', '5']))).toEqual({ batchItemFailures: [{ itemIdentifier: '5' }] });
    expect(batchResponse(['5', '5'])).toEqual({ batchItemFailures: [{ itemIdentifier: '5' }] });
  });
});
