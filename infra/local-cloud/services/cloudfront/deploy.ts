import { DeployedStack } from '../../cloudformation/template';

/** What the local CloudFront serves of a distribution: one S3 origin, its root object, error pages and headers. */
export interface LocalDistribution {
  id: string;
  bucket: string;
  defaultRootObject: string;
  /** By error status (403, 404): the page served instead and the status it is served with. */
  errorResponses: Map<number, { pagePath: string; status: number }>;
  /** The response headers policy's security headers, as CloudFront adds them. */
  headers: Record<string, string>;
}

interface CfnSecurityHeaders {
  ContentSecurityPolicy?: { ContentSecurityPolicy: string };
  StrictTransportSecurity?: { AccessControlMaxAgeSec: number; IncludeSubdomains?: boolean; Preload?: boolean };
  ContentTypeOptions?: object;
  FrameOptions?: { FrameOption: string };
  ReferrerPolicy?: { ReferrerPolicy: string };
  XSSProtection?: { Protection: boolean; ModeBlock?: boolean };
}

/** The security headers a response headers policy adds (CSP already localized: see DeployedStack.localizeUrls). */
export function securityHeaders(config: CfnSecurityHeaders | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!config) return headers;
  if (config.ContentSecurityPolicy) headers['content-security-policy'] = config.ContentSecurityPolicy.ContentSecurityPolicy;
  const hsts = config.StrictTransportSecurity;
  if (hsts) headers['strict-transport-security'] = `max-age=${hsts.AccessControlMaxAgeSec}${hsts.IncludeSubdomains ? '; includeSubDomains' : ''}${hsts.Preload ? '; preload' : ''}`;
  if (config.ContentTypeOptions) headers['x-content-type-options'] = 'nosniff';
  if (config.FrameOptions) headers['x-frame-options'] = config.FrameOptions.FrameOption;
  if (config.ReferrerPolicy) headers['referrer-policy'] = config.ReferrerPolicy.ReferrerPolicy;
  if (config.XSSProtection) headers['x-xss-protection'] = config.XSSProtection.Protection ? `1${config.XSSProtection.ModeBlock ? '; mode=block' : ''}` : '0';
  return headers;
}

/**
 * `AWS::CloudFront::Distribution` with an S3 origin (its bucket from the origin's `RegionalDomainName` or
 * `DomainName`), `DefaultRootObject`, `CustomErrorResponses` and the default behaviour's
 * `AWS::CloudFront::ResponseHeadersPolicy`. Origin access control is implied: the local CloudFront reads the
 * bucket with the local cloud's own credentials. The local cloud serves one distribution.
 */
export function distributionsFromTemplate(stack: DeployedStack, log: (line: string) => void): LocalDistribution[] {
  const policies = new Map<string, CfnSecurityHeaders | undefined>();
  for (const [id, r] of stack.resourcesOfType('AWS::CloudFront::ResponseHeadersPolicy')) {
    const p = stack.resolve(r.Properties ?? {}) as { ResponseHeadersPolicyConfig?: { SecurityHeadersConfig?: CfnSecurityHeaders } };
    policies.set(stack.ref(id), p.ResponseHeadersPolicyConfig?.SecurityHeadersConfig);
  }
  return stack.resourcesOfType('AWS::CloudFront::Distribution').flatMap(([id, r]) => {
    const config = (stack.resolve(r.Properties ?? {}) as { DistributionConfig: {
      Origins?: Array<{ DomainName: string; S3OriginConfig?: unknown }>; DefaultRootObject?: string;
      CustomErrorResponses?: Array<{ ErrorCode: number; ResponseCode?: number; ResponsePagePath?: string }>;
      DefaultCacheBehavior?: { ResponseHeadersPolicyId?: string };
    } }).DistributionConfig;
    const origin = config.Origins?.[0];
    const bucket = origin && /^(.+?)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$/.exec(origin.DomainName)?.[1];
    if (!bucket) {
      log(`distribution ${id}: only S3 origins are served locally, skipped`);
      return [];
    }
    const errorResponses = new Map<number, { pagePath: string; status: number }>();
    for (const e of config.CustomErrorResponses ?? []) {
      if (e.ResponsePagePath) errorResponses.set(Number(e.ErrorCode), { pagePath: e.ResponsePagePath, status: Number(e.ResponseCode ?? e.ErrorCode) });
    }
    const policyId = config.DefaultCacheBehavior?.ResponseHeadersPolicyId;
    return [{
      id: stack.ref(id),
      bucket,
      defaultRootObject: config.DefaultRootObject ?? '',
      errorResponses,
      headers: securityHeaders(policyId ? policies.get(policyId) : undefined),
    }];
  });
}
