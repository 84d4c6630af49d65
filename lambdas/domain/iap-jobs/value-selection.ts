import type { TimeRange } from '../datapoint-logs/records';
import type { SelectedDatapoint } from '../datapoint-logs/select';
import type { Found } from '../datapoint-logs/value-reads';
import { matches, type Condition, type DatapointAddress, type KeyOf, type Selector } from '../iap/address';

/**
 * Which logged values an address selects beyond its datapoints: the value routes' reads and deletes,
 * and the bulk delete jobs, read the same selection from the same address.
 */

type ValueCondition = Condition<KeyOf<'value_param'>>;

/** Conditions on logged values: the datapoint element's `timestamp` and `tag` ones, and all of `{value_param}`'s. */
export function valueConditions(datapoint: Selector<'datapoint_name'>, valueParam: Selector<'value_param'> | undefined): ValueCondition[] {
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

/** What a read keeps beyond visibility: a literal {value_param} (a value id) and the value conditions. */
export function acceptor(valueParam: Selector<'value_param'> | undefined, conditions: readonly ValueCondition[]): (found: Found) => boolean {
  const query: Selector<'value_param'> = { element: 'value_param', kind: 'query', conditions: [...conditions] };
  return ({ value, levels }) => {
    const subject = { id: value.id, tags: levels.map((l) => `log_level_${l}`), timestamp: value.at, value: typeof value.value === 'object' ? null : value.value };
    // A literal {value_param} is a value id; conditions (the value's and the datapoint element's timestamps) all hold.
    if (valueParam?.kind === 'literal' && !matches(valueParam, subject)) return false;
    return conditions.length === 0 || matches(query, subject);
  };
}

/** A literal {value_param} names one value, so one datapoint: its number is the value id's high part. */
export function datapointsOfValueId(selected: SelectedDatapoint[], valueParam: Selector<'value_param'> | undefined): SelectedDatapoint[] {
  if (valueParam?.kind !== 'literal' || !/^\d{1,16}$/.test(valueParam.value)) return selected;
  const datapointId = Math.floor(Number(valueParam.value) / 1e9);
  return selected.filter((s) => s.datapoint.id === datapointId);
}

/** The values an address selects among its datapoints: the datapoints to read, the key range, and the per-value test. */
export interface ValueSelection {
  candidates: SelectedDatapoint[];
  range: TimeRange;
  accept: (found: Found) => boolean;
}

export function valueSelection(address: DatapointAddress, selected: SelectedDatapoint[]): ValueSelection {
  const conditions = valueConditions(address.datapoint, address.valueParam);
  return {
    candidates: datapointsOfValueId(selected, address.valueParam),
    range: timeRangeOf(conditions),
    accept: acceptor(address.valueParam, conditions),
  };
}
