import { BadRequestError, UnprocessableEntityError } from '../../shared/http';
import { matches, type DatapointAddress, type Selector } from '../iap/address';
import { datapointKeyFits } from './keys';
import { describeValue } from './log-settings';
import type { DatapointRegistry } from './ports';
import type { DatapointRecord, DatapointRef, DatapointScope, DeviceRecord } from './records';

/** A datapoint selected by an address, with its device. */
export interface SelectedDatapoint {
  datapoint: DatapointRecord;
  device: DeviceRecord;
}

/** `log_level_N` for each level that is active (retention above 0): the tags a datapoint has. */
export function activeLevelTags(datapoint: DatapointRecord): string[] {
  return datapoint.config.levels.flatMap((level, i) => (level.retention > 0 ? [`log_level_${i + 1}`] : []));
}

const literal = <E extends Selector['element']>(selector: Selector<E>) => (selector.kind === 'literal' ? selector.value : undefined);

/** A block index given literally: a non-negative integer, else a 400. */
function literalIndex(selector: Selector<'block_index'>): number | undefined {
  const value = literal(selector);
  if (value === undefined) return undefined;
  // Canonical numbers only: `01` would find index 1 by key but not match it as text.
  if (!/^(0|[1-9]\d{0,8})$/.test(value)) throw new BadRequestError(`block_index must be a number without leading zeros, * or *+…, got ${describeValue(value)}`, 'BadPath');
  return Number(value);
}

/** The key scope an address allows: its literal elements, or a single `name==` condition on the datapoint. */
export function scopeOf(address: DatapointAddress): DatapointScope {
  const scope: DatapointScope = {};
  const dsn = literal(address.id);
  if (dsn !== undefined) scope.dsn = dsn;
  const block = literal(address.block);
  if (block !== undefined) scope.block = block;
  const blockIndex = literalIndex(address.blockIndex);
  if (blockIndex !== undefined) scope.blockIndex = blockIndex;
  const name = literal(address.datapoint)
    ?? (address.datapoint.kind === 'query' ? address.datapoint.conditions.find((c) => c.key === 'name' && c.op === '==')?.value : undefined);
  if (name !== undefined) scope.name = name;
  return scope;
}

/** The datapoint an all-literal address names, or undefined when the address has a wildcard. */
export function literalRef(address: DatapointAddress): DatapointRef | undefined {
  const dsn = literal(address.id);
  const block = literal(address.block);
  const blockIndex = literalIndex(address.blockIndex);
  const name = literal(address.datapoint);
  if (dsn === undefined || block === undefined || blockIndex === undefined || name === undefined) return undefined;
  const ref = { dsn, block, blockIndex, name };
  if (!datapointKeyFits(ref)) throw new BadRequestError('the address names a datapoint longer than one can be (its key would exceed 1,024 bytes)', 'BadPath');
  return ref;
}

/** The datapoint element without its `timestamp` conditions, which select logged values, not datapoints. */
export function datapointPart(selector: Selector<'datapoint_name'>): Selector<'datapoint_name'> {
  if (selector.kind !== 'query') return selector;
  const conditions = selector.conditions.filter((c) => c.key !== 'timestamp');
  return conditions.length > 0 ? { ...selector, conditions } : { element: selector.element, kind: 'all' };
}

export const hasTimeConditions = (selector: Selector<'datapoint_name'>) =>
  selector.kind === 'query' && selector.conditions.some((c) => c.key === 'timestamp');

const byPosition = (a: DatapointRecord, b: DatapointRecord) =>
  a.dsn.localeCompare(b.dsn) || a.block.localeCompare(b.block) || a.blockIndex - b.blockIndex || a.name.localeCompare(b.name);

/** Datapoints whose devices are looked up together while selecting. */
const SELECT_CHUNK = 100;

/**
 * The caller's datapoints an address selects, with their devices, ordered by device, block,
 * index and name. Reads only the OEM's partition, by the narrowest key the address allows; devices
 * are looked up a chunk of datapoints at a time. With `limit`, a selection of more datapoints is a 422
 * asking to narrow the address, raised as soon as it is known (memory stays bounded by the limit).
 */
export async function selectDatapoints(
  store: Pick<DatapointRegistry, 'queryDatapoints' | 'getDevices'>, oemId: string, address: DatapointAddress, options: { limit?: number; what?: string } = {},
): Promise<SelectedDatapoint[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const datapointSelector = datapointPart(address.datapoint);
  const scope = scopeOf(address);
  // A literal longer than any stored key can match nothing (and DynamoDB refuses such a key condition).
  if (!datapointKeyFits({ dsn: scope.dsn ?? '', block: scope.block ?? '', blockIndex: scope.blockIndex ?? 0, name: scope.name ?? '' })) return [];
  const selected: SelectedDatapoint[] = [];
  let chunk: DatapointRecord[] = [];
  // A device's datapoints come together (keys start with the device): its record is looked up once.
  const devices = new Map<string, DeviceRecord>();
  const flush = async () => {
    if (devices.size > 10_000) devices.clear();
    const missing = [...new Set(chunk.map((d) => d.dsn))].filter((dsn) => !devices.has(dsn));
    if (missing.length > 0) for (const [dsn, device] of await store.getDevices(oemId, missing)) devices.set(dsn, device);
    for (const datapoint of chunk) {
      const device = devices.get(datapoint.dsn)!;
      if (matches(address.id, { id: datapoint.dsn, name: datapoint.dsn, state: device.state, health: device.health })) selected.push({ datapoint, device });
    }
    chunk = [];
    if (selected.length > limit) {
      throw new UnprocessableEntityError(
        `the address selects more than ${limit} datapoints, more than ${options.what ?? 'one request'} can take: narrow it (a device, a datapoint name, a tag)`,
        'SelectionTooLarge',
      );
    }
  };
  for await (const datapoint of store.queryDatapoints(oemId, scope)) {
    if (
      matches(address.block, { name: datapoint.block }) &&
      matches(address.blockIndex, { index: datapoint.blockIndex }) &&
      matches(datapointSelector, { name: datapoint.name, tags: activeLevelTags(datapoint) })
    ) {
      chunk.push(datapoint);
      if (chunk.length >= SELECT_CHUNK) await flush();
    }
  }
  if (chunk.length > 0) await flush();
  return selected.sort((a, b) => byPosition(a.datapoint, b.datapoint));
}
