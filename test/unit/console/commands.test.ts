import { clientSettings, mask, type ExportCredentials } from '../../../console/src/lib/commands';

const CREDENTIALS: ExportCredentials = {
  accessKeyId: 'AKIAEXAMPLE1234',
  secretAccessKey: 'wJalr/XUtnFEMI+K7MDENG',
  bucket: 'devicepipeline-exportbucket-abc',
  prefix: '1234abcd/',
  region: 'eu-west-1',
  s3Url: 's3://devicepipeline-exportbucket-abc/1234abcd/',
  createdAt: '2026-12-02T03:00:00.000Z',
};

describe('client settings for export credentials', () => {
  it('gives aws CLI and s3cmd commands on the OEM prefix with its trailing slash, and the Cyberduck fields', () => {
    const s = clientSettings(CREDENTIALS, CREDENTIALS.secretAccessKey);
    expect(s.awsCli.split('\n')).toEqual([
      'export AWS_ACCESS_KEY_ID=AKIAEXAMPLE1234 AWS_SECRET_ACCESS_KEY=wJalr/XUtnFEMI+K7MDENG AWS_DEFAULT_REGION=eu-west-1',
      'aws s3 ls s3://devicepipeline-exportbucket-abc/1234abcd/',
      'aws s3 sync s3://devicepipeline-exportbucket-abc/1234abcd/ ./export/',
    ]);
    expect(s.s3cmd.split('\n')[0]).toBe(
      's3cmd --access_key=AKIAEXAMPLE1234 --secret_key=wJalr/XUtnFEMI+K7MDENG --region=eu-west-1 ls s3://devicepipeline-exportbucket-abc/1234abcd/',
    );
    expect(Object.fromEntries(s.cyberduck.map((f) => [f.label, f.value]))).toEqual({
      Connection: 'Amazon S3',
      Server: 's3.eu-west-1.amazonaws.com',
      'Access Key ID': 'AKIAEXAMPLE1234',
      'Secret Access Key': 'wJalr/XUtnFEMI+K7MDENG',
      'Path (More Options)': 'devicepipeline-exportbucket-abc/1234abcd',
    });
  });

  it('points the clients at another S3 endpoint when there is one (the local cloud)', () => {
    const s = clientSettings(CREDENTIALS, 'x', 'http://127.0.0.1:4566');
    expect(s.awsCli).toContain('aws s3 ls s3://devicepipeline-exportbucket-abc/1234abcd/ --endpoint-url http://127.0.0.1:4566');
    expect(s.s3cmd).toContain('--host=127.0.0.1:4566 --host-bucket=127.0.0.1:4566 --no-ssl ls');
    expect(s.cyberduck.find((f) => f.label === 'Server')?.value).toBe('127.0.0.1:4566');
  });

  it('quotes what the shell would read otherwise, and masks a secret without showing any of it', () => {
    expect(clientSettings(CREDENTIALS, "it's secret").awsCli).toContain(`AWS_SECRET_ACCESS_KEY='it'\\''s secret'`);
    expect(mask(CREDENTIALS.secretAccessKey)).toBe('•'.repeat(CREDENTIALS.secretAccessKey.length));
    expect(clientSettings(CREDENTIALS, mask('abc')).awsCli).toContain('AWS_SECRET_ACCESS_KEY=••• AWS_DEFAULT_REGION');
    expect(mask('a'.repeat(100))).toHaveLength(40);
  });
});
