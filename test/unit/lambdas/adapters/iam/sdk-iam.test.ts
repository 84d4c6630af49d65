import {
  CreateAccessKeyCommand, CreateUserCommand, GetUserCommand, IAMClient, PutUserPermissionsBoundaryCommand, PutUserPolicyCommand,
  type IAMServiceException,
} from '@aws-sdk/client-iam';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEdge, type EdgeEndpoint } from '../../../../../infra/local-cloud/edge';
import { ServiceRegistry } from '../../../../../infra/local-cloud/registry';
import { LocalIam } from '../../../../../infra/local-cloud/services/iam/models';
import { iamService } from '../../../../../infra/local-cloud/services/iam/service';
import { SdkIam } from '../../../../../lambdas/adapters/iam/sdk-iam';

const ACCOUNT = '000000000000';
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/Stack-ExportUserBoundary-ABC`;
const OTHER_POLICY = `arn:aws:iam::${ACCOUNT}:policy/AdminEverything`;
const USERS = `arn:aws:iam::${ACCOUNT}:user/Stack/oem-export/*`;

/** The credentials function's IAM statements, as ExportCredentials grants them (test/infra asserts the construct's). */
const FUNCTION_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['iam:GetUser', 'iam:TagUser', 'iam:ListAccessKeys', 'iam:CreateAccessKey', 'iam:DeleteAccessKey'], Resource: USERS },
    {
      Effect: 'Allow',
      Action: ['iam:CreateUser', 'iam:PutUserPermissionsBoundary', 'iam:PutUserPolicy'],
      Resource: USERS,
      Condition: { StringEquals: { 'iam:PermissionsBoundary': BOUNDARY } },
    },
  ],
});
const READ_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/a/*' }] });

describe('OEM export users and their permissions boundary (SdkIam on the local IAM)', () => {
  let dir: string;
  let iam: LocalIam;
  let edge: EdgeEndpoint;
  let admin: IAMClient;
  /** Signs with a key of a local IAM user holding the function's policy: held to it, as the role is on AWS. */
  let asFunction: IAMClient;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sdk-iam-'));
    iam = new LocalIam(path.join(dir, 'iam.json'), ACCOUNT);
    edge = await startEdge(0, new ServiceRegistry([iamService(iam)]), () => undefined);
    admin = new IAMClient({ endpoint: edge.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await admin.send(new CreateUserCommand({ UserName: 'credentials-function' }));
    await admin.send(new PutUserPolicyCommand({ UserName: 'credentials-function', PolicyName: 'function', PolicyDocument: FUNCTION_POLICY }));
    const key = (await admin.send(new CreateAccessKeyCommand({ UserName: 'credentials-function' }))).AccessKey!;
    asFunction = new IAMClient({ endpoint: edge.url, region: 'us-east-1', credentials: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! } });
  });
  afterAll(async () => {
    admin.destroy();
    asFunction.destroy();
    await edge.close();
    await iam.close();
    await rm(dir, { recursive: true, force: true });
  });

  const errorOf = (promise: Promise<unknown>) =>
    promise.then(() => 'ok', (e: IAMServiceException) => `${e.$metadata.httpStatusCode} ${e.name}`);
  const boundaryOf = async (userName: string) =>
    (await admin.send(new GetUserCommand({ UserName: userName }))).User?.PermissionsBoundary;

  it('refuses a user created without the boundary, or with another one, when the caller\'s policy demands it', async () => {
    const path = '/Stack/oem-export/';
    expect(await errorOf(asFunction.send(new CreateUserCommand({ UserName: 'oem-export-x', Path: path })))).toBe('403 AccessDenied');
    expect(await errorOf(asFunction.send(new CreateUserCommand({ UserName: 'oem-export-x', Path: path, PermissionsBoundary: OTHER_POLICY })))).toBe('403 AccessDenied');
    expect(iam.user('oem-export-x')).toBeUndefined();
    expect(await errorOf(asFunction.send(new CreateUserCommand({ UserName: 'oem-export-x', Path: path, PermissionsBoundary: BOUNDARY })))).toBe('ok');
    expect(await boundaryOf('oem-export-x')).toEqual({ PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: BOUNDARY });
    // Nor may the caller swap the boundary for another.
    expect(await errorOf(asFunction.send(new PutUserPermissionsBoundaryCommand({ UserName: 'oem-export-x', PermissionsBoundary: OTHER_POLICY })))).toBe('403 AccessDenied');
  });

  it('creates users with the boundary, under the caller\'s conditional policy', async () => {
    const sdk = new SdkIam(asFunction, BOUNDARY);
    await sdk.ensureUser('oem-export-a', '/Stack/oem-export/', { oem: 'a' });
    expect(await boundaryOf('oem-export-a')).toEqual({ PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: BOUNDARY });
    await sdk.putUserPolicy('oem-export-a', 'export-read', READ_POLICY);
    expect(iam.user('oem-export-a')?.policies['export-read']).toBe(READ_POLICY);
  });

  it('gives an existing user without a boundary the boundary on the next call; until then its policy cannot change', async () => {
    await admin.send(new CreateUserCommand({ UserName: 'oem-export-old', Path: '/Stack/oem-export/' }));
    expect(await errorOf(asFunction.send(new PutUserPolicyCommand({ UserName: 'oem-export-old', PolicyName: 'export-read', PolicyDocument: READ_POLICY }))))
      .toBe('403 AccessDenied');
    const sdk = new SdkIam(asFunction, BOUNDARY);
    await sdk.ensureUser('oem-export-old', '/Stack/oem-export/', { oem: 'old' });
    expect(await boundaryOf('oem-export-old')).toEqual({ PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: BOUNDARY });
    await sdk.putUserPolicy('oem-export-old', 'export-read', READ_POLICY);
    expect(iam.user('oem-export-old')?.policies['export-read']).toBe(READ_POLICY);
    // A user with another boundary is put back on this one.
    await admin.send(new PutUserPermissionsBoundaryCommand({ UserName: 'oem-export-old', PermissionsBoundary: OTHER_POLICY }));
    await sdk.ensureUser('oem-export-old', '/Stack/oem-export/', { oem: 'old' });
    expect((await boundaryOf('oem-export-old'))?.PermissionsBoundaryArn).toBe(BOUNDARY);
  });

  it('refuses a boundary that is not a policy ARN', async () => {
    expect(await errorOf(admin.send(new CreateUserCommand({ UserName: 'bad', PermissionsBoundary: 'arn:aws:s3:::bucket' })))).toBe('400 InvalidInputException');
  });
});
