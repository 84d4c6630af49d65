import { DeployedStack } from '../../../../../infra/local-cloud/cloudformation/template';
import { distributionsFromTemplate, securityHeaders } from '../../../../../infra/local-cloud/services/cloudfront/deploy';
import { presignedUrlExpired } from '../../../../../infra/local-cloud/services/s3/auth';

const env = {
  stackName: 'S', region: 'eu-west-1', accountId: '000000000000', apiEndpoint: 'http://127.0.0.1:3000',
  consoleEndpoint: 'http://127.0.0.1:3001', authEndpoint: 'http://127.0.0.1:3002',
};

describe('DeployedStack.localizeUrls', () => {
  it('maps the distribution, Cognito domains and the execute-api wildcard to the local endpoints', () => {
    const stack = new DeployedStack({ Resources: {} }, env);
    expect(stack.localizeUrls("connect-src 'self' https://*.execute-api.eu-west-1.amazonaws.com https://acme-1.auth.eu-west-1.amazoncognito.com; x https://127.0.0.1:3001/callback"))
      .toBe("connect-src 'self' http://127.0.0.1:3000 http://127.0.0.1:3002; x http://127.0.0.1:3001/callback");
    // Other regions and hosts are left alone.
    expect(stack.localizeUrls('https://a.auth.us-east-1.amazoncognito.com https://example.com')).toBe('https://a.auth.us-east-1.amazoncognito.com https://example.com');
  });

  it('gives a distribution the console host as DomainName, so the template\'s https URL resolves to the local console', () => {
    const stack = new DeployedStack({
      Resources: { Dist: { Type: 'AWS::CloudFront::Distribution', Properties: {} } },
      Outputs: {},
    }, env);
    expect(stack.resolve({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['Dist', 'DomainName'] }, '/callback']] })).toBe('http://127.0.0.1:3001/callback');
  });
});

describe('distributionsFromTemplate', () => {
  it('reads the S3 origin, root object, error pages and the policy\'s headers', () => {
    const stack = new DeployedStack({
      Resources: {
        Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'site' } },
        Headers: { Type: 'AWS::CloudFront::ResponseHeadersPolicy', Properties: { ResponseHeadersPolicyConfig: { SecurityHeadersConfig: {
          ContentSecurityPolicy: { ContentSecurityPolicy: { 'Fn::Join': ['', ["connect-src https://*.execute-api.", { Ref: 'AWS::Region' }, '.amazonaws.com']] }, Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
        } } } },
        Dist: { Type: 'AWS::CloudFront::Distribution', Properties: { DistributionConfig: {
          Origins: [{ DomainName: { 'Fn::GetAtt': ['Bucket', 'RegionalDomainName'] }, S3OriginConfig: {} }],
          DefaultRootObject: 'index.html',
          CustomErrorResponses: [{ ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html' }],
          DefaultCacheBehavior: { ResponseHeadersPolicyId: { Ref: 'Headers' } },
        } } },
      },
    }, env);
    const [d] = distributionsFromTemplate(stack, () => undefined);
    expect(d).toMatchObject({ bucket: 'site', defaultRootObject: 'index.html', headers: { 'content-security-policy': 'connect-src http://127.0.0.1:3000', 'x-frame-options': 'DENY' } });
    expect(d!.errorResponses.get(403)).toEqual({ pagePath: '/index.html', status: 200 });
  });

  it('renders HSTS, nosniff and the referrer policy as CloudFront sends them', () => {
    expect(securityHeaders({
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Preload: true },
      ContentTypeOptions: {},
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer' },
    })).toEqual({ 'strict-transport-security': 'max-age=63072000; includeSubDomains; preload', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
  });
});

describe('presignedUrlExpired', () => {
  const request = (query: string) => ({ method: 'GET', url: `/b/k?${query}`, headers: { host: '127.0.0.1:4566' }, body: Buffer.alloc(0) });
  const signed = (amzDate: string, expires: number) =>
    `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=local%2F${amzDate.slice(0, 8)}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=${amzDate}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=${'0'.repeat(64)}`;
  const at = Date.parse('2026-12-02T10:00:00Z');

  it('is expired only after X-Amz-Date + X-Amz-Expires', () => {
    expect(presignedUrlExpired(request(signed('20261202T100000Z', 300)), at + 300_000)).toBe(false);
    expect(presignedUrlExpired(request(signed('20261202T100000Z', 300)), at + 300_001)).toBe(true);
  });

  it('does not apply to requests that are not presigned', () => {
    expect(presignedUrlExpired(request('list-type=2'), at)).toBe(false);
  });
});
