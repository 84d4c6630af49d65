import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LocalCloudOptions } from '../../infra/local-cloud/local-cloud';
import { LocalIssuer, type TokenOptions } from '../../infra/local-cloud/services/apigateway/local-issuer';
import { startTestCloud } from './local-cloud-helpers';

/**
 * What the public-contract suites in this folder run against. With `PIPELINE_OUTPUTS=<outputs file>` it is
 * a deployment described by the file `cdk deploy --outputs-file` (or `cdklocal`) writes, or the local cloud's
 * own `.local/outputs.json`; without it each suite starts an embedded local cloud, as before. The suites use
 * only what a client of any deployment has: the stack outputs, the HTTP API with tokens, the AWS SDK.
 *
 * Tokens: from the embedded cloud's issuer; for an outputs file, from `PIPELINE_TOKEN_COMMAND` when set, else
 * from the local issuer's key beside the file (`.local/issuer.json` of a running `npm start`).
 */
export interface Deployment {
  /** The stack outputs by `CfnOutput` id. */
  outputs: Record<string, string>;
  /** The HTTP API's base URL, without a trailing slash. */
  apiUrl: string;
  region: string;
  /**
   * Settings for AWS SDK clients: the endpoint and any-value credentials of a local cloud; for other
   * deployments only the region, so that the SDK's own settings apply (`AWS_ENDPOINT_URL`, the credential chain).
   */
  aws: { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } };
  /** A bearer token the deployment's API accepts for a user of `oemId` (an OEM admin with `admin`). */
  token(options: TokenOptions): Promise<string>;
  /** Stops the embedded cloud; nothing for an outputs file. */
  stop(): Promise<void>;
}

/** Runs a suite against the outputs file in `PIPELINE_OUTPUTS`, or an embedded cloud started with `options`. */
export async function openDeployment(options: Partial<LocalCloudOptions> = {}): Promise<Deployment> {
  const outputsFile = process.env.PIPELINE_OUTPUTS;
  if (!outputsFile) {
    const cloud = await startTestCloud(options);
    return {
      outputs: cloud.outputs,
      apiUrl: cloud.apiUrl,
      region: cloud.region,
      aws: { region: cloud.region, endpoint: cloud.edgeUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
      token: (request) => cloud.issuer.sign(request),
      stop: () => cloud.stop(),
    };
  }
  const outputs = readOutputs(outputsFile);
  const region = outputs.Region ?? process.env.AWS_REGION ?? 'us-east-1';
  const apiUrl = outputs.ApiUrl?.replace(/\/+$/, '');
  if (!apiUrl) throw new Error(`${outputsFile} has no ApiUrl output`);
  // The local cloud writes its edge as AwsEndpoint; any credentials work there.
  const aws = outputs.AwsEndpoint ? { region, endpoint: outputs.AwsEndpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : { region };
  return { outputs, apiUrl, region, aws, token: tokenSource(outputsFile), stop: async () => undefined };
}

/**
 * Whether tokens no identity provider would issue on request (expired, claims chosen by the test) can be
 * made: only with a local issuer's key. Known when a suite is defined, so such tests are skipped, not failed.
 */
export function canForgeTokens(): boolean {
  const outputsFile = process.env.PIPELINE_OUTPUTS;
  return !outputsFile || (!process.env.PIPELINE_TOKEN_COMMAND && existsSync(issuerBeside(outputsFile)));
}

/** `it` where tokens can be forged (see canForgeTokens), else `it.skip`. */
export const itWithForgedTokens: jest.It = canForgeTokens() ? it : it.skip;

/** Where a running local cloud keeps its issuer's key: beside its outputs.json. */
function issuerBeside(outputsFile: string): string {
  return path.join(path.dirname(path.resolve(outputsFile)), 'issuer.json');
}

/**
 * The outputs of one stack: the flat keys the local cloud writes, or the stack-keyed shape of
 * `cdk deploy --outputs-file` (`PIPELINE_STACK` picks a stack when the file holds several).
 */
function readOutputs(file: string): Record<string, string> {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const strings = (value: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
  if (typeof parsed.ApiUrl === 'string') return strings(parsed);
  const stacks = Object.entries(parsed).filter((e): e is [string, Record<string, unknown>] => typeof e[1] === 'object' && e[1] !== null && 'ApiUrl' in e[1]);
  const wanted = process.env.PIPELINE_STACK;
  const chosen = wanted ? stacks.find(([name]) => name === wanted) : stacks.length === 1 ? stacks[0] : undefined;
  if (!chosen) {
    throw new Error(`${file}: ${wanted ? `no stack ${wanted}` : `${stacks.length} stacks with an ApiUrl output (${stacks.map(([n]) => n).join(', ')}); set PIPELINE_STACK`}`);
  }
  return strings(chosen[1]);
}

/**
 * Tokens for a deployment described by an outputs file. `PIPELINE_TOKEN_COMMAND` is run by the shell with
 * `PIPELINE_TOKEN_OEM`, `PIPELINE_TOKEN_ADMIN` (`true`/`false`) and, when the test names one,
 * `PIPELINE_TOKEN_SUBJECT` in its environment, and prints one bearer token (an ID token of a user with that
 * `custom:oem_id`, in `oem-admin` when asked); its tokens are reused within a suite. Without it, the local
 * issuer's key beside the outputs file signs them.
 */
function tokenSource(outputsFile: string): Deployment['token'] {
  const command = process.env.PIPELINE_TOKEN_COMMAND;
  if (!command) {
    const file = issuerBeside(outputsFile);
    let issuer: Promise<LocalIssuer> | undefined;
    return async (request) => {
      if (!existsSync(file)) throw new Error(`No token source: set PIPELINE_TOKEN_COMMAND (no local issuer at ${file})`);
      issuer ??= LocalIssuer.load(file);
      return (await issuer).sign(request);
    };
  }
  const minted = new Map<string, Promise<string>>();
  return (request) => {
    const { oemId, admin = false, subject, ...rest } = request;
    if (Object.values(rest).some((v) => v !== undefined)) {
      return Promise.reject(new Error(`PIPELINE_TOKEN_COMMAND makes tokens by OEM, admin role and subject only, not ${Object.keys(rest).join(', ')}`));
    }
    const key = JSON.stringify([oemId, admin, subject ?? null]);
    let token = minted.get(key);
    if (!token) {
      token = runTokenCommand(command, { PIPELINE_TOKEN_OEM: oemId, PIPELINE_TOKEN_ADMIN: String(admin), ...(subject ? { PIPELINE_TOKEN_SUBJECT: subject } : {}) });
      minted.set(key, token);
    }
    return token;
  };
}

function runTokenCommand(command: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', ['-c', command], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const token = stdout.trim();
      if (error || !token) reject(new Error(`PIPELINE_TOKEN_COMMAND failed for ${JSON.stringify(env)}: ${error?.message ?? 'no token printed'} ${stderr.trim()}`));
      else resolve(token);
    });
  });
}
