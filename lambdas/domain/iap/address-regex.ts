/**
 * Case-insensitive regular expressions for IAP path conditions (`=+`, `!+`), matched in linear time.
 *
 * Why not `new RegExp(pattern, 'i')`: JavaScript's engine backtracks, so a caller-supplied pattern
 * such as `(a+)+$`, `(a|a)*$` or `(.*a){20}` can take exponential (or high-polynomial:
 * `\d*\d*\d*\d*x`) time on a short hostile subject and stall the Lambda. Rejecting "dangerous"
 * patterns by static rules (star height > 1, overlapping alternatives under a quantifier) is
 * easy to get wrong in both directions: polynomial blow-ups need no nested quantifier at all, and
 * the rules also refuse harmless everyday patterns. So patterns are parsed here into a small
 * syntax tree and compiled to a Thompson NFA, which a Pike-style simulation runs over the subject
 * keeping each NFA state at most once per position. Matching costs O(subject length × program
 * size) whatever the pattern, and the program is capped at {@link MAX_PROGRAM_SIZE} steps.
 *
 * Supported (the everyday subset of JavaScript regular expressions, with their meaning):
 * literals; `.`; classes `[a-z_]`, `[^…]` with ranges and escapes; `\d \D \w \W \s \S`;
 * `\t \n \r \f \v \0 \xHH \uHHHH \cX` and escaped punctuation; anchors `^ $` and `\b \B`;
 * groups `( )` and `(?: )`; alternation `|`; quantifiers `* + ? {n} {n,} {n,m}` (a lazy `?` suffix
 * is accepted: it changes which match is found, never whether one is). The search is unanchored,
 * like `RegExp.prototype.test`. Refused with a position: backreferences, lookarounds, named
 * groups, Unicode property escapes, unknown escapes, counts above {@link MAX_REPEAT}, patterns
 * longer than {@link MAX_PATTERN_LENGTH}. Case folding uses the simple one-character lower/upper
 * case mappings (as the `i` flag does, never folding a non-ASCII character to ASCII); patterns and
 * subjects are read by code point.
 */

export const MAX_PATTERN_LENGTH = 256;
/** Largest count in `{n}`, `{n,}`, `{n,m}`. */
export const MAX_REPEAT = 100;
/** Largest compiled program: bounds the work per subject character. */
export const MAX_PROGRAM_SIZE = 500;
const MAX_NESTING = 32;

/** A pattern outside the supported subset; `position` is a 0-based index into the pattern. */
export class RegexSyntaxError extends Error {
  constructor(
    readonly problem: string,
    readonly position: number,
  ) {
    super(`${problem} at position ${position}`);
    this.name = 'RegexSyntaxError';
  }
}

// ---- syntax tree ---------------------------------------------------------------------------

/** Sorted, non-overlapping inclusive code point ranges `[lo0, hi0, lo1, hi1, …]`. */
type Ranges = number[];
interface CharSet {
  ranges: Ranges;
  negated: boolean;
}
type Assertion = 'start' | 'end' | 'wordBoundary' | 'notWordBoundary';
const ASSERTIONS: readonly Assertion[] = ['start', 'end', 'wordBoundary', 'notWordBoundary'];

type Node =
  | { t: 'set'; set: CharSet }
  | { t: 'assert'; kind: Assertion }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number; at: number };

const MAX_CODE_POINT = 0x10ffff;
const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
// The WhiteSpace and LineTerminator code points of ECMAScript, as `\s` matches them.
const SPACE: Ranges = [0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff];
const LINE_TERMINATORS: Ranges = [0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029];

function normalize(ranges: Ranges): Ranges {
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: Ranges = [];
  for (const [lo, hi] of pairs) {
    const last = out.length - 1;
    if (last > 0 && lo <= out[last]! + 1) out[last] = Math.max(out[last]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

function complement(ranges: Ranges): Ranges {
  const sorted = normalize(ranges);
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < sorted.length; i += 2) {
    if (sorted[i]! > next) out.push(next, sorted[i]! - 1);
    next = sorted[i + 1]! + 1;
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT);
  return out;
}

const single = (c: number): CharSet => ({ ranges: [c, c], negated: false });

// ---- parser --------------------------------------------------------------------------------

/** `{n}`, `{n,}`, `{n,m}` at lastIndex (sticky; linear: no nested quantifiers). */
const QUANTIFIER = /\{(\d+)(,(\d*))?\}/y;
const isHex = (c: string | undefined) => c !== undefined && /^[0-9A-Fa-f]$/.test(c);

class PatternParser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.alternation();
    // alternation() stops only at the end or at a `)` without its `(`.
    if (this.pos < this.src.length) throw new RegexSyntaxError('unmatched ")"', this.pos);
    return node;
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  /** The code point at the cursor, advancing past it. */
  private next(): number {
    const c = this.src.codePointAt(this.pos)!;
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  private alternation(): Node {
    const items = [this.concatenation()];
    while (this.peek() === '|') {
      this.pos++;
      items.push(this.concatenation());
    }
    return items.length === 1 ? items[0]! : { t: 'alt', items };
  }

  private concatenation(): Node {
    const items: Node[] = [];
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) items.push(this.repetition());
    return items.length === 1 ? items[0]! : { t: 'cat', items };
  }

  private repetition(): Node {
    const start = this.pos;
    const atom = this.atom();
    const quantifier = this.quantifier();
    if (!quantifier) return atom;
    if (atom.t === 'assert') throw new RegexSyntaxError('nothing to repeat', start);
    if (this.peek() === '?') this.pos++; // lazy: same language, so the same test() result
    const after = this.peek();
    if (after === '*' || after === '+' || after === '?' || (after === '{' && this.lookQuantifier())) {
      throw new RegexSyntaxError('nothing to repeat', this.pos);
    }
    return { t: 'rep', node: atom, min: quantifier.min, max: quantifier.max, at: start };
  }

  /** Reads `* + ? {n} {n,} {n,m}` at the cursor, if there is one. */
  private quantifier(): { min: number; max: number } | undefined {
    const c = this.peek();
    if (c === '*' || c === '+' || c === '?') {
      this.pos++;
      return c === '*' ? { min: 0, max: Infinity } : c === '+' ? { min: 1, max: Infinity } : { min: 0, max: 1 };
    }
    if (c !== '{') return undefined;
    const braces = this.lookQuantifier();
    if (!braces) return undefined; // a `{` that starts no quantifier is a literal, as in JavaScript
    const at = this.pos;
    this.pos += braces.length;
    if (braces.min > MAX_REPEAT || (braces.max > MAX_REPEAT && braces.max !== Infinity)) {
      throw new RegexSyntaxError(`repetition count above ${MAX_REPEAT}`, at);
    }
    if (braces.min > braces.max) throw new RegexSyntaxError('numbers out of order in {} quantifier', at);
    return braces;
  }

  private lookQuantifier(): { min: number; max: number; length: number } | undefined {
    QUANTIFIER.lastIndex = this.pos;
    const m = QUANTIFIER.exec(this.src);
    if (!m) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    return { min, max, length: m[0].length };
  }

  private atom(): Node {
    const start = this.pos;
    const c = this.peek();
    switch (c) {
      case '(': {
        if (++this.depth > MAX_NESTING) throw new RegexSyntaxError(`groups nested deeper than ${MAX_NESTING}`, start);
        this.pos++;
        if (this.peek() === '?') {
          if (this.src[this.pos + 1] !== ':') {
            throw new RegexSyntaxError('only plain ( ) and (?: ) groups are supported (no lookarounds or named groups)', start);
          }
          this.pos += 2;
        }
        const inner = this.alternation();
        if (this.peek() !== ')') throw new RegexSyntaxError('unterminated group', start);
        this.pos++;
        this.depth--;
        // Wrapped, so that a group holding only an assertion may still be repeated, as in JavaScript.
        return { t: 'cat', items: [inner] };
      }
      case '[':
        return { t: 'set', set: this.characterClass() };
      case '.':
        this.pos++;
        return { t: 'set', set: { ranges: LINE_TERMINATORS, negated: true } };
      case '^':
        this.pos++;
        return { t: 'assert', kind: 'start' };
      case '$':
        this.pos++;
        return { t: 'assert', kind: 'end' };
      case '\\':
        return this.escape(false);
      case '*':
      case '+':
      case '?':
        throw new RegexSyntaxError('nothing to repeat', start);
      case '{':
        if (this.lookQuantifier()) throw new RegexSyntaxError('nothing to repeat', start);
        break;
    }
    return { t: 'set', set: single(this.next()) };
  }

  /**
   * An escape at the cursor (on the backslash). In a class, `\b` is a backspace and the result is
   * always a set; outside, `\b`/`\B` are word-boundary assertions.
   */
  private escape(inClass: boolean): Node & ({ t: 'set' } | { t: 'assert' }) {
    const start = this.pos;
    this.pos++;
    const c = this.peek();
    if (c === undefined) throw new RegexSyntaxError('\\ at end of pattern', start);
    const set = (ranges: Ranges, negated = false) => {
      this.pos++;
      return { t: 'set' as const, set: { ranges, negated } };
    };
    switch (c) {
      case 'd': return set(DIGIT);
      case 'D': return set(DIGIT, true);
      case 'w': return set(WORD);
      case 'W': return set(WORD, true);
      case 's': return set(SPACE);
      case 'S': return set(SPACE, true);
      case 't': return set([9, 9]);
      case 'n': return set([10, 10]);
      case 'v': return set([11, 11]);
      case 'f': return set([12, 12]);
      case 'r': return set([13, 13]);
      case 'b':
        if (inClass) return set([8, 8]);
        this.pos++;
        return { t: 'assert', kind: 'wordBoundary' };
      case 'B':
        if (inClass) break;
        this.pos++;
        return { t: 'assert', kind: 'notWordBoundary' };
      case '0':
        if (/[0-9]/.test(this.src[this.pos + 1] ?? '')) throw new RegexSyntaxError('octal escapes are not supported', start);
        return set([0, 0]);
      case 'x':
      case 'u': {
        const digits = c === 'x' ? 2 : 4;
        const hex = this.src.slice(this.pos + 1, this.pos + 1 + digits);
        if (hex.length !== digits || ![...hex].every(isHex)) {
          throw new RegexSyntaxError(`\\${c} needs ${digits} hex digits`, start);
        }
        this.pos += digits;
        const code = parseInt(hex, 16);
        return set([code, code]);
      }
      case 'c': {
        const letter = this.src[this.pos + 1];
        if (letter === undefined || !/^[A-Za-z]$/.test(letter)) throw new RegexSyntaxError('\\c needs a letter', start);
        this.pos++;
        const code = letter.charCodeAt(0) % 32;
        return set([code, code]);
      }
      case 'k':
        throw new RegexSyntaxError('backreferences are not supported', start);
      case 'p':
      case 'P':
        throw new RegexSyntaxError('Unicode property escapes are not supported', start);
    }
    if (/[1-9]/.test(c)) throw new RegexSyntaxError('backreferences are not supported', start);
    if (/[A-Za-z0-9]/.test(c)) throw new RegexSyntaxError(`unknown escape \\${c}`, start);
    // An escaped punctuation or non-ASCII character stands for itself.
    return { t: 'set', set: single(this.next()) };
  }

  private characterClass(): CharSet {
    const start = this.pos;
    this.pos++;
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const ranges: Ranges = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) throw new RegexSyntaxError('unterminated character class', start);
      if (c === ']') {
        this.pos++;
        break;
      }
      const loAt = this.pos;
      const lo = this.classAtom();
      if (this.peek() === '-' && this.src[this.pos + 1] !== ']' && this.src[this.pos + 1] !== undefined) {
        this.pos++;
        const hi = this.classAtom();
        if (typeof lo !== 'number' || typeof hi !== 'number') throw new RegexSyntaxError('invalid range in character class', loAt);
        if (lo > hi) throw new RegexSyntaxError('range out of order in character class', loAt);
        ranges.push(lo, hi);
      } else if (typeof lo === 'number') {
        ranges.push(lo, lo);
      } else {
        ranges.push(...(lo.negated ? complement(lo.ranges) : lo.ranges));
      }
    }
    return { ranges: normalize(ranges), negated };
  }

  /** One code point, or a class escape such as `\d`, inside `[ ]`. */
  private classAtom(): number | CharSet {
    if (this.peek() !== '\\') return this.next();
    const node = this.escape(true);
    if (node.t !== 'set') throw new RegexSyntaxError('assertion in character class', this.pos);
    const { ranges, negated } = node.set;
    return !negated && ranges.length === 2 && ranges[0] === ranges[1] ? ranges[0]! : node.set;
  }
}

// ---- compiler ------------------------------------------------------------------------------

const CHAR = 0;
const SPLIT = 1;
const JMP = 2;
const ASSERT = 3;
const MATCH = 4;

interface Program {
  /** Opcode per step. */
  op: Uint8Array;
  /** CHAR: set index; SPLIT/JMP: target; ASSERT: index into ASSERTIONS. */
  a: Int32Array;
  /** SPLIT: second target. */
  b: Int32Array;
  sets: { ranges: Int32Array; negated: boolean }[];
}

class Compiler {
  readonly op: number[] = [];
  readonly a: number[] = [];
  readonly b: number[] = [];
  readonly sets: { ranges: Int32Array; negated: boolean }[] = [];
  /** Where the repetition being expanded starts, for the error when the program grows too big. */
  private at = 0;
  private repeating = 0;

  emit(op: number, a = 0, b = 0): number {
    if (this.op.length >= MAX_PROGRAM_SIZE) {
      throw new RegexSyntaxError(`pattern too complex (more than ${MAX_PROGRAM_SIZE} steps once repetitions are expanded)`, this.at);
    }
    this.op.push(op);
    this.a.push(a);
    this.b.push(b);
    return this.op.length - 1;
  }

  node(n: Node): void {
    switch (n.t) {
      case 'set':
        this.sets.push({ ranges: Int32Array.from(n.set.ranges), negated: n.set.negated });
        this.emit(CHAR, this.sets.length - 1);
        return;
      case 'assert':
        this.emit(ASSERT, ASSERTIONS.indexOf(n.kind));
        return;
      case 'cat':
        for (const item of n.items) this.node(item);
        return;
      case 'alt': {
        const jumps: number[] = [];
        for (let i = 0; i < n.items.length - 1; i++) {
          const split = this.emit(SPLIT, this.op.length + 1);
          this.node(n.items[i]!);
          jumps.push(this.emit(JMP));
          this.b[split] = this.op.length;
        }
        this.node(n.items[n.items.length - 1]!);
        for (const j of jumps) this.a[j] = this.op.length;
        return;
      }
      case 'rep': {
        const { node, min, max } = n;
        // Errors point at the outermost repetition: the one that multiplies the rest.
        const outermost = this.repeating++ === 0;
        if (outermost) this.at = n.at;
        this.repetition(node, min, max);
        this.repeating--;
        return;
      }
    }
  }

  private repetition(node: Node, min: number, max: number): void {
    // The last mandatory copy doubles as the body of an unbounded loop: x{2,} = x x+.
    const mandatory = max === Infinity && min > 0 ? min - 1 : min;
    for (let i = 0; i < mandatory; i++) this.node(node);
    if (max === Infinity) {
      if (min > 0) {
        const body = this.op.length;
        this.node(node);
        this.emit(SPLIT, body, this.op.length + 1);
      } else {
        const split = this.emit(SPLIT, this.op.length + 1);
        this.node(node);
        this.emit(JMP, split);
        this.b[split] = this.op.length;
      }
      return;
    }
    // x{n,m}: n copies, then m-n optional ones; skipping one skips the rest (same language).
    const splits: number[] = [];
    for (let i = min; i < max; i++) {
      splits.push(this.emit(SPLIT, this.op.length + 1));
      this.node(node);
    }
    for (const s of splits) this.b[s] = this.op.length;
  }

  program(): Program {
    return { op: Uint8Array.from(this.op), a: Int32Array.from(this.a), b: Int32Array.from(this.b), sets: this.sets };
  }
}

// ---- matcher -------------------------------------------------------------------------------

function codePoints(s: string): Int32Array {
  const out = new Int32Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    if (c > 0xffff) i++;
    out[n++] = c;
  }
  return out.subarray(0, n);
}

const isWordChar = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x61 && c <= 0x7a);

function inRanges(ranges: Int32Array, c: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    if (c < ranges[i]!) return false; // sorted
    if (c <= ranges[i + 1]!) return true;
  }
  return false;
}

/** The simple case mapping of `c`, or `c` (never non-ASCII to ASCII, as with the `i` flag). */
function caseVariant(c: number, upper: boolean): number {
  if (c < 0x80) {
    if (upper) return c >= 0x61 && c <= 0x7a ? c - 32 : c;
    return c >= 0x41 && c <= 0x5a ? c + 32 : c;
  }
  const s = String.fromCodePoint(c);
  const mapped = upper ? s.toUpperCase() : s.toLowerCase();
  const m = mapped.codePointAt(0)!;
  return mapped.length === s.length && m >= 0x80 ? m : c;
}

/** The per-position state of a simulation. */
interface Visit {
  /** mark[pc] === generation once step pc has been visited at this position. */
  mark: Int32Array;
  stack: Int32Array;
  generation: number;
  /** The position, and what the assertions need to know about it. */
  at: number;
  atEnd: boolean;
  prevWord: boolean;
  nextWord: boolean;
  /** Program steps visited so far: the work done, which the size of the program bounds per character. */
  steps: number;
}

/**
 * Adds the CHAR steps reachable from `seed` without consuming a character to `list` (from
 * `count`), returning the new count, or -1 when MATCH is reachable. Each step is visited at most
 * once per position (the marks), which bounds the work per character by the program size however
 * the pattern nests: the whole point of simulating the NFA instead of backtracking.
 */
function addClosure(program: Program, v: Visit, seed: number, list: Int32Array, count: number): number {
  const { op, a, b } = program;
  const { mark, stack, generation } = v;
  if (mark[seed] === generation) return count;
  mark[seed] = generation;
  let top = 0;
  stack[top++] = seed;
  while (top > 0) {
    const p = stack[--top]!;
    v.steps++;
    let t1 = -1;
    let t2 = -1;
    switch (op[p]) {
      case CHAR:
        list[count++] = p;
        break;
      case MATCH:
        return -1;
      case JMP:
        t1 = a[p]!;
        break;
      case SPLIT:
        t1 = b[p]!;
        t2 = a[p]!;
        break;
      case ASSERT: {
        // Indexes into ASSERTIONS: start, end, wordBoundary, notWordBoundary.
        const kind = a[p]!;
        const holds = kind === 0 ? v.at === 0 : kind === 1 ? v.atEnd : kind === 2 ? v.prevWord !== v.nextWord : v.prevWord === v.nextWord;
        if (holds) t1 = p + 1;
        break;
      }
    }
    if (t1 >= 0 && mark[t1] !== generation) {
      mark[t1] = generation;
      stack[top++] = t1;
    }
    if (t2 >= 0 && mark[t2] !== generation) {
      mark[t2] = generation;
      stack[top++] = t2;
    }
  }
  return count;
}

/** A compiled, case-insensitive pattern whose `test` runs in time linear in the subject. */
export class SafeRegex {
  private readonly program: Program;

  private constructor(
    readonly source: string,
    program: Program,
  ) {
    this.program = program;
  }

  /** Compiles `source`, or throws a {@link RegexSyntaxError} naming the problem and its position. */
  static compile(source: string): SafeRegex {
    if (source.length > MAX_PATTERN_LENGTH) {
      throw new RegexSyntaxError(`pattern longer than ${MAX_PATTERN_LENGTH} characters`, MAX_PATTERN_LENGTH);
    }
    const tree = new PatternParser(source).parse();
    const compiler = new Compiler();
    compiler.node(tree);
    compiler.emit(MATCH);
    return new SafeRegex(source, compiler.program());
  }

  /** Steps in the compiled program: it bounds the work per character of a subject. */
  get size(): number {
    return this.program.op.length;
  }

  /**
   * Whether the pattern matches anywhere in `subject` (like `RegExp.prototype.test`). `meter`, when
   * given, receives the number of program steps visited: at most size × (subject length + 1), as each
   * step is visited at most once per position.
   */
  test(subject: string, meter?: { steps: number }): boolean {
    const size = this.program.op.length;
    const text = codePoints(subject);
    const n = text.length;
    // Thread lists: the CHAR steps waiting for the character at the current / next position.
    const current = new Int32Array(size);
    const next = new Int32Array(size);
    const state: Visit = { mark: new Int32Array(size), stack: new Int32Array(size), generation: 1, at: 0, atEnd: n === 0, prevWord: false, nextWord: n > 0 && isWordChar(text[0]!), steps: 0 };
    const result = this.run(text, state, current, next);
    if (meter) meter.steps = state.steps;
    return result;
  }

  private run(text: Int32Array, state: Visit, current: Int32Array, next: Int32Array): boolean {
    const program = this.program;
    const { a, sets } = program;
    const n = text.length;
    let currentCount = 0;

    let nextCount = addClosure(program, state, 0, next, 0);
    if (nextCount < 0) return true;
    for (let i = 0; i < n; i++) {
      const swap = current;
      current = next;
      next = swap;
      currentCount = nextCount;
      nextCount = 0;
      const c = text[i]!;
      const lower = caseVariant(c, false);
      const upper = caseVariant(c, true);
      state.generation++;
      state.at = i + 1;
      state.atEnd = i + 1 === n;
      state.prevWord = isWordChar(c);
      state.nextWord = i + 1 < n && isWordChar(text[i + 1]!);
      for (let k = 0; k < currentCount; k++) {
        const pc = current[k]!;
        const set = sets[a[pc]!]!;
        const r = set.ranges;
        const hit = inRanges(r, c) || (lower !== c && inRanges(r, lower)) || (upper !== c && inRanges(r, upper));
        if (hit === set.negated) continue;
        nextCount = addClosure(program, state, pc + 1, next, nextCount);
        if (nextCount < 0) return true;
      }
      // Unanchored search: a match may also start at the next position.
      nextCount = addClosure(program, state, 0, next, nextCount);
      if (nextCount < 0) return true;
    }
    return false;
  }
}
