import fc from 'fast-check';
import {
  COUNTER_KEY,
  datapointKey,
  datapointNameKey,
  datapointPrefix,
  deviceKey,
  escape,
  namePrefix,
  oemPartition,
  refId,
  REGISTRY_BUCKETS,
  registryBucket,
  registryPartition,
  registryPartitions,
} from '../../../../../lambdas/domain/datapoint-logs/keys';
import type { DatapointRef } from '../../../../../lambdas/domain/datapoint-logs/records';

const ref = (dsn: string, block = 'device', blockIndex = 0, name = 'nviPT'): DatapointRef => ({ dsn, block, blockIndex, name });

describe('escape', () => {
  it('escapes % and # (in that order, so an escape is never escaped twice or mistaken)', () => {
    expect(escape('a#b')).toBe('a%23b');
    expect(escape('50%')).toBe('50%25');
    expect(escape('%23')).toBe('%2523');
    expect(escape('plain.text-1_2:3')).toBe('plain.text-1_2:3');
  });

  it('is injective: different components never share an escaped form', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('a', '#', '%', '2', '3', '5') }), fc.string({ unit: fc.constantFrom('a', '#', '%', '2', '3', '5') }), (a, b) => {
      fc.pre(a !== b);
      expect(escape(a)).not.toBe(escape(b));
    }));
  });

  it('never leaves a # in a component', () => {
    fc.assert(fc.property(fc.string(), (s) => {
      expect(escape(s)).not.toContain('#');
    }));
  });
});

describe('keys', () => {
  it('are laid out as the single-table design says', () => {
    expect(oemPartition('1234abcd')).toBe('OEM#1234abcd');
    expect(deviceKey('AC000W005606115')).toBe('DEV#AC000W005606115');
    expect(COUNTER_KEY).toBe('COUNTER#datapoint');
    expect(datapointKey(ref('AC000W005606115', 'device', 0, 'Blue_LED'))).toBe('DP#AC000W005606115#device#0#Blue_LED');
    expect(datapointNameKey(ref('AC000W005606115', 'device', 0, 'Blue_LED'))).toBe('NAME#Blue_LED#AC000W005606115#device#0');
    expect(refId(ref('D1', 'Lamp', 2, 'nviValue'))).toBe(datapointKey(ref('D1', 'Lamp', 2, 'nviValue')));
  });

  it('keep # and % in names, blocks and OEMs apart from the separators', () => {
    expect(datapointKey(ref('D1', 'b#1', 0, 'n#x'))).toBe('DP#D1#b%231#0#n%23x');
    expect(datapointKey(ref('D1', 'b', 0, 'n%23x'))).toBe('DP#D1#b#0#n%2523x');
    expect(oemPartition('a#b')).toBe('OEM#a%23b');
  });

  it('differ for refs that differ in any part, whatever the characters', () => {
    const part = fc.string({ unit: fc.constantFrom('a', 'b', '#', '%', '2', '3'), maxLength: 4 });
    const refs = fc.record({ dsn: part, block: part, blockIndex: fc.nat(12), name: part });
    fc.assert(fc.property(refs, refs, (a, b) => {
      fc.pre(a.dsn !== b.dsn || a.block !== b.block || a.blockIndex !== b.blockIndex || a.name !== b.name);
      expect(datapointKey(a)).not.toBe(datapointKey(b));
      expect(datapointNameKey(a)).not.toBe(datapointNameKey(b));
    }));
  });
});

describe('datapointPrefix', () => {
  it('narrows as far as the fixed parts go, each needing the ones before it', () => {
    expect(datapointPrefix({})).toBe('DP#');
    expect(datapointPrefix({ dsn: 'AB' })).toBe('DP#AB#');
    expect(datapointPrefix({ dsn: 'AB', block: 'device' })).toBe('DP#AB#device#');
    expect(datapointPrefix({ dsn: 'AB', block: 'device', blockIndex: 0 })).toBe('DP#AB#device#0#');
    // A block without a dsn, or an index without a block, cannot narrow a key prefix.
    expect(datapointPrefix({ block: 'device' })).toBe('DP#');
    expect(datapointPrefix({ blockIndex: 3 })).toBe('DP#');
    expect(datapointPrefix({ dsn: 'AB', blockIndex: 3 })).toBe('DP#AB#');
  });

  it('is a prefix of the key of every datapoint it covers', () => {
    const r = ref('AB', 'Lamp', 1, 'nviValue');
    for (const fixed of [{}, { dsn: 'AB' }, { dsn: 'AB', block: 'Lamp' }, { dsn: 'AB', block: 'Lamp', blockIndex: 1 }]) {
      expect(datapointKey(r).startsWith(datapointPrefix(fixed))).toBe(true);
    }
  });

  it('of dsn AB never matches dsn ABC (or A)', () => {
    expect(datapointKey(ref('ABC')).startsWith(datapointPrefix({ dsn: 'AB' }))).toBe(false);
    expect(datapointKey(ref('A')).startsWith(datapointPrefix({ dsn: 'AB' }))).toBe(false);
    expect(datapointKey(ref('AB')).startsWith(datapointPrefix({ dsn: 'AB' }))).toBe(true);
  });

  it('of block index 1 never matches index 10', () => {
    expect(datapointKey(ref('AB', 'device', 10)).startsWith(datapointPrefix({ dsn: 'AB', block: 'device', blockIndex: 1 }))).toBe(false);
  });

  it('of a block never matches a block whose name goes on with # (escaped)', () => {
    // Without escaping, block "b#1" would be the components "b", "1" and fall under the prefix of block "b".
    expect(datapointKey(ref('AB', 'b#1', 0, 'x')).startsWith(datapointPrefix({ dsn: 'AB', block: 'b' }))).toBe(false);
    expect(datapointKey(ref('AB#b', 'c')).startsWith(datapointPrefix({ dsn: 'AB' }))).toBe(false);
    expect(datapointKey(ref('AB#b', 'c')).startsWith(datapointPrefix({ dsn: 'AB#b' }))).toBe(true);
  });

  it('matches exactly the refs with those parts (property)', () => {
    const part = fc.string({ unit: fc.constantFrom('a', 'b', '#', '%'), maxLength: 3 });
    const refs = fc.record({ dsn: part, block: part, blockIndex: fc.nat(12), name: part });
    fc.assert(fc.property(refs, refs, (a, b) => {
      const covered = a.dsn === b.dsn && a.block === b.block && a.blockIndex === b.blockIndex;
      expect(datapointKey(b).startsWith(datapointPrefix({ dsn: a.dsn, block: a.block, blockIndex: a.blockIndex }))).toBe(covered);
      expect(datapointKey(b).startsWith(datapointPrefix({ dsn: a.dsn }))).toBe(a.dsn === b.dsn);
    }));
  });
});

describe('namePrefix', () => {
  it('selects one name exactly, optionally one device', () => {
    expect(namePrefix('nvoEnergy')).toBe('NAME#nvoEnergy#');
    expect(namePrefix('nvoEnergy', 'D1')).toBe('NAME#nvoEnergy#D1#');
    expect(datapointNameKey(ref('D1', 'device', 0, 'nvoEnergy')).startsWith(namePrefix('nvoEnergy'))).toBe(true);
    expect(datapointNameKey(ref('D1', 'device', 0, 'nvoEnergy2')).startsWith(namePrefix('nvoEnergy'))).toBe(false);
    expect(datapointNameKey(ref('D1', 'device', 0, 'nvo#Energy')).startsWith(namePrefix('nvo'))).toBe(false);
    expect(datapointNameKey(ref('D10', 'device', 0, 'nvoEnergy')).startsWith(namePrefix('nvoEnergy', 'D1'))).toBe(false);
  });

  it('matches exactly the refs with that name (and dsn) (property)', () => {
    const part = fc.string({ unit: fc.constantFrom('a', 'b', '#', '%'), maxLength: 3 });
    const refs = fc.record({ dsn: part, block: part, blockIndex: fc.nat(3), name: part });
    fc.assert(fc.property(refs, refs, (a, b) => {
      expect(datapointNameKey(b).startsWith(namePrefix(a.name))).toBe(a.name === b.name);
      expect(datapointNameKey(b).startsWith(namePrefix(a.name, a.dsn))).toBe(a.name === b.name && a.dsn === b.dsn);
    }));
  });
});

describe('registry buckets', () => {
  it('put a device and all its datapoints in one of the OEM\'s 16 partitions, the same one every time', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 64 }), fc.string({ minLength: 1 }), (dsn, oem) => {
      const bucket = registryBucket(dsn);
      expect(Number.isInteger(bucket) && bucket >= 0 && bucket < REGISTRY_BUCKETS).toBe(true);
      expect(registryPartition(oem, dsn)).toBe(`${oemPartition(oem)}#${String(bucket).padStart(2, '0')}`);
      expect(registryPartitions(oem)).toContain(registryPartition(oem, dsn));
    }));
    expect(registryPartition('1234abcd', 'AC000W005606115')).toBe(registryPartition('1234abcd', 'AC000W005606115'));
    expect(registryPartitions('1234abcd')).toEqual(Array.from({ length: 16 }, (_, b) => `OEM#1234abcd#${String(b).padStart(2, '0')}`));
  });

  it('spread a fleet\'s DSNs evenly: no bucket holds more than 1.2× its share of 16,000 devices', () => {
    const counts = new Array<number>(REGISTRY_BUCKETS).fill(0);
    for (let d = 0; d < 16_000; d++) counts[registryBucket(`AC000W${String(d).padStart(9, '0')}`)]!++;
    expect(Math.max(...counts)).toBeLessThanOrEqual(1200);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(800);
  });

  it('never let a bucket partition be mistaken for another OEM\'s (the OEM id is escaped, the bucket follows a #)', () => {
    expect(registryPartition('a#01', 'D')).not.toBe(registryPartition('a', 'D'));
    expect(registryPartition('a#01', 'D').startsWith('OEM#a%2301#')).toBe(true);
  });
});
