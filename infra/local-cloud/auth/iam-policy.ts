/**
 * A small IAM policy evaluator for identity-based (user inline) policies, enough for the local cloud to
 * enforce what a user may do: Allow/Deny statements, Action/NotAction (wildcards `*` and `?`, case-insensitive),
 * Resource/NotResource (ARN wildcards, case-sensitive, policy variables like `${aws:username}`), and
 * Condition blocks (String*, Arn*, Numeric*, Date*, Bool, Null, IpAddress, `…IfExists`, `ForAnyValue:`,
 * `ForAllValues:`). An explicit Deny wins over any Allow; with no matching Allow the answer is an implicit deny.
 * Not modelled: permission boundaries limiting a user's own requests, SCPs, session policies, resource policies
 * (bucket policies). The `iam:PermissionsBoundary` condition key on IAM's own actions is (services/iam sets it).
 */

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** One authorization question: may the principal do `action` on `resource`, given these context keys? */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  /** Condition context keys (any case); a missing key is absent, a list is a multivalued key. */
  context?: Record<string, string | string[] | undefined>;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface Evaluation {
  decision: Decision;
  /** The statement that decided (the denying one, or an allowing one). */
  statement?: PolicyStatement;
}

export class MalformedPolicyError extends Error {}

const BASE_OPERATORS = new Set([
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
  'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
  'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'Null',
]);

const NEGATED = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NumericNotEquals', 'DateNotEquals', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike']);

/** Parses and checks a policy document as IAM does when it is stored; throws MalformedPolicyError. */
export function parsePolicyDocument(text: string): PolicyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new MalformedPolicyError('Syntax errors in policy.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new MalformedPolicyError('Syntax errors in policy.');
  const policy = doc as Record<string, unknown>;
  for (const key of Object.keys(policy)) {
    if (!['Version', 'Id', 'Statement'].includes(key)) throw new MalformedPolicyError(`Syntax errors in policy.`);
  }
  if (policy.Version !== undefined && policy.Version !== '2012-10-17' && policy.Version !== '2008-10-17') {
    throw new MalformedPolicyError('The policy failed legacy parsing');
  }
  if (policy.Statement === undefined) throw new MalformedPolicyError('Syntax errors in policy.');
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  if (statements.length === 0) throw new MalformedPolicyError('Syntax errors in policy.');
  for (const s of statements as Array<Record<string, unknown>>) {
    if (!s || typeof s !== 'object') throw new MalformedPolicyError('Syntax errors in policy.');
    if (s.Principal !== undefined || s.NotPrincipal !== undefined) throw new MalformedPolicyError('Policy document should not specify a principal.');
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw new MalformedPolicyError('Syntax errors in policy.');
    if ((s.Action === undefined) === (s.NotAction === undefined)) throw new MalformedPolicyError('Policy statement must contain actions.');
    if ((s.Resource === undefined) === (s.NotResource === undefined)) throw new MalformedPolicyError('Policy statement must contain resources.');
    for (const action of strings(s.Action ?? s.NotAction, 'Action')) {
      if (action !== '*' && !/^[a-zA-Z0-9-]+:[\w*?-]*$/.test(action)) {
        throw new MalformedPolicyError('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
      }
    }
    for (const resource of strings(s.Resource ?? s.NotResource, 'Resource')) {
      if (resource !== '*' && !resource.startsWith('arn:')) throw new MalformedPolicyError(`Resource ${resource} must be in ARN format or "*".`);
    }
    if (s.Condition !== undefined) {
      if (!s.Condition || typeof s.Condition !== 'object' || Array.isArray(s.Condition)) throw new MalformedPolicyError('Syntax errors in policy.');
      for (const [operator, block] of Object.entries(s.Condition as Record<string, unknown>)) {
        if (!BASE_OPERATORS.has(baseOperator(operator))) throw new MalformedPolicyError(`Invalid Condition type : ${operator}.`);
        if (!block || typeof block !== 'object' || Array.isArray(block)) throw new MalformedPolicyError('Syntax errors in policy.');
        for (const value of Object.values(block as Record<string, unknown>)) {
          const values = Array.isArray(value) ? value : [value];
          if (values.some((v) => !['string', 'number', 'boolean'].includes(typeof v))) throw new MalformedPolicyError('Syntax errors in policy.');
        }
      }
    }
  }
  return doc as PolicyDocument;
}

function strings(value: unknown, what: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((v) => typeof v !== 'string')) throw new MalformedPolicyError(`Syntax errors in policy: ${what} must be a string or a list of strings.`);
  return list as string[];
}

function baseOperator(operator: string): string {
  return operator.replace(/^(ForAnyValue|ForAllValues):/, '').replace(/IfExists$/, '');
}

/** Evaluates a principal's policies for one request: explicit Deny, else Allow, else implicit deny. */
export function evaluatePolicies(policies: readonly PolicyDocument[], request: AuthorizationRequest): Evaluation {
  const context = new Map<string, string[]>();
  for (const [key, value] of Object.entries(request.context ?? {})) {
    if (value !== undefined) context.set(key.toLowerCase(), Array.isArray(value) ? value : [value]);
  }
  let allow: PolicyStatement | undefined;
  for (const policy of policies) {
    const variables = policy.Version === '2012-10-17';
    for (const statement of Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]) {
      if (!statementApplies(statement, request, context, variables)) continue;
      if (statement.Effect === 'Deny') return { decision: 'ExplicitDeny', statement };
      allow ??= statement;
    }
  }
  return allow ? { decision: 'Allow', statement: allow } : { decision: 'ImplicitDeny' };
}

function statementApplies(s: PolicyStatement, request: AuthorizationRequest, context: Map<string, string[]>, variables: boolean): boolean {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const actionMatches = (patterns: string[]) => patterns.some((p) => wildcardMatch(p, request.action, true));
  if (s.Action !== undefined ? !actionMatches(list(s.Action)) : actionMatches(list(s.NotAction))) return false;
  const resourceMatches = (patterns: string[]) =>
    patterns.some((p) => {
      const pattern = variables ? substituteVariables(p, context) : p;
      return pattern !== undefined && wildcardMatch(pattern, request.resource, false);
    });
  if (s.Resource !== undefined ? !resourceMatches(list(s.Resource)) : resourceMatches(list(s.NotResource))) return false;
  for (const [operator, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, expected] of Object.entries(block)) {
      const values = (Array.isArray(expected) ? expected : [expected]).map(String);
      if (!conditionHolds(operator, context.get(key.toLowerCase()), values, context, variables)) return false;
    }
  }
  return true;
}

function conditionHolds(operator: string, actual: string[] | undefined, expectedRaw: string[], context: Map<string, string[]>, variables: boolean): boolean {
  const base = baseOperator(operator);
  const ifExists = operator.endsWith('IfExists');
  const set = operator.startsWith('ForAllValues:') ? 'all' : operator.startsWith('ForAnyValue:') ? 'any' : undefined;
  if (base === 'Null') {
    const isNull = actual === undefined || actual.length === 0;
    return expectedRaw.some((v) => (v.toLowerCase() === 'true') === isNull);
  }
  const present = actual !== undefined && actual.length > 0;
  if (!present) {
    if (ifExists || set === 'all') return true;
    if (set === 'any') return false;
    return NEGATED.has(base);
  }
  const expected = expectedRaw.flatMap((v) => {
    if (!variables || !/(String|Arn)/.test(base)) return [v];
    const substituted = substituteVariables(v, context);
    return substituted === undefined ? [] : [substituted];
  });
  const negated = NEGATED.has(base);
  const matchesOne = (value: string) => {
    const any = expected.some((e) => compare(base, value, e));
    return negated ? !any : any;
  };
  if (set === 'all') return actual.every(matchesOne);
  if (set === 'any') return actual.some(matchesOne);
  // A multivalued key without a set operator: any of its values.
  return negated ? actual.every(matchesOne) : actual.some(matchesOne);
}

function compare(base: string, actual: string, expected: string): boolean {
  switch (base) {
    case 'StringEquals':
    case 'StringNotEquals':
    case 'ArnEquals':
    case 'ArnNotEquals':
      return base.startsWith('Arn') ? wildcardMatch(expected, actual, false) : actual === expected;
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'StringLike':
    case 'StringNotLike':
    case 'ArnLike':
    case 'ArnNotLike':
      return wildcardMatch(expected, actual, false);
    case 'Bool':
      return actual.toLowerCase() === expected.toLowerCase();
    case 'BinaryEquals':
      return actual === expected;
    case 'IpAddress':
    case 'NotIpAddress':
      return ipInCidr(actual, expected);
    default: {
      const numeric = base.startsWith('Numeric');
      const a = numeric ? Number(actual) : parseDate(actual);
      const e = numeric ? Number(expected) : parseDate(expected);
      if (!Number.isFinite(a) || !Number.isFinite(e)) return false;
      const op = base.replace(/^(Numeric|Date)/, '');
      switch (op) {
        case 'Equals':
        case 'NotEquals':
          return a === e;
        case 'LessThan':
          return a < e;
        case 'LessThanEquals':
          return a <= e;
        case 'GreaterThan':
          return a > e;
        case 'GreaterThanEquals':
          return a >= e;
        default:
          return false;
      }
    }
  }
}

function parseDate(value: string): number {
  return /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
}

function ipInCidr(ip: string, cidr: string): boolean {
  const toInt = (v: string) => {
    const parts = v.split('.').map(Number);
    return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255)
      ? parts.reduce((acc, p) => acc * 256 + p, 0)
      : undefined;
  };
  const [network = '', bitsText] = cidr.split('/');
  const a = toInt(ip);
  const n = toInt(network);
  if (a === undefined || n === undefined) return ip.toLowerCase() === network.toLowerCase();
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(n / size);
}

/** `${aws:username}` and friends; undefined when a variable has no value (the pattern then matches nothing). */
function substituteVariables(pattern: string, context: Map<string, string[]>): string | undefined {
  let missing = false;
  const out = pattern.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
    if (name === '*' || name === '?' || name === '$') return `\u0000${name}`;
    const value = context.get(name.toLowerCase());
    if (!value || value.length !== 1) {
      missing = true;
      return '';
    }
    return value[0]!.replace(/[*?]/g, (c) => `\u0000${c}`);
  });
  return missing ? undefined : out;
}

/** IAM wildcard matching: `*` any run of characters, `?` one character; `\0x` is a literal `x`. */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  let regex = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\u0000' && i + 1 < pattern.length) {
      regex += escapeRegex(pattern[++i]!);
    } else if (c === '*') regex += '.*';
    else if (c === '?') regex += '.';
    else regex += escapeRegex(c);
  }
  return new RegExp(`^${regex}$`, ignoreCase ? 'is' : 's').test(value);
}

function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}
