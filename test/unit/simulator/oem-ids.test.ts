import { validateEvent } from '../../../lambdas/domain/device-events';
import { parseCliArgs, UsageError } from '../../../tools/simulator/cli';
import { createFleet, generateEvents } from '../../../tools/simulator/fleet';

/**
 * The simulator takes OEM ids by the pipeline's own rule: an id the pipeline would reject (and the
 * exporter would send to its error prefix) is refused up front, not simulated.
 */

// Ids the simulator's own pattern used to accept, and the stream's schema refuses.
const REJECTED = ['_private', '-lead', 'aws', 'AWS'];
const local = { AwsEndpoint: 'http://127.0.0.1:4566', EventStreamName: 'DeviceEvents-abc', Region: 'us-east-1' };

describe('OEM ids in the simulator', () => {
  test.each(REJECTED)('the pipeline rejects %j', (oemId) => {
    const [event] = generateEvents({ oems: ['1234abcd'], devicesPerOem: 1, seed: 1, count: 1 });
    const reason = validateEvent({ ...event, metadata: { ...event!.metadata, oem_id: oemId } });
    expect(reason).toMatchObject({ ok: false, reason: expect.stringMatching(/oem_id must be/) });
  });

  test.each(REJECTED)('--oems refuses %j', (oemId) => {
    const parse = () => parseCliArgs(['--oems', `1234abcd,${oemId}`], {}, () => local);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(/--oems expects OEM ids \(1-64 letters, digits, _ or -, not starting with _ and not "aws"\)/);
  });

  test.each(REJECTED)('createFleet refuses %j', (oemId) => {
    expect(() => createFleet({ oems: [oemId] })).toThrow(RangeError);
  });

  test('ids the pipeline accepts are simulated, and their events pass the stream schema', () => {
    const oems = ['1234abcd', 'acme_corp-2', 'aws-eu'];
    expect(parseCliArgs(['--oems', oems.join(',')], {}, () => local).options.oems).toEqual(oems);
    const events = generateEvents({ oems, devicesPerOem: 1, seed: 4, count: 60 });
    expect(new Set(events.map((e) => e.metadata.oem_id))).toEqual(new Set(oems));
    for (const event of events) expect(validateEvent(event)).toMatchObject({ ok: true });
  });
});
