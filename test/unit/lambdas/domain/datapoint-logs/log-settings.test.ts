import {
  applyPatch,
  DEFAULT_CONFIG,
  DEFAULT_LEVEL,
  MAX_BODY_BYTES,
  MAX_INTERVAL_SECONDS,
  MAX_MIN_DELTA_TIME_SECONDS,
  MAX_RETENTION_DAYS,
  minDeltaValueReply,
  parseJsonBody,
  parseRootBody,
  parseSettingBody,
  resetPatch,
  rootReply,
  type LogConfig,
} from '../../../../../lambdas/domain/datapoint-logs/log-settings';
import { BadRequestError, PayloadTooLargeError } from '../../../../../lambdas/shared/http';

/** The BadRequestError `f` throws (failing the test when it throws none, or something else). */
function badBody(f: () => unknown): BadRequestError {
  try {
    f();
  } catch (error) {
    if (error instanceof BadRequestError) {
      expect(error.statusCode).toBe(400);
      expect(error.code).toBe('BadBody');
      expect(error.message).not.toBe('');
      return error;
    }
    throw error;
  }
  throw new Error('no BadRequestError thrown');
}

const configured = (over: Partial<LogConfig> = {}): LogConfig => ({
  levels: [
    { interval: 60, retention: 2, logMultiple: null },
    { interval: 120, retention: 0, logMultiple: 3 },
    { interval: 180, retention: 0.5, logMultiple: null },
  ],
  minDeltaTime: 10,
  minDeltaValue: 'always',
  ...over,
});

describe('DEFAULT_CONFIG', () => {
  it('is intervals 0, retentions 0, minDeltaTime 0 and minDeltaValue any (DESIGN §5)', () => {
    expect(DEFAULT_CONFIG).toEqual({
      levels: [
        { interval: 0, retention: 0, logMultiple: null },
        { interval: 0, retention: 0, logMultiple: null },
        { interval: 0, retention: 0, logMultiple: null },
      ],
      minDeltaTime: 0,
      minDeltaValue: 'any',
    });
    expect(DEFAULT_LEVEL).toEqual({ interval: 0, retention: 0, logMultiple: null });
  });

  it('has three distinct level objects (patching one level of a copy never touches another)', () => {
    expect(DEFAULT_CONFIG.levels[0]).not.toBe(DEFAULT_CONFIG.levels[1]);
    expect(DEFAULT_CONFIG.levels[1]).not.toBe(DEFAULT_CONFIG.levels[2]);
  });

  it('is shown by rootReply as the seed shows an unset configuration', () => {
    expect(rootReply(DEFAULT_CONFIG)).toEqual({
      level1: { interval: 0, retention: 0, logMultiple: null },
      level2: { interval: 0, retention: 0, logMultiple: null },
      level3: { interval: 0, retention: 0, logMultiple: null },
      minDeltaTime: 0,
      minDeltaValue: 'ANY',
    });
  });
});

describe('parseSettingBody: a level', () => {
  it('takes all three fields', () => {
    expect(parseSettingBody('level', { interval: 60, retention: 2, logMultiple: null }, 1)).toEqual({
      levels: { 1: { interval: 60, retention: 2, logMultiple: null } },
    });
  });

  it.each([
    [{ interval: 300 }, { interval: 300 }],
    [{ retention: 7 }, { retention: 7 }],
    [{ logMultiple: 4 }, { logMultiple: 4 }],
    [{ logMultiple: null }, { logMultiple: null }],
    [{ interval: 0, retention: 0 }, { interval: 0, retention: 0 }],
  ])('takes a partial body %j and sets only what it gives', (body, fields) => {
    expect(parseSettingBody('level', body, 2)).toEqual({ levels: { 2: fields } });
  });

  it('puts the fields under the level the path names', () => {
    for (const level of [1, 2, 3] as const) {
      expect(parseSettingBody('level', { interval: 5 }, level)).toEqual({ levels: { [level]: { interval: 5 } } });
    }
  });

  it('allows a fractional retention (days) but not a fractional interval (seconds)', () => {
    expect(parseSettingBody('level', { retention: 0.5 }, 1)).toEqual({ levels: { 1: { retention: 0.5 } } });
    expect(badBody(() => parseSettingBody('level', { interval: 1.5 }, 1)).message).toMatch(/interval/);
  });

  it('accepts the bounds: interval up to 366 days in seconds, retention up to 36,500 days', () => {
    expect(parseSettingBody('level', { interval: MAX_INTERVAL_SECONDS, retention: MAX_RETENTION_DAYS }, 3)).toEqual({
      levels: { 3: { interval: MAX_INTERVAL_SECONDS, retention: MAX_RETENTION_DAYS } },
    });
  });

  it.each([
    ['a negative interval', { interval: -1 }, /interval/],
    ['an interval too big', { interval: MAX_INTERVAL_SECONDS + 1 }, /interval/],
    ['a non-integer interval', { interval: 0.25 }, /interval/],
    ['an interval that is no number', { interval: 'soon' }, /interval/],
    ['a boolean interval', { interval: true }, /interval/],
    ['an infinite interval (as JSON cannot say, but a caller could build)', { interval: Number.POSITIVE_INFINITY }, /interval/],
    ['a negative retention', { retention: -0.5 }, /retention/],
    ['a retention too big', { retention: MAX_RETENTION_DAYS + 1 }, /retention/],
    ['a null retention', { retention: null }, /retention/],
    ['a negative logMultiple', { logMultiple: -2 }, /logMultiple/],
    ['a fractional logMultiple', { logMultiple: 1.5 }, /logMultiple/],
    ['a text logMultiple', { logMultiple: 'x' }, /logMultiple/],
  ])('refuses %s with 400 BadBody naming the field', (_what, body, field) => {
    expect(badBody(() => parseSettingBody('level', body, 1)).message).toMatch(field);
  });

  it('refuses an unknown field, naming it', () => {
    expect(badBody(() => parseSettingBody('level', { interval: 1, period: 3 }, 1)).message).toMatch(/"period"/);
  });

  it.each([[{}], [null], [[]], [60], ['interval']])('refuses %j: not an object, or sets nothing', (body) => {
    badBody(() => parseSettingBody('level', body, 1));
  });
});

describe('parseSettingBody: minDeltaValue', () => {
  it.each([
    [100, 100],
    [0, 0],
    [0.25, 0.25],
    ['always', 'always'],
    ['ALWAYS', 'always'],
    ['Always', 'always'],
    ['any', 'any'],
    ['ANY', 'any'],
    [' any ', 'any'],
    ['12.5', 12.5],
    [{ minDeltaValue: 5 }, 5],
    [{ minDeltaValue: 'ALWAYS' }, 'always'],
  ])('takes %j as %j', (body, value) => {
    expect(parseSettingBody('minDeltaValue', body)).toEqual({ minDeltaValue: value });
  });

  it.each([[-1], [-0.5], ['never'], [''], [null], [true], [{}], [{ minDeltaValue: -3 }], [{ minDeltaValue: 'sometimes' }], [[5]]])(
    'refuses %j with 400 BadBody',
    (body) => {
      expect(badBody(() => parseSettingBody('minDeltaValue', body)).message).toMatch(/minDeltaValue/);
    },
  );
});

describe('parseSettingBody: minDeltaTime', () => {
  it.each([
    [30, 30],
    [0, 0],
    [1.5, 1.5],
    ['45', 45],
    [{ minDeltaTime: 30 }, 30],
    [MAX_MIN_DELTA_TIME_SECONDS, MAX_MIN_DELTA_TIME_SECONDS],
  ])('takes %j as %j', (body, value) => {
    expect(parseSettingBody('minDeltaTime', body)).toEqual({ minDeltaTime: value });
  });

  it.each([[-1], [MAX_MIN_DELTA_TIME_SECONDS + 1], ['always'], [null], [{}], [{ minDeltaTime: -1 }], [{ minDeltaTime: 'x' }]])('refuses %j with 400 BadBody', (body) => {
    expect(badBody(() => parseSettingBody('minDeltaTime', body)).message).toMatch(/minDeltaTime/);
  });
});

describe('parseRootBody', () => {
  const root = {
    level1: { interval: 60, retention: 2, logMultiple: null },
    level2: { interval: 120, retention: 0, logMultiple: null },
    level3: { interval: 180, retention: 0, logMultiple: null },
    minDeltaTime: 0,
    minDeltaValue: 'ALWAYS',
  };
  const patch = {
    levels: {
      1: { interval: 60, retention: 2, logMultiple: null },
      2: { interval: 120, retention: 0, logMultiple: null },
      3: { interval: 180, retention: 0, logMultiple: null },
    },
    minDeltaTime: 0,
    minDeltaValue: 'always',
  };

  it('takes the seed reply\'s "root" object as it is', () => {
    expect(parseRootBody(root)).toEqual(patch);
  });

  it('takes it wrapped in {"root": …}, and a whole GET reply entry (only root counts)', () => {
    expect(parseRootBody({ root })).toEqual(patch);
    expect(parseRootBody({ id: 352, utc: '2019-01-11 23:27:46.045 UTC', datapointName: 'nviPT', root })).toEqual(patch);
  });

  it('takes any part of it', () => {
    expect(parseRootBody({ level2: { retention: 30 } })).toEqual({ levels: { 2: { retention: 30 } } });
    expect(parseRootBody({ minDeltaValue: 5 })).toEqual({ minDeltaValue: 5 });
    expect(parseRootBody({ root: { minDeltaTime: 15 } })).toEqual({ minDeltaTime: 15 });
  });

  it('round-trips: what rootReply shows, parseRootBody reads back to the same configuration', () => {
    const config = configured({ minDeltaValue: 7.5 });
    expect(applyPatch(DEFAULT_CONFIG, parseRootBody({ root: rootReply(config) }))).toEqual(config);
  });

  it.each([
    ['an unknown key', { level4: { interval: 1 } }, /"level4"/],
    ['an unknown key inside root', { root: { ...root, extra: 1 } }, /"extra"/],
    ['an unknown field in a level', { level1: { interval: 1, every: 2 } }, /"every"/],
    ['a bad level value', { level1: { interval: -5 } }, /level1\.interval/],
    ['a bad minDeltaValue', { minDeltaValue: 'never' }, /minDeltaValue/],
    ['a bad minDeltaTime', { minDeltaTime: -1 }, /minDeltaTime/],
    ['a level that is no object', { level3: 5 }, /level3/],
  ])('refuses %s with 400 BadBody', (_what, body, message) => {
    expect(badBody(() => parseRootBody(body)).message).toMatch(message);
  });

  it.each([[{}], [{ root: {} }], [null], [[root]], ['root'], [42]])('refuses %j: nothing to set or not an object', (body) => {
    badBody(() => parseRootBody(body));
  });
});

describe('resetPatch', () => {
  it('sets a level\'s interval and retention to 0, keeping logMultiple', () => {
    expect(resetPatch('level', 2)).toEqual({ levels: { 2: { interval: 0, retention: 0 } } });
    expect(applyPatch(configured(), resetPatch('level', 2)).levels).toEqual([
      { interval: 60, retention: 2, logMultiple: null },
      { interval: 0, retention: 0, logMultiple: 3 },
      { interval: 180, retention: 0.5, logMultiple: null },
    ]);
  });

  it('sets minDeltaValue to 0 and minDeltaTime to 0 (DESIGN §5), nothing else', () => {
    expect(resetPatch('minDeltaValue')).toEqual({ minDeltaValue: 0 });
    expect(resetPatch('minDeltaTime')).toEqual({ minDeltaTime: 0 });
    expect(applyPatch(configured(), resetPatch('minDeltaValue'))).toEqual(configured({ minDeltaValue: 0 }));
    expect(applyPatch(configured(), resetPatch('minDeltaTime'))).toEqual(configured({ minDeltaTime: 0 }));
  });
});

describe('applyPatch', () => {
  it('sets only the fields the patch gives', () => {
    const config = configured();
    expect(applyPatch(config, { levels: { 3: { retention: 9 } } })).toEqual({
      ...config,
      levels: [config.levels[0], config.levels[1], { interval: 180, retention: 9, logMultiple: null }],
    });
    expect(applyPatch(config, { minDeltaTime: 3 })).toEqual({ ...config, minDeltaTime: 3 });
    expect(applyPatch(config, {})).toEqual(config);
  });

  it('takes falsy values as values: 0, null logMultiple', () => {
    const config = configured();
    const patched = applyPatch(config, { levels: { 2: { logMultiple: null } }, minDeltaTime: 0, minDeltaValue: 0 });
    expect(patched.levels[1]).toEqual({ interval: 120, retention: 0, logMultiple: null });
    expect(patched.minDeltaTime).toBe(0);
    expect(patched.minDeltaValue).toBe(0);
  });

  it('never changes the configuration it is given', () => {
    const config = configured();
    const before = structuredClone(config);
    applyPatch(config, { levels: { 1: { interval: 1, retention: 1 }, 2: { logMultiple: 9 } }, minDeltaTime: 1, minDeltaValue: 'any' });
    expect(config).toEqual(before);
    const defaults = structuredClone(DEFAULT_CONFIG);
    applyPatch(DEFAULT_CONFIG, { levels: { 1: { retention: 5 } } });
    expect(DEFAULT_CONFIG).toEqual(defaults);
  });
});

describe('rootReply and minDeltaValueReply', () => {
  it('shows the seed\'s configuration as the seed does', () => {
    expect(rootReply(configured({ levels: [
      { interval: 60, retention: 2, logMultiple: null },
      { interval: 120, retention: 0, logMultiple: null },
      { interval: 180, retention: 0, logMultiple: null },
    ], minDeltaTime: 0 }))).toEqual({
      level1: { interval: 60, retention: 2, logMultiple: null },
      level2: { interval: 120, retention: 0, logMultiple: null },
      level3: { interval: 180, retention: 0, logMultiple: null },
      minDeltaTime: 0,
      minDeltaValue: 'ALWAYS',
    });
  });

  it('has the seed\'s key order', () => {
    expect(Object.keys(rootReply(DEFAULT_CONFIG))).toEqual(['level1', 'level2', 'level3', 'minDeltaTime', 'minDeltaValue']);
  });

  it('shows minDeltaValue as ANY, ALWAYS or the number', () => {
    expect(minDeltaValueReply('any')).toBe('ANY');
    expect(minDeltaValueReply('always')).toBe('ALWAYS');
    expect(minDeltaValueReply(100)).toBe(100);
    expect(minDeltaValueReply(0)).toBe(0);
    expect(rootReply(configured({ minDeltaValue: 2.5 })).minDeltaValue).toBe(2.5);
  });

  it('returns copies: changing the reply never changes the configuration', () => {
    const config = configured();
    const reply = rootReply(config) as { level1: { interval: number } };
    reply.level1.interval = 999;
    expect(config.levels[0].interval).toBe(60);
  });
});

describe('parseJsonBody', () => {
  it('parses a JSON body, bare values included', () => {
    expect(parseJsonBody('{"interval": 60}')).toEqual({ interval: 60 });
    expect(parseJsonBody('100')).toBe(100);
    expect(parseJsonBody('"always"')).toBe('always');
    expect(parseJsonBody('null')).toBeNull();
  });

  it('decodes a base64 body first when API Gateway says so', () => {
    expect(parseJsonBody(Buffer.from('{"retention": 7}').toString('base64'), true)).toEqual({ retention: 7 });
    expect(parseJsonBody(Buffer.from('"ANY"').toString('base64'), true)).toBe('ANY');
  });

  it.each([[undefined], [''], ['   '], ['\n']])('refuses a missing or empty body (%j) with 400 BadBody', (body) => {
    expect(badBody(() => parseJsonBody(body)).message).toMatch(/JSON body/);
  });

  it.each([['{interval: 60}'], ['always'], ['{"a":'], ['1 2']])('refuses text that is not JSON (%j) with 400 BadBody', (body) => {
    expect(badBody(() => parseJsonBody(body)).message).toMatch(/not valid JSON/);
  });

  it('refuses a base64 body that does not decode to JSON', () => {
    badBody(() => parseJsonBody(Buffer.from('not json').toString('base64'), true));
    // Plain JSON text flagged as base64 decodes to bytes that are no JSON.
    badBody(() => parseJsonBody('{"interval": 60}', true));
  });
});

describe('error messages about client values', () => {
  // Found by fuzzing: a deeply nested body made the 400's message overflow the stack (a 500).
  it('answers a deeply nested body with a 400 that names its kind, not its content', () => {
    const deep: unknown = JSON.parse('['.repeat(50_000) + ']'.repeat(50_000));
    for (const parse of [() => parseSettingBody('minDeltaValue', deep), () => parseSettingBody('minDeltaTime', deep), () => parseSettingBody('level', { interval: deep }, 1)]) {
      expect(parse).toThrow(BadRequestError);
    }
    expect(() => parseSettingBody('minDeltaValue', deep)).toThrow(/got a list/);
  });

  it('cuts long values short in messages', () => {
    expect(() => parseSettingBody('minDeltaTime', 'x'.repeat(10_000))).toThrow(/got "x{60}\.\.\.$/);
  });
});

// Regression tests: numbers DynamoDB cannot store (a non-zero magnitude below 1E-130) passed the
// checks and DynamoDB refused the update: the client got a 500 for its own mistake.
describe('numbers DynamoDB cannot store', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['a level\'s retention', () => parseSettingBody('level', { retention: 1e-131 }, 2), /level2\.retention/],
    ['a level\'s retention as text', () => parseSettingBody('level', { retention: '1e-131' }, 1), /level1\.retention/],
    ['a negative tiny retention', () => parseSettingBody('level', { retention: -1e-131 }, 1), /level1\.retention/],
    ['the root\'s level retention', () => parseRootBody({ level3: { retention: 5e-324 } }), /level3\.retention/],
    ['the root\'s minDeltaTime', () => parseRootBody({ root: { minDeltaTime: 1e-200 } }), /minDeltaTime/],
    ['the root\'s minDeltaValue', () => parseRootBody({ minDeltaValue: 1e-131 }), /minDeltaValue/],
    ['minDeltaValue', () => parseSettingBody('minDeltaValue', 1e-131), /minDeltaValue/],
    ['minDeltaValue wrapped', () => parseSettingBody('minDeltaValue', { minDeltaValue: 5e-324 }), /minDeltaValue/],
    ['minDeltaTime', () => parseSettingBody('minDeltaTime', 1e-131), /minDeltaTime/],
    ['minDeltaTime wrapped', () => parseSettingBody('minDeltaTime', { minDeltaTime: '1e-131' }), /minDeltaTime/],
  ])('refuses a tiny number in %s with 400 naming the field', (_what, parse, field) => {
    expect(badBody(parse).message).toMatch(field);
  });

  it('still takes 0, -0 and the smallest magnitude DynamoDB stores', () => {
    expect(parseSettingBody('level', { retention: 1e-130 }, 1)).toEqual({ levels: { 1: { retention: 1e-130 } } });
    expect(parseSettingBody('minDeltaTime', -0)).toEqual({ minDeltaTime: -0 });
    expect(parseSettingBody('minDeltaValue', 0)).toEqual({ minDeltaValue: 0 });
  });
});

// Regression tests: `{"minDeltaValue": 1, "pad": …}` was taken (the rest ignored), and the message
// about an unknown field repeated the field's name whole (a 5 MB name gave a 5 MB reply).
describe('unknown fields', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['minDeltaValue wrapped with another field', () => parseSettingBody('minDeltaValue', { minDeltaValue: 1, pad: 'x' }), /"pad"/],
    ['minDeltaTime wrapped with another field', () => parseSettingBody('minDeltaTime', { minDeltaTime: 1, pad: 1 }), /"pad"/],
    ['root wrapped with another field', () => parseRootBody({ root: { minDeltaTime: 1 }, pad: 1 }), /"pad"/],
    ['a level with another field', () => parseSettingBody('level', { interval: 1, pad: 1 }, 1), /"pad"/],
  ])('refuses %s, naming it', (_what, parse, message) => {
    expect(badBody(parse).message).toMatch(message);
  });

  it('takes the fields of a GET reply entry beside the setting (PUT of what GET answers)', () => {
    const entry = { id: 7, local: '2019-01-12 02:27:46.045 Europe/Kirov', utc: '2019-01-11 23:27:46.045 UTC', deviceId: 'D1', deviceName: 'D1', blockName: 'device', blockIndex: '0', datapointName: 'x', deviceState: 'provisioned', deviceHealth: 'normal' };
    expect(parseSettingBody('minDeltaValue', { ...entry, minDeltaValue: 'ANY' })).toEqual({ minDeltaValue: 'any' });
    expect(parseSettingBody('minDeltaTime', { ...entry, minDeltaTime: 5 })).toEqual({ minDeltaTime: 5 });
    expect(parseRootBody({ ...entry, root: { minDeltaTime: 5 } })).toEqual({ minDeltaTime: 5 });
  });

  it('quotes a huge field name or value in a few hundred characters at most', () => {
    const huge = 'k'.repeat(5_000_000);
    for (const parse of [
      () => parseSettingBody('level', { [huge]: 1 }, 1),
      () => parseSettingBody('minDeltaValue', { minDeltaValue: 1, [huge]: 1 }),
      () => parseSettingBody('minDeltaTime', { [huge]: 1, minDeltaTime: 1 }),
      () => parseRootBody({ [huge]: 1 }),
      () => parseRootBody({ root: { [huge]: 1 } }),
      () => parseRootBody({ root: {}, [huge]: 1 }),
      () => parseSettingBody('minDeltaValue', huge),
      () => parseSettingBody('level', { retention: huge }, 1),
    ]) {
      expect(badBody(parse).message.length).toBeLessThan(400);
    }
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`field${i}`, i]));
    expect(badBody(() => parseRootBody(many)).message.length).toBeLessThan(400);
    expect(badBody(() => parseSettingBody('level', { interval: 1, ...many }, 1)).message.length).toBeLessThan(400);
  });
});

describe('parseJsonBody: size', () => {
  // Regression test: a 9 MB body was read whole; these configuration documents are a few hundred bytes.
  it(`refuses a body over ${MAX_BODY_BYTES} bytes with 413 BodyTooLarge, plain or base64`, () => {
    const big = JSON.stringify({ minDeltaValue: 1, pad: 'x'.repeat(MAX_BODY_BYTES) });
    for (const [body, base64] of [[big, false], [Buffer.from(big).toString('base64'), true]] as const) {
      let error: unknown;
      try {
        parseJsonBody(body, base64);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect(error).toMatchObject({ statusCode: 413, code: 'BodyTooLarge' });
    }
    const justFits = JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES - 20) });
    expect(Buffer.byteLength(justFits)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(parseJsonBody(justFits)).toEqual({ pad: expect.any(String) });
  });
});
