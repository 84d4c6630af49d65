import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, ListSecretVersionIdsCommand,
  PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException, RestoreSecretCommand, SecretsManagerClient, UpdateSecretCommand,
  type SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startEdge, type EdgeEndpoint } from '../../../../../infra/local-cloud/edge';
import { ServiceRegistry } from '../../../../../infra/local-cloud/registry';
import { LocalIam } from '../../../../../infra/local-cloud/services/iam/models';
import { LocalSecretsManager } from '../../../../../infra/local-cloud/services/secretsmanager/models';
import { secretsManagerHandler } from '../../../../../infra/local-cloud/services/secretsmanager/responses';
import { secretsManagerService } from '../../../../../infra/local-cloud/services/secretsmanager/service';

const ACCOUNT = '000000000000';

describe('Secrets Manager stand-in, with the AWS SDK', () => {
  let dir: string;
  let iam: LocalIam;
  let secrets: LocalSecretsManager;
  let edge: EdgeEndpoint;
  let client: SecretsManagerClient;
  let now = Date.now();

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'secrets-'));
    iam = new LocalIam(path.join(dir, 'iam.json'), ACCOUNT);
    now = Date.now();
    secrets = new LocalSecretsManager(path.join(dir, 'secretsmanager.json'), 'us-east-1', ACCOUNT, () => now);
    edge = await startEdge(0, new ServiceRegistry([secretsManagerService(secrets, iam)]), () => undefined);
    client = new SecretsManagerClient({ endpoint: edge.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });
  afterEach(async () => {
    client.destroy();
    await edge.close();
    await secrets.close();
    await iam.close();
    await rm(dir, { recursive: true, force: true });
  });

  const errorOf = (promise: Promise<unknown>) =>
    promise.then(() => 'ok', (e: SecretsManagerServiceException) => `${e.$metadata.httpStatusCode} ${e.name}: ${e.message}`);

  it('creates, reads, updates and deletes a secret', async () => {
    const created = await client.send(new CreateSecretCommand({ Name: 'Stack/oem-export/a', SecretString: '{"v":1}', KmsKeyId: 'alias/x', Tags: [{ Key: 'oem', Value: 'a' }] }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:Stack\/oem-export\/a-[A-Za-z0-9]{6}$/);
    expect(created.Name).toBe('Stack/oem-export/a');
    const first = created.VersionId!;

    for (const id of ['Stack/oem-export/a', created.ARN!, created.ARN!.slice(0, -7)]) {
      expect(await client.send(new GetSecretValueCommand({ SecretId: id }))).toMatchObject({ ARN: created.ARN, SecretString: '{"v":1}', VersionId: first, VersionStages: ['AWSCURRENT'] });
    }
    expect(await errorOf(client.send(new CreateSecretCommand({ Name: 'Stack/oem-export/a', SecretString: 'x' }))))
      .toBe('400 ResourceExistsException: The operation failed because the secret Stack/oem-export/a already exists.');

    const put = await client.send(new PutSecretValueCommand({ SecretId: 'Stack/oem-export/a', SecretString: '{"v":2}' }));
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'Stack/oem-export/a' }))).SecretString).toBe('{"v":2}');
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'Stack/oem-export/a', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('{"v":1}');
    await client.send(new UpdateSecretCommand({ SecretId: 'Stack/oem-export/a', SecretString: '{"v":3}', Description: 'd' }));
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'Stack/oem-export/a' }));
    expect(versions.Versions?.map((v) => v.VersionStages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]); // the first is gone: no label left

    const described = await client.send(new DescribeSecretCommand({ SecretId: created.ARN! }));
    expect(described).toMatchObject({ Name: 'Stack/oem-export/a', Description: 'd', KmsKeyId: 'alias/x', Tags: [{ Key: 'oem', Value: 'a' }] });
    expect(described.CreatedDate).toBeInstanceOf(Date);
    expect(Object.values(described.VersionIdsToStages ?? {})).toHaveLength(2);

    const deleted = await client.send(new DeleteSecretCommand({ SecretId: 'Stack/oem-export/a', ForceDeleteWithoutRecovery: true }));
    expect(deleted.DeletionDate).toBeInstanceOf(Date);
    const missing = await client.send(new GetSecretValueCommand({ SecretId: 'Stack/oem-export/a' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(await errorOf(Promise.reject(missing))).toBe("400 ResourceNotFoundException: Secrets Manager can't find the specified secret.");
    // The name is free again.
    await client.send(new CreateSecretCommand({ Name: 'Stack/oem-export/a', SecretString: 'again' }));
  });

  it('keeps a secret deleted with a recovery window restorable, then forgets it', async () => {
    await client.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' }));
    const deleted = await client.send(new DeleteSecretCommand({ SecretId: 's', RecoveryWindowInDays: 7 }));
    expect(deleted.DeletionDate!.getTime() - now).toBeGreaterThan(6.9 * 86_400_000);
    expect(await errorOf(client.send(new GetSecretValueCommand({ SecretId: 's' }))))
      .toBe("400 InvalidRequestException: You can't perform this operation on the secret because it was marked for deletion.");
    expect(await errorOf(client.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' })))).toMatch(/^400 InvalidRequestException: .*scheduled for deletion/);
    expect((await client.send(new ListSecretsCommand({}))).SecretList).toEqual([]);
    await client.send(new RestoreSecretCommand({ SecretId: 's' }));
    expect((await client.send(new GetSecretValueCommand({ SecretId: 's' }))).SecretString).toBe('v');
    await client.send(new DeleteSecretCommand({ SecretId: 's' }));
    now += 31 * 86_400_000;
    expect(await errorOf(client.send(new DescribeSecretCommand({ SecretId: 's' })))).toMatch(/^400 ResourceNotFoundException/);
    expect(await errorOf(client.send(new DeleteSecretCommand({ SecretId: 's', ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 7 }))))
      .toMatch(/^400 InvalidParameterException/);
  });

  it('treats a repeated client request token as the same version', async () => {
    const token = 'a'.repeat(32);
    await client.send(new CreateSecretCommand({ Name: 's', SecretString: 'v1' }));
    const once = await client.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2', ClientRequestToken: token }));
    const twice = await client.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v2', ClientRequestToken: token }));
    expect(twice.VersionId).toBe(once.VersionId);
    const conflict = await client.send(new PutSecretValueCommand({ SecretId: 's', SecretString: 'v3', ClientRequestToken: token })).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ResourceExistsException);
  });

  it('lists secrets by name prefix', async () => {
    for (const name of ['Stack/oem-export/a', 'Stack/oem-export/b', 'Other/x']) await client.send(new CreateSecretCommand({ Name: name, SecretString: 'v' }));
    const listed = await client.send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['Stack/oem-export/'] }], SortOrder: 'asc' }));
    expect(listed.SecretList?.map((s) => s.Name)).toEqual(['Stack/oem-export/a', 'Stack/oem-export/b']);
    const paged = await client.send(new ListSecretsCommand({ MaxResults: 2 }));
    expect(paged.SecretList).toHaveLength(2);
    expect((await client.send(new ListSecretsCommand({ MaxResults: 2, NextToken: paged.NextToken }))).SecretList).toHaveLength(1);
  });

  it('keeps secrets across restarts', async () => {
    const created = await client.send(new CreateSecretCommand({ Name: 's', SecretString: 'v' }));
    await secrets.close();
    const again = new LocalSecretsManager(path.join(dir, 'secretsmanager.json'), 'us-east-1', ACCOUNT);
    const response = await secretsManagerHandler(again)({
      method: 'POST', url: '/', headers: { 'x-amz-target': 'secretsmanager.GetSecretValue', 'content-type': 'application/x-amz-json-1.1' },
      body: Buffer.from(JSON.stringify({ SecretId: created.ARN })),
    });
    expect(JSON.parse(String(response.body))).toMatchObject({ SecretString: 'v', Name: 's' });
  });

  it('holds a key issued by the local IAM to its policies', async () => {
    await client.send(new CreateSecretCommand({ Name: 'mine', SecretString: 'm' }));
    await client.send(new CreateSecretCommand({ Name: 'theirs', SecretString: 't' }));
    iam.createUser('u');
    iam.putUserPolicy('u', 'p', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: 'arn:aws:secretsmanager:*:*:secret:mine-*' }] }));
    const key = iam.createAccessKey('u');
    const asUser = new SecretsManagerClient({ endpoint: edge.url, region: 'us-east-1', credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey } });
    try {
      expect((await asUser.send(new GetSecretValueCommand({ SecretId: 'mine' }))).SecretString).toBe('m');
      expect(await errorOf(asUser.send(new GetSecretValueCommand({ SecretId: 'theirs' })))).toMatch(/^400 AccessDeniedException: User: arn:aws:iam::000000000000:user\/u is not authorized to perform: secretsmanager:GetSecretValue/);
      iam.deleteAccessKey('u', key.accessKeyId);
      expect(await errorOf(asUser.send(new GetSecretValueCommand({ SecretId: 'mine' })))).toMatch(/^400 UnrecognizedClientException/);
    } finally {
      asUser.destroy();
    }
  });
});
