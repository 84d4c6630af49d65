import {
  CreateAccessKeyCommand, CreateUserCommand, DeleteAccessKeyCommand, DeleteUserCommand, DeleteUserPolicyCommand, GetAccessKeyLastUsedCommand,
  GetUserCommand, GetUserPolicyCommand, IAMClient, ListAccessKeysCommand, ListUserPoliciesCommand, ListUsersCommand, PutUserPolicyCommand,
  UpdateAccessKeyCommand, type IAMServiceException,
} from '@aws-sdk/client-iam';
import { SignatureV4 } from '@smithy/signature-v4';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEdge, type EdgeEndpoint } from '../../../../../infra/local-cloud/edge';
import { ServiceRegistry } from '../../../../../infra/local-cloud/registry';
import { IamError, LocalIam } from '../../../../../infra/local-cloud/services/iam/models';
import { iamService } from '../../../../../infra/local-cloud/services/iam/service';
import { stsService } from '../../../../../infra/local-cloud/services/sts/service';
import { Sha256 } from '../../signing';

const ACCOUNT = '000000000000';

/** STS GetCallerIdentity, signed as the aws CLI does (no STS client is installed). */
async function getCallerIdentity(endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<{ status: number; body: string }> {
  const url = new URL(endpoint);
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signed = await new SignatureV4({ credentials, region: 'us-east-1', service: 'sts', sha256: Sha256 }).sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/', query: {},
    headers: { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body,
  });
  const response = await fetch(endpoint, { method: 'POST', headers: signed.headers, body });
  return { status: response.status, body: await response.text() };
}

describe('LocalIam state', () => {
  let dir: string;
  let file: string;
  let iam: LocalIam;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'iam-'));
    file = path.join(dir, 'iam.json');
    iam = new LocalIam(file, ACCOUNT);
  });
  afterEach(async () => {
    await iam.close();
    await rm(dir, { recursive: true, force: true });
  });

  const codeOf = (work: () => unknown) => {
    try {
      work();
    } catch (error) {
      return `${(error as IamError).status} ${(error as IamError).code}: ${(error as IamError).message}`;
    }
    return 'ok';
  };

  it('issues keys shaped like IAM keys, at most two per user', () => {
    iam.createUser('u', '/stack/');
    const first = iam.createAccessKey('u');
    expect(first.accessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(first.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(first.status).toBe('Active');
    iam.createAccessKey('u');
    expect(codeOf(() => iam.createAccessKey('u'))).toBe('409 LimitExceeded: Cannot exceed quota for AccessKeysPerUser: 2');
    // An inactive key still counts, as on IAM; a deleted one does not.
    iam.updateAccessKey('u', first.accessKeyId, 'Inactive');
    expect(codeOf(() => iam.createAccessKey('u'))).toMatch(/LimitExceeded/);
    iam.deleteAccessKey('u', first.accessKeyId);
    expect(codeOf(() => iam.createAccessKey('u'))).toBe('ok');
    expect(iam.listAccessKeys('u')).toHaveLength(2);
  });

  it('answers IAM errors for missing, duplicate and invalid entities', () => {
    expect(codeOf(() => iam.getUser('nobody'))).toBe('404 NoSuchEntity: The user with name nobody cannot be found.');
    iam.createUser('Alice');
    expect(codeOf(() => iam.createUser('alice'))).toBe('409 EntityAlreadyExists: User with name alice already exists.');
    expect(iam.getUser('ALICE').userName).toBe('Alice');
    expect(codeOf(() => iam.createUser('bad name'))).toMatch(/^400 ValidationError/);
    expect(codeOf(() => iam.createUser('b', 'no-slash'))).toMatch(/^400 ValidationError/);
    expect(codeOf(() => iam.deleteAccessKey('Alice', 'AKIA0000000000000000'))).toBe('404 NoSuchEntity: The Access Key with id AKIA0000000000000000 cannot be found.');
    expect(codeOf(() => iam.getUserPolicy('Alice', 'p'))).toBe('404 NoSuchEntity: The user policy with name p cannot be found.');
    expect(codeOf(() => iam.putUserPolicy('Alice', 'p', '{"Statement":[]}'))).toMatch(/^400 MalformedPolicyDocument/);
    expect(codeOf(() => iam.updateAccessKey('Alice', iam.createAccessKey('Alice').accessKeyId, 'Paused'))).toMatch(/^400 ValidationError/);
  });

  it("keeps another user's key out of reach", () => {
    iam.createUser('a');
    iam.createUser('b');
    const key = iam.createAccessKey('a');
    expect(codeOf(() => iam.deleteAccessKey('b', key.accessKeyId))).toMatch(/^404 NoSuchEntity/);
    expect(iam.accessKey(key.accessKeyId)).toBeDefined();
  });

  it('refuses to delete a user that still has policies or keys', () => {
    iam.createUser('u');
    iam.putUserPolicy('u', 'p', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }));
    const key = iam.createAccessKey('u');
    expect(codeOf(() => iam.deleteUser('u'))).toBe('409 DeleteConflict: Cannot delete entity, must delete policies first.');
    iam.deleteUserPolicy('u', 'p');
    expect(codeOf(() => iam.deleteUser('u'))).toBe('409 DeleteConflict: Cannot delete entity, must delete access keys first.');
    iam.deleteAccessKey('u', key.accessKeyId);
    expect(codeOf(() => iam.deleteUser('u'))).toBe('ok');
  });

  it('limits the size of a user’s inline policies', () => {
    iam.createUser('u');
    const big = (n: number) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'x'.repeat(n)}` }] });
    iam.putUserPolicy('u', 'a', big(1500));
    expect(codeOf(() => iam.putUserPolicy('u', 'b', big(1000)))).toBe('409 LimitExceeded: Maximum policy size of 2048 bytes exceeded for user u');
    expect(codeOf(() => iam.putUserPolicy('u', 'a', big(1900)))).toBe('ok'); // replacing a policy counts its new size only
  });

  it('keeps its state across restarts', async () => {
    iam.createUser('u', '/p/', [{ Key: 'oem', Value: 'a' }]);
    iam.putUserPolicy('u', 'p', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] }));
    const key = iam.createAccessKey('u');
    await iam.persist();
    const again = new LocalIam(file, ACCOUNT);
    expect(again.getUser('u')).toMatchObject({ path: '/p/', tags: [{ Key: 'oem', Value: 'a' }], arn: `arn:aws:iam::${ACCOUNT}:user/p/u` });
    expect(again.accessKey(key.accessKeyId)?.secretAccessKey).toBe(key.secretAccessKey);
    expect(again.listUserPolicies('u')).toEqual(['p']);
    expect(JSON.parse(await readFile(file, 'utf8'))).toHaveProperty('accessKeys');
  });
});

describe('IAM and STS over the query protocol, with the AWS SDK', () => {
  let dir: string;
  let iam: LocalIam;
  let edge: EdgeEndpoint;
  let client: IAMClient;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'iam-http-'));
    iam = new LocalIam(path.join(dir, 'iam.json'), ACCOUNT);
    edge = await startEdge(0, new ServiceRegistry([iamService(iam), stsService(iam)]), () => undefined);
    client = new IAMClient({ endpoint: edge.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterAll(async () => {
    client.destroy();
    await edge.close();
    await iam.close();
    await rm(dir, { recursive: true, force: true });
  });

  const errorOf = (promise: Promise<unknown>) =>
    promise.then(() => 'ok', (e: IAMServiceException) => `${e.$metadata.httpStatusCode} ${e.name}: ${e.message}`);

  it('runs the credentials service’s calls: users, policies, keys, in IAM’s shapes', async () => {
    const { User } = await client.send(new CreateUserCommand({ UserName: 'oem-export-a', Path: '/Stack/oem-export/', Tags: [{ Key: 'oem', Value: 'a' }] }));
    expect(User).toMatchObject({ UserName: 'oem-export-a', Path: '/Stack/oem-export/', Arn: `arn:aws:iam::${ACCOUNT}:user/Stack/oem-export/oem-export-a`, Tags: [{ Key: 'oem', Value: 'a' }] });
    expect(User?.UserId).toMatch(/^AIDA[A-Z0-9]{17}$/);
    expect(User?.CreateDate).toBeInstanceOf(Date);
    expect(await errorOf(client.send(new CreateUserCommand({ UserName: 'oem-export-a' })))).toBe('409 EntityAlreadyExistsException: User with name oem-export-a already exists.');
    expect((await client.send(new GetUserCommand({ UserName: 'oem-export-a' }))).User?.UserName).toBe('oem-export-a');
    expect(await errorOf(client.send(new GetUserCommand({ UserName: 'nobody' })))).toBe('404 NoSuchEntityException: The user with name nobody cannot be found.');

    await client.send(new CreateUserCommand({ UserName: 'someone-else' }));
    const listed = await client.send(new ListUsersCommand({ PathPrefix: '/Stack/' }));
    expect(listed.Users?.map((u) => u.UserName)).toEqual(['oem-export-a']);
    expect(listed.IsTruncated).toBe(false);

    const document = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/a/*' }] });
    await client.send(new PutUserPolicyCommand({ UserName: 'oem-export-a', PolicyName: 'export-read', PolicyDocument: document }));
    const policy = await client.send(new GetUserPolicyCommand({ UserName: 'oem-export-a', PolicyName: 'export-read' }));
    expect(decodeURIComponent(policy.PolicyDocument!)).toBe(document); // IAM returns it URL-encoded
    expect((await client.send(new ListUserPoliciesCommand({ UserName: 'oem-export-a' }))).PolicyNames).toEqual(['export-read']);
    expect(await errorOf(client.send(new PutUserPolicyCommand({ UserName: 'oem-export-a', PolicyName: 'bad', PolicyDocument: '{nope' }))))
      .toBe('400 MalformedPolicyDocumentException: Syntax errors in policy.');

    const first = (await client.send(new CreateAccessKeyCommand({ UserName: 'oem-export-a' }))).AccessKey!;
    expect(first).toMatchObject({ UserName: 'oem-export-a', Status: 'Active' });
    expect(first.AccessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(first.SecretAccessKey).toHaveLength(40);
    const second = (await client.send(new CreateAccessKeyCommand({ UserName: 'oem-export-a' }))).AccessKey!;
    expect(await errorOf(client.send(new CreateAccessKeyCommand({ UserName: 'oem-export-a' })))).toBe('409 LimitExceededException: Cannot exceed quota for AccessKeysPerUser: 2');
    const keys = await client.send(new ListAccessKeysCommand({ UserName: 'oem-export-a' }));
    expect(keys.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status])).toEqual([[first.AccessKeyId, 'Active'], [second.AccessKeyId, 'Active']]);
    expect(keys.AccessKeyMetadata?.[0]).not.toHaveProperty('SecretAccessKey');

    await client.send(new UpdateAccessKeyCommand({ UserName: 'oem-export-a', AccessKeyId: first.AccessKeyId, Status: 'Inactive' }));
    expect((await client.send(new ListAccessKeysCommand({ UserName: 'oem-export-a' }))).AccessKeyMetadata?.[0]?.Status).toBe('Inactive');
    await client.send(new DeleteAccessKeyCommand({ UserName: 'oem-export-a', AccessKeyId: first.AccessKeyId }));
    expect(await errorOf(client.send(new DeleteAccessKeyCommand({ UserName: 'oem-export-a', AccessKeyId: first.AccessKeyId }))))
      .toBe(`404 NoSuchEntityException: The Access Key with id ${first.AccessKeyId} cannot be found.`);
    const lastUsed = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: second.AccessKeyId! }));
    expect(lastUsed).toMatchObject({ UserName: 'oem-export-a', AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });

    await client.send(new DeleteUserPolicyCommand({ UserName: 'oem-export-a', PolicyName: 'export-read' }));
    expect(await errorOf(client.send(new DeleteUserCommand({ UserName: 'oem-export-a' })))).toBe('409 DeleteConflictException: Cannot delete entity, must delete access keys first.');
  });

  it('answers with an issued key: GetCallerIdentity, and policies enforced on IAM itself', async () => {
    await client.send(new CreateUserCommand({ UserName: 'reader' }));
    const key = (await client.send(new CreateAccessKeyCommand({ UserName: 'reader' }))).AccessKey!;
    const credentials = { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
    const asReader = new IAMClient({ endpoint: edge.url, region: 'us-east-1', credentials });
    try {
      const identity = await getCallerIdentity(edge.url, credentials);
      expect(identity.status).toBe(200);
      expect(identity.body).toContain(`<Arn>arn:aws:iam::${ACCOUNT}:user/reader</Arn>`);
      expect(identity.body).toContain(`<Account>${ACCOUNT}</Account>`);
      expect(await errorOf(asReader.send(new ListUsersCommand({}))))
        .toBe(`403 AccessDenied: User: arn:aws:iam::${ACCOUNT}:user/reader is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::${ACCOUNT}:user/* because no identity-based policy allows the iam:ListUsers action`);
      await client.send(new PutUserPolicyCommand({
        UserName: 'reader', PolicyName: 'self',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*AccessKey*', Resource: 'arn:aws:iam::*:user/${aws:username}' }] }),
      }));
      // IAM's default user for key operations is the caller.
      expect((await asReader.send(new ListAccessKeysCommand({}))).AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual([key.AccessKeyId]);
      const lastUsed = await client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: key.AccessKeyId! }));
      expect(lastUsed.AccessKeyLastUsed).toMatchObject({ ServiceName: 'iam', Region: 'us-east-1' });
      expect(lastUsed.AccessKeyLastUsed?.LastUsedDate).toBeInstanceOf(Date);

      const wrong = await getCallerIdentity(edge.url, { ...credentials, secretAccessKey: 'x'.repeat(40) });
      expect([wrong.status, /<Code>(\w+)<\/Code>/.exec(wrong.body)?.[1]]).toEqual([403, 'SignatureDoesNotMatch']);
      await client.send(new DeleteAccessKeyCommand({ UserName: 'reader', AccessKeyId: key.AccessKeyId! }));
      const deleted = await getCallerIdentity(edge.url, credentials);
      expect([deleted.status, /<Code>(\w+)<\/Code>/.exec(deleted.body)?.[1]]).toEqual([403, 'InvalidClientTokenId']);
      expect((await getCallerIdentity(edge.url, { accessKeyId: 'test', secretAccessKey: 'test' })).body).toContain(`<Arn>arn:aws:iam::${ACCOUNT}:root</Arn>`);
    } finally {
      asReader.destroy();
    }
  });

  it('answers an unsigned form POST (curl) in IAM’s XML', async () => {
    const response = await fetch(edge.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetUser&Version=2010-05-08&UserName=ghost',
    });
    expect(response.status).toBe(404);
    const body = await response.text();
    expect(body).toContain('<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">');
    expect(body).toContain('<Type>Sender</Type>');
    expect(body).toContain('<Code>NoSuchEntity</Code>');
  });
});
