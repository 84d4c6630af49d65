import {
  loggerStateFromItem, loggerStateToItem, stateFromValueItem, valueAttributes, valueFromItem, valueOfAttributes, valueToItem,
} from '../../../../../lambdas/adapters/dynamodb/datapoint-log-items';
import { INITIAL_STATE, type LoggerState } from '../../../../../lambdas/domain/datapoint-logs/logging-rules';
import type { StoredValue } from '../../../../../lambdas/domain/datapoint-logs/records';
import type { JsonValue } from '../../../../../lambdas/domain/datapoint-logs/storable';

/**
 * The item codec of logged values and logger states. The document client refuses to write a number
 * beyond ±2^53 and cannot read one back as a number; a structured value may hold what a DynamoDB map
 * cannot. So no such number, and no structure, may reach an item attribute as it is.
 */

/** Every number in an item: safe for the document client both ways. */
function numbersAreSafe(item: unknown): boolean {
  if (typeof item === 'number') return Math.abs(item) <= Number.MAX_SAFE_INTEGER;
  if (item !== null && typeof item === 'object') return Object.values(item).every(numbersAreSafe);
  return true;
}

const SCALARS: JsonValue[] = [0, -0, 1, -2.5, 1e-130, 123.456, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 'text', '', true, false, null];
const AS_TEXT: JsonValue[] = [1e20, 9.99e125, -1e20, 9007199254740992, 1.2345678901234568e38, { state: 1, value: 100 }, [], {}, [1, [2, { '': 'empty key' }]], { n: 1e20 }];

describe('valueAttributes / valueOfAttributes', () => {
  it.each(SCALARS.map((v) => [v]))('keeps the scalar %p as it is', (value) => {
    expect(valueAttributes(value)).toEqual({ value });
    expect(valueOfAttributes(valueAttributes(value))).toEqual(value);
  });

  it.each(AS_TEXT.map((v) => [v]))('keeps %p as its JSON text, and reads it back the same', (value) => {
    const attributes = valueAttributes(value);
    expect(attributes).toEqual({ valueJson: JSON.stringify(value) });
    expect(numbersAreSafe(attributes)).toBe(true);
    expect(valueOfAttributes(attributes)).toEqual(value);
  });

  it('reads an item written before structured values existed (only `value`), and a missing value as null', () => {
    expect(valueOfAttributes({ value: 12 })).toBe(12);
    expect(valueOfAttributes({})).toBeNull();
  });
});

describe('valueToItem / valueFromItem', () => {
  const stored = (value: JsonValue): StoredValue => ({
    id: 3_000_000_001, sequence: 1, at: 1_700_000_000_000, value, levels: [1, 3], deviceState: 'provisioned', deviceHealth: 'normal', expiresAt: 1_700_086_400, loggedAt: 1_700_000_000_500,
  });

  it.each([...SCALARS, ...AS_TEXT].map((v) => [v]))('round-trips a logged value holding %p', (value) => {
    const item = valueToItem(stored(value));
    expect(numbersAreSafe(item)).toBe(true);
    expect(valueFromItem(item)).toEqual(stored(value));
  });
});

describe('loggerStateToItem / loggerStateFromItem', () => {
  const state = (lastLoggedValue: JsonValue): LoggerState => ({
    lastEventAt: 1_700_000_000_000, lastEventIds: ['a'], lastLoggedAt: 1_700_000_000_000, lastLoggedValue, levelLastAt: [1_700_000_000_000, undefined, undefined], logged: 7,
  });

  it.each([...SCALARS, ...AS_TEXT].map((v) => [v]))('round-trips the last logged value %p with only safe numbers in the item', (value) => {
    const item = loggerStateToItem(state(value));
    expect(numbersAreSafe(item)).toBe(true);
    expect(loggerStateFromItem(item)).toEqual(state(value));
  });

  it('round-trips a state that has logged nothing yet', () => {
    expect(loggerStateFromItem(loggerStateToItem(INITIAL_STATE))).toEqual({ levelLastAt: [undefined, undefined, undefined], logged: 0 });
  });
});

describe('the logger state a value item carries', () => {
  const value: StoredValue = { id: 5e9 + 3, sequence: 3, at: 1_700_000_060_000, value: { state: 1, value: 100 }, levels: [1, 3], deviceState: 'provisioned', deviceHealth: 'normal', expiresAt: 1_800_000_000 };

  it('is read back as the state after the value: its time, value and sequence, the level times, later decided time and ids', () => {
    const state: LoggerState = {
      lastEventAt: 1_700_000_061_000, lastEventIds: ['e9'], lastLoggedAt: value.at, lastLoggedValue: value.value,
      levelLastAt: [value.at, undefined, value.at], logged: 3,
    };
    const item = valueToItem(value, state);
    expect(item).toMatchObject({ ll: [value.at, null, value.at], ea: 1_700_000_061_000, ei: ['e9'] });
    expect(stateFromValueItem(JSON.parse(JSON.stringify(item)) as Record<string, unknown>)).toEqual(state);
    expect(valueFromItem(item)).toEqual(value);
  });

  it('leaves out what the value says itself, and is absent from a value written without it', () => {
    const state: LoggerState = { lastEventAt: value.at, lastLoggedAt: value.at, lastLoggedValue: value.value, levelLastAt: [value.at, undefined, undefined], logged: 3 };
    const item = valueToItem(value, state);
    expect(item).not.toHaveProperty('ea');
    expect(item).not.toHaveProperty('ei');
    expect(stateFromValueItem(item)).toEqual(state);
    expect(stateFromValueItem(valueToItem(value))).toBeUndefined();
  });
});
