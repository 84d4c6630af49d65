import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InputDigests } from '../../../../infra/local-cloud/bundles/input-digests';
import { synthKey, type SynthKeyParts } from '../../../../infra/local-cloud/synth';

let root: string;
const FILES = ['cdk.json', 'package-lock.json', 'infra/app.ts'];
const base: SynthKeyParts = { context: { logLevel: 'INFO' }, environment: { CDK_DEFAULT_REGION: 'us-east-1', HOME: '/root' } };
/** The key as a new start computes it (file digests read afresh). */
const keyOf = (parts: SynthKeyParts = base, files = FILES) => synthKey(new InputDigests(root), parts, files);

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'synth-key-'));
  await writeFile(path.join(root, 'cdk.json'), '{ "app": "npx tsx infra/app.ts" }\n');
  await writeFile(path.join(root, 'package-lock.json'), '{ "lockfileVersion": 3 }\n');
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('synth key', () => {
  it('is the same while nothing changes', () => {
    expect(keyOf()).toBe(keyOf());
    expect(keyOf({ ...base, environment: { ...base.environment, HOME: '/elsewhere', PATH: '/bin' } })).toBe(keyOf());
  });

  it('changes with the context, the stack name and CDK_* variables', () => {
    const key = keyOf();
    expect(keyOf({ ...base, context: { logLevel: 'DEBUG' } })).not.toBe(key);
    expect(keyOf({ ...base, stackName: 'Other' })).not.toBe(key);
    expect(keyOf({ ...base, environment: { ...base.environment, CDK_DEFAULT_REGION: 'eu-west-1' } })).not.toBe(key);
    expect(keyOf({ ...base, environment: { ...base.environment, CDK_VALIDATION: 'false' } })).not.toBe(key);
  });

  it('changes with the content of a file the app is built from, the lock file, and the set of files', async () => {
    const key = keyOf();
    await writeFile(path.join(root, 'package-lock.json'), '{ "lockfileVersion": 3, "packages": {} }\n');
    const afterLock = keyOf();
    expect(afterLock).not.toBe(key);
    await writeFile(path.join(root, 'infra-app.ts'), 'not an input\n');
    expect(keyOf()).toBe(afterLock);
    await rm(path.join(root, 'cdk.json'));
    expect(keyOf()).not.toBe(afterLock);
    expect(keyOf(base, [...FILES, 'infra/stack.ts'])).not.toBe(keyOf());
  });
});
