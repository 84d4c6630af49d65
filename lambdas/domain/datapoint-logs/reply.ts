import { BadRequestError } from '../../shared/http';
import type { Paging } from '../iap/address';
import { describeValue } from './log-settings';
import type { DatapointRecord, DeviceRecord } from './records';
import { formatLocal, formatUtc } from './time-format';

/** The fields every IAP logs reply entry starts with (the datapoint, its device, a time). */
export function replyEntry(datapoint: DatapointRecord, device: DeviceRecord, time: number): Record<string, unknown> {
  return {
    id: datapoint.id,
    local: formatLocal(time, device.timeZone),
    utc: formatUtc(time),
    deviceId: datapoint.dsn,
    deviceName: datapoint.dsn,
    blockName: datapoint.block,
    blockIndex: String(datapoint.blockIndex),
    datapointName: datapoint.name,
    deviceState: device.state,
    deviceHealth: device.health,
  };
}

export interface Page<T> {
  snapshot: number;
  resources: T[];
  remainingPages: number;
}

/**
 * A page of `items` as IAP pages: `{snapshot, resources, remainingPages}`. The snapshot is the time
 * paging started (epoch ms); pages asked with `xs=<snapshot>` leave out what appeared after it, so
 * a listing does not shift while it is paged through.
 */
export function pageOf<T, R>(items: readonly T[], paging: Paging, now: number, appearedAt: (item: T) => number, render: (item: T) => R): Page<R> {
  let snapshot = now;
  if (paging.snapshot !== undefined) {
    if (!/^\d{1,15}$/.test(paging.snapshot)) throw new BadRequestError(`xs must be the snapshot of a previous paged reply, got ${describeValue(paging.snapshot)}`, 'BadQuery');
    snapshot = Number(paging.snapshot);
  }
  const visible = items.filter((item) => appearedAt(item) <= snapshot);
  const pages = Math.ceil(visible.length / paging.size);
  const start = paging.page * paging.size;
  return {
    snapshot,
    resources: visible.slice(start, start + paging.size).map(render),
    remainingPages: Math.max(0, pages - paging.page - 1),
  };
}
