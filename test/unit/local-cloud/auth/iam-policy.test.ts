import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import fc from 'fast-check';
import { evaluatePolicies, MalformedPolicyError, parsePolicyDocument, wildcardMatch, type PolicyDocument, type PolicyStatement } from '../../../../infra/local-cloud/auth/iam-policy';

const BUCKET = 'export-bucket';
const bucketArn = `arn:aws:s3:::${BUCKET}`;

/** The OEM export policy of DESIGN §6 for `oem-a`. */
const oemPolicy: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn, Condition: { StringLike: { 's3:prefix': ['oem-a/', 'oem-a/*'] } } },
    { Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn}/oem-a/*` },
  ],
};

const decide = (policies: PolicyDocument[], action: string, resource: string, context: Record<string, string | string[]> = {}) =>
  evaluatePolicies(policies, { action, resource, context }).decision;

describe('IAM policy evaluation', () => {
  it('lets an OEM list and read its own prefix', () => {
    expect(decide([oemPolicy], 's3:ListBucket', bucketArn, { 's3:prefix': 'oem-a/' })).toBe('Allow');
    expect(decide([oemPolicy], 's3:ListBucket', bucketArn, { 's3:prefix': 'oem-a/datapoint/2026/' })).toBe('Allow');
    expect(decide([oemPolicy], 's3:GetObject', `${bucketArn}/oem-a/datapoint/x.csv`)).toBe('Allow');
  });

  it('denies another prefix, a prefix that merely starts with its id, and the bucket root', () => {
    expect(decide([oemPolicy], 's3:ListBucket', bucketArn, { 's3:prefix': 'oem-b/' })).toBe('ImplicitDeny');
    expect(decide([oemPolicy], 's3:ListBucket', bucketArn, { 's3:prefix': 'oem-ab/' })).toBe('ImplicitDeny');
    expect(decide([oemPolicy], 's3:ListBucket', bucketArn, { 's3:prefix': '' })).toBe('ImplicitDeny');
    expect(decide([oemPolicy], 's3:ListBucket', bucketArn)).toBe('ImplicitDeny');
    expect(decide([oemPolicy], 's3:GetObject', `${bucketArn}/oem-b/x.csv`)).toBe('ImplicitDeny');
    expect(decide([oemPolicy], 's3:GetObject', `${bucketArn}/oem-ab/x.csv`)).toBe('ImplicitDeny');
    expect(decide([oemPolicy], 's3:GetObject', `arn:aws:s3:::other/oem-a/x.csv`)).toBe('ImplicitDeny');
  });

  it('denies writes and everything else by default', () => {
    for (const action of ['s3:PutObject', 's3:DeleteObject', 's3:GetObjectAcl', 's3:ListAllMyBuckets', 'iam:CreateAccessKey']) {
      expect(decide([oemPolicy], action, `${bucketArn}/oem-a/x.csv`)).toBe('ImplicitDeny');
    }
    expect(decide([], 's3:GetObject', `${bucketArn}/oem-a/x.csv`)).toBe('ImplicitDeny');
  });

  it('matches actions case-insensitively with * and ?, resources case-sensitively', () => {
    const policy: PolicyDocument = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: ['S3:get*', 's3:List?ucket'], Resource: `${bucketArn}/Data/*` } };
    expect(decide([policy], 's3:GetObject', `${bucketArn}/Data/a`)).toBe('Allow');
    expect(decide([policy], 's3:getobjectversion', `${bucketArn}/Data/a/b/c`)).toBe('Allow');
    expect(decide([policy], 's3:ListBucket', `${bucketArn}/Data/x`)).toBe('Allow');
    expect(decide([policy], 's3:ListBuckets', `${bucketArn}/Data/x`)).toBe('ImplicitDeny');
    expect(decide([policy], 's3:GetObject', `${bucketArn}/data/a`)).toBe('ImplicitDeny');
    expect(wildcardMatch('arn:aws:s3:::b/k?y', 'arn:aws:s3:::b/key', false)).toBe(true);
    expect(wildcardMatch('arn:aws:s3:::b/k?y', 'arn:aws:s3:::b/kery', false)).toBe(false);
    expect(wildcardMatch('arn:aws:s3:::b/a.b', 'arn:aws:s3:::b/aXb', false)).toBe(false);
  });

  it('lets an explicit Deny win over any Allow, in any policy and order', () => {
    const allowAll: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    const denySecret: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:*', Resource: `${bucketArn}/secret/*` }] };
    expect(decide([allowAll, denySecret], 's3:GetObject', `${bucketArn}/secret/x`)).toBe('ExplicitDeny');
    expect(decide([denySecret, allowAll], 's3:GetObject', `${bucketArn}/secret/x`)).toBe('ExplicitDeny');
    expect(decide([allowAll, denySecret], 's3:GetObject', `${bucketArn}/public/x`)).toBe('Allow');
  });

  it('supports NotAction and NotResource', () => {
    const policy: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', NotAction: 's3:Delete*', Resource: '*' },
        { Effect: 'Deny', Action: 's3:GetObject', NotResource: `${bucketArn}/public/*` },
      ],
    };
    expect(decide([policy], 's3:PutObject', `${bucketArn}/x`)).toBe('Allow');
    expect(decide([policy], 's3:DeleteObject', `${bucketArn}/x`)).toBe('ImplicitDeny');
    expect(decide([policy], 's3:GetObject', `${bucketArn}/public/x`)).toBe('Allow');
    expect(decide([policy], 's3:GetObject', `${bucketArn}/private/x`)).toBe('ExplicitDeny');
  });

  it('evaluates StringEquals, StringNotLike, IfExists, Null, Bool and set operators', () => {
    const statement = (Condition: PolicyStatement['Condition']): PolicyDocument => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: bucketArn, Condition }],
    });
    const root = statement({ StringEquals: { 's3:prefix': ['', 'home/'] } });
    expect(decide([root], 's3:ListBucket', bucketArn, { 's3:prefix': '' })).toBe('Allow');
    expect(decide([root], 's3:ListBucket', bucketArn, { 's3:prefix': 'home/x' })).toBe('ImplicitDeny');
    const notLike = statement({ StringNotLike: { 's3:prefix': 'private/*' } });
    expect(decide([notLike], 's3:ListBucket', bucketArn, { 's3:prefix': 'public/' })).toBe('Allow');
    expect(decide([notLike], 's3:ListBucket', bucketArn, { 's3:prefix': 'private/a' })).toBe('ImplicitDeny');
    expect(decide([notLike], 's3:ListBucket', bucketArn, {})).toBe('Allow'); // a negated operator matches a missing key
    const ifExists = statement({ StringLikeIfExists: { 's3:prefix': 'a/*' } });
    expect(decide([ifExists], 's3:ListBucket', bucketArn, {})).toBe('Allow');
    expect(decide([ifExists], 's3:ListBucket', bucketArn, { 's3:prefix': 'b/' })).toBe('ImplicitDeny');
    const isNull = statement({ Null: { 's3:prefix': 'true' } });
    expect(decide([isNull], 's3:ListBucket', bucketArn, {})).toBe('Allow');
    expect(decide([isNull], 's3:ListBucket', bucketArn, { 's3:prefix': '' })).toBe('ImplicitDeny');
    const secure = statement({ Bool: { 'aws:SecureTransport': 'true' } });
    expect(decide([secure], 's3:ListBucket', bucketArn, { 'aws:securetransport': 'false' })).toBe('ImplicitDeny');
    const anyTag = statement({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['a', 'b'] } });
    expect(decide([anyTag], 's3:ListBucket', bucketArn, { 'aws:TagKeys': ['c', 'b'] })).toBe('Allow');
    const allTags = statement({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['a', 'b'] } });
    expect(decide([allTags], 's3:ListBucket', bucketArn, { 'aws:TagKeys': ['c', 'b'] })).toBe('ImplicitDeny');
    expect(decide([allTags], 's3:ListBucket', bucketArn, { 'aws:TagKeys': ['a'] })).toBe('Allow');
    const numeric = statement({ NumericLessThanEquals: { 's3:max-keys': '10' }, IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } });
    expect(decide([numeric], 's3:ListBucket', bucketArn, { 's3:max-keys': '5', 'aws:SourceIp': '127.0.0.1' })).toBe('Allow');
    expect(decide([numeric], 's3:ListBucket', bucketArn, { 's3:max-keys': '50', 'aws:SourceIp': '127.0.0.1' })).toBe('ImplicitDeny');
    expect(decide([numeric], 's3:ListBucket', bucketArn, { 's3:max-keys': '5', 'aws:SourceIp': '10.0.0.1' })).toBe('ImplicitDeny');
  });

  it('substitutes policy variables in 2012-10-17 policies only', () => {
    const modern: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn}/\${aws:username}/*` }] };
    expect(decide([modern], 's3:GetObject', `${bucketArn}/alice/x`, { 'aws:username': 'alice' })).toBe('Allow');
    expect(decide([modern], 's3:GetObject', `${bucketArn}/bob/x`, { 'aws:username': 'alice' })).toBe('ImplicitDeny');
    expect(decide([modern], 's3:GetObject', `${bucketArn}/alice/x`)).toBe('ImplicitDeny');
    const legacy: PolicyDocument = { ...modern, Version: '2008-10-17' };
    expect(decide([legacy], 's3:GetObject', `${bucketArn}/\${aws:username}/x`, { 'aws:username': 'alice' })).toBe('Allow');
  });
});

describe('policy documents as PutUserPolicy checks them', () => {
  it('accepts a valid document', () => {
    expect(parsePolicyDocument(JSON.stringify(oemPolicy)).Statement).toHaveLength(2);
  });

  it.each([
    ['not JSON', '{'],
    ['no Statement', '{"Version":"2012-10-17"}'],
    ['a bad Effect', '{"Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}'],
    ['no action', '{"Statement":[{"Effect":"Allow","Resource":"*"}]}'],
    ['an action without a vendor', '{"Statement":[{"Effect":"Allow","Action":"GetObject","Resource":"*"}]}'],
    ['a resource not an ARN', '{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"bucket/*"}]}'],
    ['a principal', '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}'],
    ['an unknown condition operator', '{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringLikeish":{"s3:prefix":"a"}}}]}'],
  ])('refuses %s', (_, text) => {
    expect(() => parsePolicyDocument(text)).toThrow(MalformedPolicyError);
  });
});

/** What an independent IAM simulator decides, in this module's words. */
async function simulate(policy: PolicyDocument, action: string, resource: string, context: Record<string, string>): Promise<string> {
  const response = await runSimulation({
    request: {
      principal: 'arn:aws:iam::000000000000:user/oem-export/oem-export-a',
      action,
      resource: { resource, accountId: '000000000000' },
      contextVariables: context,
    },
    identityPolicies: [{ name: 'p', policy }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  } as unknown as Simulation, {});
  if (response.resultType === 'error') throw new Error(JSON.stringify(response.errors));
  return { Allowed: 'Allow', ExplicitlyDenied: 'ExplicitDeny', ImplicitlyDenied: 'ImplicitDeny' }[response.overallResult as string] ?? response.overallResult;
}

describe('agreement with an independent IAM policy simulator (@cloud-copilot/iam-simulate)', () => {
  const segment = fc.constantFrom('oem-a', 'oem-b', 'oem-ab', 'oem', 'data', 'x.csv', '');
  const path = fc.array(segment, { minLength: 0, maxLength: 4 }).map((parts) => parts.join('/'));
  const withDeny: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      ...(oemPolicy.Statement as PolicyStatement[]),
      { Effect: 'Deny', Action: ['s3:Get*', 's3:List*'], Resource: [`${bucketArn}/oem-a/secret*`, bucketArn], Condition: { StringLike: { 's3:prefix': 'oem-a/secret*' } } },
    ],
  };

  it('decides ListBucket by s3:prefix as it does', async () => {
    await fc.assert(fc.asyncProperty(path, fc.boolean(), async (prefix, trailing) => {
      const p = trailing && prefix ? `${prefix}/` : prefix;
      for (const policy of [oemPolicy, withDeny]) {
        expect(decide([policy], 's3:ListBucket', bucketArn, { 's3:prefix': p })).toBe(await simulate(policy, 's3:ListBucket', bucketArn, { 's3:prefix': p }));
      }
    }), { numRuns: 150 });
  });

  it('decides GetObject and PutObject by key as it does', async () => {
    await fc.assert(fc.asyncProperty(path.filter((k) => k !== ''), fc.constantFrom('s3:GetObject', 's3:PutObject'), async (key, action) => {
      const resource = `${bucketArn}/${key}`;
      for (const policy of [oemPolicy, withDeny]) {
        expect(decide([policy], action, resource)).toBe(await simulate(policy, action, resource, {}));
      }
    }), { numRuns: 150 });
  });
});
