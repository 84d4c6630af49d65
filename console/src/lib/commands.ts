/** Ready-to-paste client settings for export credentials. Pure: no DOM, unit-tested. */
import type { ExportCredentials } from '../../../lambdas/domain/credentials/ports';

export type { ExportCredentials };

export interface ClientSettings {
  awsCli: string;
  s3cmd: string;
  cyberduck: { label: string; value: string }[];
}

/**
 * POSIX shell single-quoting (keys never hold a quote, but a command must stay one command whatever they hold);
 * the dots of a masked secret stay as they are.
 */
const sh = (s: string) => (/^[A-Za-z0-9_./:+=@•-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The aws CLI, s3cmd and Cyberduck settings for `c`, with `secret` in place of the secret (the page shows a mask
 * until revealed and copies the real one). `endpoint`: an S3 endpoint other than AWS's (the local cloud's).
 */
export function clientSettings(c: ExportCredentials, secret: string, endpoint?: string): ClientSettings {
  const url = `s3://${c.bucket}/${c.prefix}`;
  const endpointOption = endpoint ? ` --endpoint-url ${sh(endpoint)}` : '';
  const awsCli = [
    `export AWS_ACCESS_KEY_ID=${sh(c.accessKeyId)} AWS_SECRET_ACCESS_KEY=${sh(secret)} AWS_DEFAULT_REGION=${sh(c.region)}`,
    `aws s3 ls ${sh(url)}${endpointOption}`,
    `aws s3 sync ${sh(url)} ./export/${endpointOption}`,
  ].join('\n');
  let hostOptions = '';
  if (endpoint) {
    const u = new URL(endpoint);
    hostOptions = ` --host=${sh(u.host)} --host-bucket=${sh(u.host)}${u.protocol === 'http:' ? ' --no-ssl' : ''}`;
  }
  const s3cmdBase = `s3cmd --access_key=${sh(c.accessKeyId)} --secret_key=${sh(secret)} --region=${sh(c.region)}${hostOptions}`;
  const s3cmd = [`${s3cmdBase} ls ${sh(url)}`, `${s3cmdBase} sync ${sh(url)} ./export/`].join('\n');
  const server = endpoint ? new URL(endpoint).host : `s3.${c.region}.amazonaws.com`;
  const cyberduck = [
    { label: 'Connection', value: 'Amazon S3' },
    { label: 'Server', value: server },
    { label: 'Access Key ID', value: c.accessKeyId },
    { label: 'Secret Access Key', value: secret },
    { label: 'Path (More Options)', value: `${c.bucket}/${c.prefix.replace(/\/$/, '')}` },
  ];
  return { awsCli, s3cmd, cyberduck };
}

/** What a masked secret shows: its length in dots, never any of its characters. */
export const mask = (secret: string) => '•'.repeat(Math.min(secret.length, 40));
