import fc from 'fast-check';
import { MAX_PATTERN_LENGTH, RegexSyntaxError, SafeRegex } from '../../../../../lambdas/domain/iap/address-regex';

const test = (pattern: string, subject: string) => SafeRegex.compile(pattern).test(subject);

function syntaxError(pattern: string): RegexSyntaxError {
  try {
    SafeRegex.compile(pattern);
  } catch (error) {
    if (error instanceof RegexSyntaxError) return error;
    throw error;
  }
  throw new Error(`${pattern} compiled`);
}

/** Runs `re` on `subject`, checking the work (program steps visited) stays within the linear bound. */
function linear(re: SafeRegex, subject: string): boolean {
  const meter = { steps: 0 };
  const result = re.test(subject, meter);
  expect(meter.steps).toBeGreaterThan(0);
  expect(meter.steps).toBeLessThanOrEqual(re.size * ([...subject].length + 1));
  return result;
}

describe('SafeRegex: the everyday subset, case-insensitive, unanchored like RegExp.test', () => {
  it.each([
    ['^(nvoEnergy)|(nvoVoltage)|(nvoPwrFactor)', 'nvoEnergy', true],
    ['^(nvoEnergy)|(nvoVoltage)|(nvoPwrFactor)', 'NVOVOLTAGE', true],
    ['^(nvoEnergy)|(nvoVoltage)|(nvoPwrFactor)', 'my_nvoPwrFactor', true], // only the first branch is anchored
    ['^(nvoEnergy)|(nvoVoltage)|(nvoPwrFactor)', 'my_nvoEnergy', false],
    ['^nvo', 'nvoX', true],
    ['^nvo', 'xnvo', false],
    ['Energy$', 'nvoEnergy', true],
    ['Energy$', 'nvoEnergyX', false],
    ['nvo.*', 'NVO', true],
    ['[a-z]+_\\d', 'log_1', true],
    ['[a-z]+_\\d', 'log_x', false],
    ['log_level_[12]', 'log_level_2', true],
    ['log_level_[12]', 'log_level_3', false],
    ['^a{2,3}$', 'aaa', true],
    ['^a{2,3}$', 'aaaa', false],
    ['^a{2,}$', 'aaaaa', true],
    ['^(?:ab)+?$', 'abab', true],
    ['\\bval\\b', 'a val b', true],
    ['\\bval\\b', 'interval', false],
    ['\\Bval', 'interval', true],
    ['[^a-c]', 'ABC', false],
    ['[^a-c]', 'ABCd', true],
    ['\\x41\\u0062', 'ab', true],
    ['a\\.b', 'a.b', true],
    ['a\\.b', 'axb', false],
    ['[\\d\\s]', 'x y', true],
    ['\\W', 'abc_1', false],
    ['^$', '', true],
    ['', 'anything', true],
    ['é', 'É', true],
    ['^.$', '😀', true], // code points, not UTF-16 halves
    ['a{', 'a{', true], // a `{` that starts no quantifier is a literal
    ['[]', 'a', false],
    ['[^]', 'a', true],
    ['(^)*a', 'a', true],
  ])('%s on %j is %s', (pattern, subject, expected) => {
    expect(test(pattern, subject)).toBe(expected);
  });

  it.each([
    ['(a)\\1', 'backreferences are not supported', 3],
    ['(?<n>a)\\k<n>', 'only plain ( ) and (?: ) groups are supported (no lookarounds or named groups)', 0],
    ['x(?=a)', 'only plain ( ) and (?: ) groups are supported (no lookarounds or named groups)', 1],
    ['x(?<=a)', 'only plain ( ) and (?: ) groups are supported (no lookarounds or named groups)', 1],
    ['\\p{L}', 'Unicode property escapes are not supported', 0],
    ['\\q', 'unknown escape \\q', 0],
    ['\\012', 'octal escapes are not supported', 0],
    ['a**', 'nothing to repeat', 2],
    ['*a', 'nothing to repeat', 0],
    ['^*', 'nothing to repeat', 0],
    ['a|+', 'nothing to repeat', 2],
    ['[z-a]', 'range out of order in character class', 1],
    ['[\\d-z]', 'invalid range in character class', 1],
    ['x(a', 'unterminated group', 1],
    ['a)', 'unmatched ")"', 1],
    ['[ab', 'unterminated character class', 0],
    ['ab\\', '\\ at end of pattern', 2],
    ['\\x4', '\\x needs 2 hex digits', 0],
    ['a{101}', 'repetition count above 100', 1],
    ['a{3,2}', 'numbers out of order in {} quantifier', 1],
    ['x(a{100}){10}', 'pattern too complex (more than 500 steps once repetitions are expanded)', 1],
    ['('.repeat(33) + ')'.repeat(33), 'groups nested deeper than 32', 32],
    ['a'.repeat(MAX_PATTERN_LENGTH + 1), `pattern longer than ${MAX_PATTERN_LENGTH} characters`, MAX_PATTERN_LENGTH],
  ])('refuses %j: %s at position %d', (pattern, problem, position) => {
    expect(syntaxError(pattern)).toMatchObject({ problem, position });
  });
});

describe('SafeRegex: linear time on hostile input', () => {
  // Each of these takes exponential (or high-polynomial) time with a backtracking engine on this subject.
  const hostile = 'a'.repeat(50_000) + '!';
  it.each([
    ['(a+)+$', false],
    ['(a|a)*$', true], // the empty match at the end
    ['(a|a)+$', false],
    ['(.*a){20}', true],
    ['(.*a){20}!x', false],
    ['^(a|aa)+$', false],
    ['\\d*\\d*\\d*\\d*\\d*x', false],
    ['(\\w+\\s?)+$', false],
    ['(a*)*b', false],
    ['(x+x+)+y', false],
  ])('%s on 50,001 characters: %s, in linear work', (pattern, expected) => {
    // Work is counted in program steps, not timed (shared, noisy machines): a backtracking
    // engine would visit exponentially many.
    expect(linear(SafeRegex.compile(pattern), hostile)).toBe(expected);
  });

  it('the largest allowed program stays within the linear bound on 50,001 characters', () => {
    const re = SafeRegex.compile('(?:a?){100}(?:a?){100}(?:b?){40}[bc]'); // close to the 500-step cap
    expect(re.size).toBeGreaterThan(400);
    expect(linear(re, hostile)).toBe(false);
  });
});

// ---- differential test: the same answers as JavaScript's own engine on the subset ----------

const letter = fc.constantFrom('a', 'b', 'A', 'B', '_', '1', '-', ' ');
const atom: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: letter },
  { weight: 2, arbitrary: fc.constantFrom('.', '\\.', '[ab]', '[^a]', '[a-c]', '[A-Z_]', '\\d', '\\w', '\\W', '\\s', '\\S', '[\\d-]', '[]', '[^]') },
);
const quantifier = fc.constantFrom('', '', '', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?', '??');
const assertion = fc.constantFrom('^', '$', '\\b', '\\B');

const { pattern } = fc.letrec<{ pattern: string; alternative: string; piece: string; group: string }>((tie) => ({
  pattern: fc.array(tie('alternative'), { minLength: 1, maxLength: 3 }).map((a) => a.join('|')),
  alternative: fc.array(tie('piece'), { minLength: 1, maxLength: 5 }).map((p) => p.join('')),
  piece: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: fc.tuple(atom, quantifier).map(([a, q]) => a + q) },
    { weight: 1, arbitrary: assertion },
    { weight: 2, arbitrary: fc.tuple(tie('group'), quantifier).map(([g, q]) => g + q) },
  ),
  group: fc.tuple(fc.constantFrom('(', '(?:'), tie('pattern')).map(([open, inner]) => `${open}${inner})`),
}));
// Short patterns and subjects keep the backtracking reference engine fast.
const subject = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'A', 'B', '_', '1', ' ', '-', '.'), maxLength: 10 });

describe('SafeRegex agrees with RegExp(pattern, "i")', () => {
  // About half the generated cases match; a long run (100,000 patterns, ~300,000 subjects) found no difference.
  it('on generated patterns and subjects', () => {
    fc.assert(
      fc.property(pattern.filter((p) => p.length <= 64), fc.array(subject, { minLength: 1, maxLength: 5 }), (p, subjects) => {
        const ours = SafeRegex.compile(p);
        const theirs = new RegExp(p, 'i');
        for (const s of subjects) expect([p, s, ours.test(s)]).toEqual([p, s, theirs.test(s)]);
      }),
      { numRuns: 1000 },
    );
  });
});
