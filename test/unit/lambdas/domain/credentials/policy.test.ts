import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { exportReadPolicy } from '../../../../../lambdas/domain/credentials/policy';

const BUCKET = 'devicepipeline-export';
const ACCOUNT = '123456789012';

/** What IAM decides for a request by the OEM's export user, the policy being its only one. */
async function decide(action: string, resource: string, context: Record<string, string> = {}): Promise<string> {
  const simulation: Simulation = {
    request: {
      principal: `arn:aws:iam::${ACCOUNT}:user/DevicePipeline/oem-export/oem-export-1234abcd`,
      action,
      resource: { resource, accountId: ACCOUNT },
      contextVariables: context,
    },
    identityPolicies: [{ name: 'export-read', policy: exportReadPolicy(BUCKET, '1234abcd') }],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  } as unknown as Simulation;
  const response = await runSimulation(simulation, {});
  if (response.resultType === 'error') throw new Error(JSON.stringify(response.errors));
  return response.overallResult;
}

const bucketArn = `arn:aws:s3:::${BUCKET}`;

describe('the export user policy, evaluated by an IAM policy simulator', () => {
  it.each([
    ['its own prefix', '1234abcd/'],
    ['a type folder', '1234abcd/datapoint/'],
    ['a timestamped folder', '1234abcd/datapoint/2026-11-22-09:30:15/'],
  ])('allows listing %s', async (_, prefix) => {
    expect(await decide('s3:ListBucket', bucketArn, { 's3:prefix': prefix })).toBe('Allowed');
  });

  it.each([
    ['the bucket root', ''],
    ['another OEM', '5678ef90/'],
    ['an OEM whose id starts with its own', '1234abcdef/'],
    ['the error prefix', '_errors/'],
    ['the failure records', 'aws/lambda/'],
  ])('denies listing %s', async (_, prefix) => {
    expect(await decide('s3:ListBucket', bucketArn, { 's3:prefix': prefix })).toBe('ImplicitlyDenied');
  });

  it('denies listing without a prefix', async () => {
    expect(await decide('s3:ListBucket', bucketArn)).toBe('ImplicitlyDenied');
  });

  it('allows reading its own files', async () => {
    expect(await decide('s3:GetObject', `${bucketArn}/1234abcd/datapoint/2026-11-22-09:30:15/1234abcd_datapoint_20261122T093015Z.csv`)).toBe('Allowed');
  });

  it.each([
    ['another OEM’s file', `${bucketArn}/5678ef90/datapoint/x.csv`],
    ['a file of an OEM whose id starts with its own', `${bucketArn}/1234abcdef/datapoint/x.csv`],
    ['an error file', `${bucketArn}/_errors/2026/11/22/x.jsonl`],
    ['another bucket', `arn:aws:s3:::other-bucket/1234abcd/x.csv`],
  ])('denies reading %s', async (_, resource) => {
    expect(await decide('s3:GetObject', resource)).toBe('ImplicitlyDenied');
  });

  it.each([
    ['s3:PutObject', `${bucketArn}/1234abcd/x.csv`],
    ['s3:DeleteObject', `${bucketArn}/1234abcd/x.csv`],
    ['s3:GetObjectAcl', `${bucketArn}/1234abcd/x.csv`],
    ['s3:PutBucketPolicy', bucketArn],
    ['s3:ListAllMyBuckets', '*'],
    ['dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/anything`],
    ['iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/DevicePipeline/oem-export/oem-export-1234abcd`],
  ])('denies %s', async (action, resource) => {
    expect(await decide(action, resource)).toBe('ImplicitlyDenied');
  });

  it('has only the two statements, and no wildcard action', () => {
    const policy = exportReadPolicy(BUCKET, '1234abcd');
    expect(policy.Statement.map((s) => s.Action)).toEqual(['s3:ListBucket', 's3:GetObject']);
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
  });
});
