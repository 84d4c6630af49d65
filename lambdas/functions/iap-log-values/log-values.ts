import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { visibleLevels } from '../../domain/datapoint-logs/logging-rules';
import type { DatapointLogStores, ValueLog } from '../../domain/datapoint-logs/ports';
import type { StoredValue, TimeRange } from '../../domain/datapoint-logs/records';
import { replyEntry } from '../../domain/datapoint-logs/reply';
import { literalRef, selectDatapoints, type SelectedDatapoint } from '../../domain/datapoint-logs/select';
import { matches, parseAddress, parsePaging, type Condition, type KeyOf, type Paging, type Selector } from '../../domain/iap/address';
import { callerFromEvent } from '../../shared/auth';
import { BadRequestError, NotFoundError, PayloadTooLargeError, jsonWithinLimit } from '../../shared/http';

/** Values a reply without paging may hold before the caller is asked to page. */
export const MAX_UNPAGED_VALUES = 10_000;

type ValueCondition = Condition<KeyOf<'value_param'>>;

interface Found {
  selected: SelectedDatapoint;
  /** Position of the datapoint in the selection: ties in time keep this order. */
  order: number;
  value: StoredValue;
  levels: Array<1 | 2 | 3>;
}

/** Conditions on logged values: the datapoint element's `timestamp` and `tag` ones, and all of `{value_param}`'s. */
function valueConditions(datapoint: Selector<'datapoint_name'>, valueParam: Selector<'value_param'> | undefined): ValueCondition[] {
  // On the datapoint element, `timestamp` selects values, and `tag` means the values logged at that
  // level (the seed's "all level 1 logged datapoints named …"), not only datapoints with it active.
  const isValueCondition = (c: Condition<KeyOf<'datapoint_name'>>): c is Condition<'timestamp' | 'tag'> => c.key === 'timestamp' || c.key === 'tag';
  const fromDatapoint = datapoint.kind === 'query' ? datapoint.conditions.filter(isValueCondition) : [];
  return [...fromDatapoint, ...(valueParam?.kind === 'query' ? valueParam.conditions : [])];
}

/** The key range the `timestamp` conditions allow (`!=` is checked per value). */
export function timeRangeOf(conditions: readonly Condition[]): TimeRange {
  const range: TimeRange = {};
  const atLeast = (t: number) => (range.from = Math.max(range.from ?? t, t));
  const atMost = (t: number) => (range.to = Math.min(range.to ?? t, t));
  for (const c of conditions) {
    if (c.key !== 'timestamp' || c.time === undefined) continue;
    if (c.op === '==') {
      atLeast(c.time);
      atMost(c.time);
    } else if (c.op === '>') atLeast(c.time + 1);
    else if (c.op === '=>') atLeast(c.time);
    else if (c.op === '<') atMost(c.time - 1);
    else if (c.op === '<=') atMost(c.time);
  }
  return range;
}

/**
 * The values of the selected datapoints that match, each datapoint's in time order, stopping at
 * `need` per datapoint (no more can be on the page asked for).
 */
async function findValues(
  values: Pick<ValueLog, 'values'>, oemId: string, selected: readonly SelectedDatapoint[], valueParam: Selector<'value_param'> | undefined,
  conditions: readonly ValueCondition[], need: number, now: number, snapshot: number,
): Promise<Found[]> {
  const range = timeRangeOf(conditions);
  // Conditions that exclude each other select nothing (DynamoDB refuses an inverted key range).
  if (range.from !== undefined && range.to !== undefined && range.from > range.to) return [];
  const lists = await Promise.all(selected.map(async (entry, order) => {
    const found: Found[] = [];
    for await (const value of values.values(oemId, entry.datapoint, range)) {
      if (value.loggedAt !== undefined && value.loggedAt > snapshot) continue; // logged after the snapshot
      const levels = visibleLevels(value, entry.datapoint.config, now);
      if (levels.length === 0) continue; // past the retention of every level it was logged for
      const subject = { id: value.id, tags: levels.map((l) => `log_level_${l}`), timestamp: value.at, value: typeof value.value === 'object' ? null : value.value };
      // A literal {value_param} is a value id; conditions (the value's and the datapoint element's timestamps) all hold.
      if (valueParam?.kind === 'literal' && !matches(valueParam, subject)) continue;
      if (conditions.length > 0 && !matches({ element: 'value_param', kind: 'query', conditions }, subject)) continue;
      found.push({ selected: entry, order, value, levels });
      if (found.length >= need) break;
    }
    return found;
  }));
  return lists.flat().sort((a, b) => a.value.at - b.value.at || a.order - b.order || a.value.sequence - b.value.sequence);
}

function render(found: Found): Record<string, unknown> {
  const { datapoint } = found.selected;
  const { value } = found;
  return {
    ...replyEntry(datapoint, { dsn: datapoint.dsn, state: value.deviceState, health: value.deviceHealth, ...(value.timeZone ? { timeZone: value.timeZone } : {}) }, value.at),
    id: value.id,
    value: value.value,
    tags: found.levels.map((level) => ({ [`log_level_${level}`]: null })),
  };
}

function snapshotOf(paging: Paging | undefined, now: number): number {
  if (paging?.snapshot === undefined) return now;
  if (!/^\d{1,15}$/.test(paging.snapshot)) throw new BadRequestError(`xs must be the snapshot of a previous paged reply, got ${JSON.stringify(paging.snapshot)}`, 'BadQuery');
  return Number(paging.snapshot);
}

/**
 * GET and DELETE `…/logs/value/{value_param}`: the logged values of the caller's datapoints that the
 * address selects, sorted by UTC; values past the retention of every level they carry (under the
 * current configuration) are neither returned nor counted, even before TTL deletes them.
 */
export async function handleLogValues(
  event: APIGatewayProxyEventV2WithJWTAuthorizer, stores: DatapointLogStores, now: number,
): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = callerFromEvent(event);
  const method = event.requestContext.http.method.toUpperCase();
  const address = parseAddress(event.pathParameters);
  const paging = method === 'GET' ? parsePaging(event.queryStringParameters) : undefined;
  if (method !== 'GET' && event.queryStringParameters && Object.keys(event.queryStringParameters).length > 0) {
    throw new BadRequestError(`${method} takes no query parameters`, 'BadQuery');
  }
  const selected = await selectDatapoints(stores.registry, caller.oemId, address);
  const ref = literalRef(address);
  if (selected.length === 0 && ref) throw new NotFoundError(`no datapoint ${ref.dsn}/${ref.block}/${ref.blockIndex}/${ref.name}`, 'NoSuchDatapoint');
  const conditions = valueConditions(address.datapoint, address.valueParam);
  const snapshot = snapshotOf(paging, now);

  if (method === 'DELETE') {
    const found = await findValues(stores.values, caller.oemId, selected, address.valueParam, conditions, Number.POSITIVE_INFINITY, now, now);
    await stores.values.deleteValues(caller.oemId, found.map((f) => ({ ref: f.selected.datapoint, value: f.value })));
    return { statusCode: 204 };
  }

  if (paging) {
    // One page of read-ahead tells whether more pages follow, without reading the whole log.
    const need = (paging.page + 2) * paging.size;
    const found = await findValues(stores.values, caller.oemId, selected, address.valueParam, conditions, need, now, snapshot);
    const start = paging.page * paging.size;
    const rest = found.length - start - paging.size;
    return jsonWithinLimit(200, {
      snapshot,
      resources: found.slice(start, start + paging.size).map(render),
      remainingPages: rest <= 0 ? 0 : Math.ceil(rest / paging.size),
    }, 'use a smaller sz');
  }
  const found = await findValues(stores.values, caller.oemId, selected, address.valueParam, conditions, MAX_UNPAGED_VALUES + 1, now, snapshot);
  if (found.length > MAX_UNPAGED_VALUES) {
    throw new PayloadTooLargeError(`more than ${MAX_UNPAGED_VALUES} values match: ask for pages with ?pg=0&sz=1000, or narrow the time range`, 'ReplyTooLarge');
  }
  return jsonWithinLimit(200, found.slice(0, MAX_UNPAGED_VALUES).map(render), 'ask for pages with ?pg=0&sz=500');
}
