import type { ByteRange, ExportStore, Listing, ObjectBody } from '../../lambdas/domain/export/ports';

/**
 * An export bucket in memory with S3's semantics where the export relies on them: conditional create
 * (atomic per key), ranged GET (a range past the end is cut to the object, one starting past it is an
 * error), listing in key order with a delimiter's common prefixes, DeleteObjects ignoring missing keys.
 * Every call is counted and can be made to fail, before or after it takes effect.
 */

export type StoreOp = 'createIfAbsent' | 'put' | 'getText' | 'getBytes' | 'exists' | 'list' | 'deleteMany';

export interface StoreCall {
  /** 1-based count of the store's calls. */
  n: number;
  op: StoreOp;
  /** The key (the prefix for `list`, the first key for `deleteMany`). */
  key: string;
}

export interface Fault {
  /** Which calls fail. */
  match: (call: StoreCall) => boolean;
  /** 'before': the call has no effect (a throttled or refused request); 'after': it took effect, its answer is lost (a crash). */
  when?: 'before' | 'after';
  /** How many matching calls fail (default: all). */
  times?: number;
  error?: (call: StoreCall) => Error;
}

/** An error shaped like the SDK's for an S3 status, for faults that look like S3's. */
export class InjectedS3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    call: StoreCall,
  ) {
    super(`injected ${status} ${code} on call ${call.n} (${call.op} ${call.key})`);
    this.name = code;
  }
}

export class MemoryExportStore implements ExportStore {
  readonly objects = new Map<string, { body: Uint8Array; contentType: string }>();
  readonly calls: StoreCall[] = [];
  private faults: Array<Fault & { remaining: number }> = [];
  /** Awaited in every call before it takes effect: lets tests interleave concurrent callers. */
  yieldPoint: (call: StoreCall) => Promise<void> = async () => undefined;

  /** Makes matching calls fail; returns a function that removes the fault. */
  fail(fault: Fault): () => void {
    const entry = { ...fault, remaining: fault.times ?? Infinity };
    this.faults.push(entry);
    return () => {
      this.faults = this.faults.filter((f) => f !== entry);
    };
  }

  /** Crashes the k-th call from now on (1-based), before or after it takes effect. */
  crashAt(k: number, when: 'before' | 'after' = 'before'): void {
    const n = this.calls.length + k;
    this.fail({ match: (c) => c.n === n, when, times: 1, error: (c) => new Error(`crash at call ${c.n} (${c.op} ${c.key}, ${when})`) });
  }

  clearFaults(): void {
    this.faults = [];
  }

  text(key: string): string | undefined {
    const object = this.objects.get(key);
    return object && Buffer.from(object.body).toString('utf8');
  }

  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  /** Every object's text under `prefix` (default: the CSV files), by key. */
  snapshot(filter: (key: string) => boolean = (k) => k.endsWith('.csv')): Map<string, string> {
    return new Map(this.keys().filter(filter).map((k) => [k, this.text(k)!]));
  }

  private async call<T>(op: StoreOp, key: string, effect: () => T): Promise<T> {
    const call: StoreCall = { n: this.calls.length + 1, op, key };
    this.calls.push(call);
    const fault = this.faults.find((f) => f.remaining > 0 && f.match(call));
    if (fault) fault.remaining--;
    const error = () => fault!.error?.(call) ?? new InjectedS3Error(503, 'SlowDown', call);
    if (fault && (fault.when ?? 'before') === 'before') throw error();
    await this.yieldPoint(call);
    const result = effect();
    if (fault) throw error();
    return result;
  }

  createIfAbsent(key: string, body: ObjectBody, contentType: string): Promise<'created' | 'exists'> {
    return this.call('createIfAbsent', key, () => {
      if (this.objects.has(key)) return 'exists';
      this.objects.set(key, { body: toBytes(body), contentType });
      return 'created';
    });
  }

  put(key: string, body: ObjectBody, contentType: string): Promise<void> {
    return this.call('put', key, () => {
      this.objects.set(key, { body: toBytes(body), contentType });
    });
  }

  getText(key: string): Promise<string | undefined> {
    return this.call('getText', key, () => this.text(key));
  }

  getBytes(key: string, range?: ByteRange): Promise<Uint8Array | undefined> {
    return this.call('getBytes', key, () => {
      const object = this.objects.get(key);
      if (!object) return undefined;
      if (!range) return object.body.slice();
      if (range.start >= object.body.length || range.end < range.start) throw new Error(`416 InvalidRange ${range.start}-${range.end} of ${key}`);
      return object.body.slice(range.start, Math.min(range.end, object.body.length - 1) + 1);
    });
  }

  exists(key: string): Promise<boolean> {
    return this.call('exists', key, () => this.objects.has(key));
  }

  list(prefix: string, delimiter?: string): Promise<Listing> {
    return this.call('list', prefix, () => {
      const listing: Listing = { objects: [], prefixes: [] };
      const prefixes = new Set<string>();
      for (const key of this.keys(prefix)) {
        const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
        if (cut >= 0) prefixes.add(key.slice(0, cut + delimiter!.length));
        else listing.objects.push({ key, size: this.objects.get(key)!.body.length });
      }
      listing.prefixes = [...prefixes].sort();
      return listing;
    });
  }

  deleteMany(keys: readonly string[]): Promise<void> {
    return this.call('deleteMany', keys[0] ?? '', () => {
      for (const key of keys) this.objects.delete(key);
    });
  }
}

function toBytes(body: ObjectBody): Uint8Array {
  return typeof body === 'string' ? new Uint8Array(Buffer.from(body, 'utf8')) : body.slice();
}
