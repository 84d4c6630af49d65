import { decodeHeader, decodeSlice, encodeStaged, partitionRange, stagedLine, type StagedRow } from '../../../../../lambdas/domain/export/staging';
import { decodeHashes, encodeHashes, hasHash, rowHash, sortedHashes } from '../../../../../lambdas/domain/export/row-hash';

const row = (oemId: string, text: string, timeMs = 1, arrivalWindow = 0): StagedRow => ({ oemId, type: 'connectivity', timeMs, arrivalWindow, row: text });

/** The object as bytes, and its partition's slice as S3 would answer a ranged GET. */
function slice(body: string, partition: number): Buffer {
  const bytes = Buffer.from(body, 'utf8');
  const { header } = decodeHeader(bytes)!;
  const range = partitionRange(header, partition)!;
  return bytes.subarray(range.start, range.end + 1);
}

describe('staged objects', () => {
  it('hold each partition\'s rows in a byte range the header gives; a slice decodes to exactly its rows', () => {
    const tricky = [
      row('oem-a', 'a,"quoted\ttab",x'),
      row('oem-a', '"multi\r\nline",é,世界,✓'),
      row('oem-a', 'back\\slash "\\n" not a line end', 5, 60_000),
    ];
    const other = [row('oem-b', 'plain,row', 2)];
    const { body, header } = encodeStaged(new Map([[7, other.map(stagedLine)], [3, tricky.map(stagedLine)], [5, []]]));
    expect(Object.keys(header.partitions)).toEqual(['3', '7']);
    expect(decodeSlice(slice(body, 3))).toEqual(tricky);
    expect(decodeSlice(slice(body, 7))).toEqual(other);
    expect(partitionRange(header, 5)).toBeUndefined();
    // The ranges tile the object after the header.
    const bytes = Buffer.byteLength(body);
    expect(header.partitions['7']![1]).toBe(bytes - 1);
    expect(header.partitions['7']![0]).toBe(header.partitions['3']![1] + 1);
  });

  it('keep a row\'s length through UTF-8 even with a lone surrogate (written as U+FFFD)', () => {
    const { body } = encodeStaged(new Map([[0, [stagedLine(row('o', 'a\ud800b')), stagedLine(row('o', 'next'))]]]));
    expect(decodeSlice(slice(body, 0)).map((r) => r.row)).toEqual(['a\ufffdb', 'next']);
  });

  it('find the header\'s length when its offsets change its own length', () => {
    for (let n = 1; n < 400; n += 13) {
      const lines = new Map(Array.from({ length: 12 }, (_, p) => [p, Array.from({ length: n }, (_, i) => stagedLine(row(`oem-${p}`, `r${i}`)))] as [number, string[]]));
      const { body } = encodeStaged(lines);
      for (let p = 0; p < 12; p++) expect(decodeSlice(slice(body, p))).toHaveLength(n);
    }
  });

  it('give the header only once its line end is read', () => {
    const { body } = encodeStaged(new Map([[0, [stagedLine(row('o', 'x'))]]]));
    const bytes = Buffer.from(body);
    expect(decodeHeader(bytes.subarray(0, 10))).toBeUndefined();
    expect(decodeHeader(bytes)!.length).toBe(body.indexOf('\n') + 1);
    expect(() => decodeHeader(Buffer.from('{"v":2,"partitions":{}}\n'))).toThrow(/header/);
    expect(() => decodeHeader(Buffer.from('{"v":1,"partitions":{"1":[5,2]}}\n'))).toThrow(/range/);
  });

  it('refuse malformed slices rather than export garbage', () => {
    expect(decodeSlice('')).toEqual([]);
    expect(decodeSlice('oem\tconnectivity\t1\t0\t3\ta\tb\n')).toEqual([row('oem', 'a\tb')]);
    expect(() => decodeSlice('oem\tconnectivity\t1\t0\t1\tx')).toThrow(/malformed/);
    expect(() => decodeSlice('oem\tconnectivity\t1\t1\tx\n')).toThrow(/fields/);
    expect(() => decodeSlice('oem\tmystery\t1\t0\t1\tx\n')).toThrow(/malformed/);
    expect(() => decodeSlice('oem\tconnectivity\tsoon\t0\t1\tx\n')).toThrow(/malformed/);
    expect(() => decodeSlice('oem\tconnectivity\t1\t0\t2\tx\n')).toThrow(/malformed/);
    expect(() => decodeSlice('oem\tconnectivity\t1\t0\t-1\tx\n')).toThrow(/malformed/);
  });
});

describe('row hashes', () => {
  it('are 64 bits of SHA-1 of the row, stable', () => {
    expect(rowHash('a,b')).toBe(rowHash('a,b'));
    expect(rowHash('a,b')).not.toBe(rowHash('a,c'));
    expect(rowHash('a,b') < 2n ** 64n).toBe(true);
  });

  it('are stored sorted without repeats, 8 bytes big-endian each, and found by binary search', () => {
    const hashes = sortedHashes([5n, 1n, 2n ** 64n - 1n, 5n, 0n]);
    expect([...hashes]).toEqual([0n, 1n, 5n, 2n ** 64n - 1n]);
    const file = encodeHashes(hashes);
    expect(file.length).toBe(32);
    expect(Buffer.from(file).subarray(24).toString('hex')).toBe('ffffffffffffffff');
    const back = decodeHashes(file);
    expect([...back]).toEqual([...hashes]);
    for (const h of hashes) expect(hasHash(back, h)).toBe(true);
    for (const h of [2n, 6n, 2n ** 63n]) expect(hasHash(back, h)).toBe(false);
    expect(hasHash(decodeHashes(new Uint8Array(0)), 1n)).toBe(false);
  });

  it('refuse a file that is not a sorted list of 8-byte values', () => {
    expect(() => decodeHashes(new Uint8Array(7))).toThrow(/multiple of 8/);
    expect(() => decodeHashes(encodeHashes(BigUint64Array.from([2n, 1n])))).toThrow(/sorted/);
  });
});
