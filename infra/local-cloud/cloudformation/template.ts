import { createHash } from 'node:crypto';

/** The parts of a synthesized CloudFormation template the local cloud reads. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
  DependsOn?: string | string[];
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
  Conditions?: Record<string, unknown>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Parameters?: Record<string, { Default?: unknown }>;
}

export interface DeploymentEnvironment {
  stackName: string;
  region: string;
  accountId: string;
  /** Base URL the template's HTTP APIs answer on (`Fn::GetAtt Api.ApiEndpoint`). */
  apiEndpoint: string;
  /** The local AWS endpoint; queue URLs point at it (`Ref` of a queue). Default: SQS's own endpoint. */
  edgeUrl?: string;
  /** Where the local CloudFront serves distributions (`http://127.0.0.1:<port>`); its host is their `DomainName`. */
  consoleEndpoint?: string;
  /** Where the local Cognito hosted UI answers (`http://127.0.0.1:<port>`): every user pool domain's URL. */
  authEndpoint?: string;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** Deterministic suffix, so a restart finds the resources it created before. */
function suffix(seed: string, length: number, alphabet: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[digest[i]! % alphabet.length];
  return out;
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';

interface PhysicalResource {
  ref: string;
  attributes: Record<string, string>;
}

/**
 * Names and attributes as CloudFormation would give them: an explicit name property wins,
 * otherwise `<stack>-<logicalId>-<SUFFIX>` (lower case where the service requires it).
 */
export class DeployedStack {
  private readonly physical = new Map<string, PhysicalResource>();
  private readonly conditionCache = new Map<string, boolean>();

  constructor(
    readonly template: CfnTemplate,
    readonly env: DeploymentEnvironment,
  ) {}

  resourcesOfType(type: string): Array<[logicalId: string, resource: CfnResource]> {
    return Object.entries(this.template.Resources).filter(
      ([, r]) => r.Type === type && (r.Condition === undefined || this.condition(r.Condition)),
    );
  }

  resource(logicalId: string): CfnResource {
    const found = this.template.Resources[logicalId];
    if (!found) throw new TemplateError(`No resource ${logicalId} in the template`);
    return found;
  }

  ref(logicalId: string): string {
    return this.physicalOf(logicalId).ref;
  }

  getAtt(logicalId: string, attribute: string): string {
    const value = this.physicalOf(logicalId).attributes[attribute];
    if (value === undefined) {
      throw new TemplateError(`Fn::GetAtt ${logicalId}.${attribute} is not supported by the local cloud`);
    }
    return value;
  }

  /** Resolves intrinsic functions and pseudo parameters in any template value. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) {
      return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0]!;
      if (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition') return this.intrinsic(key, arg);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.resolve(v);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  resolveString(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string' && typeof resolved !== 'number') {
      throw new TemplateError(`Expected a string, got ${JSON.stringify(resolved)}`);
    }
    return String(resolved);
  }

  /**
   * The template's HTTPS URLs of what the local cloud serves itself over plain HTTP on 127.0.0.1: a distribution
   * (`https://<DomainName>`), a Cognito domain (`https://<prefix>.auth.<region>.amazoncognito.com`) and the
   * regional API Gateway wildcard of a content security policy (`https://*.execute-api.<region>.amazonaws.com`).
   * Applied to every string a template builds with Fn::Join or Fn::Sub, and to files deployed with markers.
   */
  localizeUrls(text: string): string {
    const { consoleEndpoint, authEndpoint, apiEndpoint, region } = this.env;
    let out = text;
    if (consoleEndpoint) out = out.split(`https://${new URL(consoleEndpoint).host}`).join(consoleEndpoint);
    if (authEndpoint) out = out.replace(new RegExp(`https://[a-z0-9-]+\\.auth\\.${escapeRegExp(region)}\\.amazoncognito\\.com`, 'g'), authEndpoint);
    return out.split(`https://*.execute-api.${region}.amazonaws.com`).join(new URL(apiEndpoint).origin);
  }

  /** Logical id a `{ Ref }` or `{ Fn::GetAtt }` value points at, if it is one. */
  static referencedLogicalId(value: unknown): string | undefined {
    if (value && typeof value === 'object') {
      const v = value as Record<string, unknown>;
      if (typeof v.Ref === 'string') return v.Ref;
      const getAtt = v['Fn::GetAtt'];
      if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
      if (typeof getAtt === 'string') return getAtt.split('.')[0];
    }
    return undefined;
  }

  condition(name: string): boolean {
    const cached = this.conditionCache.get(name);
    if (cached !== undefined) return cached;
    const body = this.template.Conditions?.[name];
    if (body === undefined) throw new TemplateError(`Unknown condition ${name}`);
    const result = this.resolve(body) === true;
    this.conditionCache.set(name, result);
    return result;
  }

  private intrinsic(fn: string, arg: unknown): unknown {
    switch (fn) {
      case 'Ref':
        return this.pseudoOrRef(String(arg));
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/s);
        return this.getAtt(id!, attr!);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown];
        const list = this.resolve(parts);
        if (!Array.isArray(list)) throw new TemplateError('Fn::Join needs a list');
        return this.localizeUrls(list.map(String).join(sep));
      }
      case 'Fn::Sub':
        return this.localizeUrls(this.sub(arg));
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        const items = this.resolve(list);
        if (!Array.isArray(items)) throw new TemplateError('Fn::Select needs a list');
        return items[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [sep, source] = arg as [string, unknown];
        return this.resolveString(source).split(sep);
      }
      case 'Fn::Base64':
        return Buffer.from(this.resolveString(arg)).toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${this.env.region}${z}`);
      case 'Fn::FindInMap': {
        const [map, top, second] = (arg as unknown[]).map((a) => this.resolveString(a));
        return this.template.Mappings?.[map!]?.[top!]?.[second!];
      }
      case 'Fn::If': {
        const [cond, whenTrue, whenFalse] = arg as [string, unknown, unknown];
        return this.resolve(this.condition(cond) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [a, b] = arg as [unknown, unknown];
        return JSON.stringify(this.resolve(a)) === JSON.stringify(this.resolve(b));
      }
      case 'Fn::Not':
        return !(this.resolve((arg as unknown[])[0]) === true);
      case 'Fn::And':
        return (arg as unknown[]).every((c) => this.resolve(c) === true);
      case 'Fn::Or':
        return (arg as unknown[]).some((c) => this.resolve(c) === true);
      case 'Condition':
        return this.condition(String(arg));
      default:
        throw new TemplateError(`${fn} is not supported by the local cloud`);
    }
  }

  private sub(arg: unknown): string {
    const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (name in vars) return this.resolveString(vars[name]);
      const [id, attr] = name.split(/\.(.*)/s);
      return attr ? this.getAtt(id!, attr) : String(this.pseudoOrRef(id!));
    });
  }

  private pseudoOrRef(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return this.env.region;
      case 'AWS::AccountId':
        return this.env.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.env.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.env.region}:${this.env.accountId}:stack/${this.env.stackName}/local`;
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
    }
    const parameter = this.template.Parameters?.[name];
    if (parameter) return parameter.Default;
    return this.ref(name);
  }

  private physicalOf(logicalId: string): PhysicalResource {
    let found = this.physical.get(logicalId);
    if (!found) {
      found = this.describe(logicalId, this.resource(logicalId));
      this.physical.set(logicalId, found);
    }
    return found;
  }

  private describe(logicalId: string, resource: CfnResource): PhysicalResource {
    const { region, accountId, stackName } = this.env;
    const props = resource.Properties ?? {};
    const seed = `${stackName}/${logicalId}`;
    const generated = `${stackName}-${logicalId.slice(0, 40)}-${suffix(seed, 12, UPPER)}`;
    const named = (prop: string, fallback = generated): string =>
      props[prop] === undefined ? fallback : this.resolveString(props[prop]);
    const arn = (service: string, rest: string): string => `arn:aws:${service}:${region}:${accountId}:${rest}`;

    switch (resource.Type) {
      case 'AWS::Kinesis::Stream': {
        const name = named('Name');
        return { ref: name, attributes: { Arn: arn('kinesis', `stream/${name}`) } };
      }
      case 'AWS::S3::Bucket': {
        const name = named('BucketName', generated.toLowerCase().slice(0, 63));
        return {
          ref: name,
          attributes: {
            Arn: `arn:aws:s3:::${name}`,
            DomainName: `${name}.s3.amazonaws.com`,
            RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
            WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
          },
        };
      }
      case 'AWS::DynamoDB::Table': {
        const name = named('TableName');
        const tableArn = arn('dynamodb', `table/${name}`);
        return { ref: name, attributes: { Arn: tableArn, StreamArn: `${tableArn}/stream/local` } };
      }
      case 'AWS::Lambda::Function': {
        const name = named('FunctionName', generated.slice(0, 64));
        return { ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } };
      }
      case 'AWS::IAM::Role':
      case 'AWS::IAM::User': {
        const name = named(resource.Type === 'AWS::IAM::Role' ? 'RoleName' : 'UserName', generated.slice(0, 64));
        const kind = resource.Type === 'AWS::IAM::Role' ? 'role' : 'user';
        return { ref: name, attributes: { Arn: `arn:aws:iam::${accountId}:${kind}/${name}`, RoleId: suffix(seed, 21, UPPER) } };
      }
      case 'AWS::IAM::ManagedPolicy': {
        // Ref is the policy's ARN.
        const name = named('ManagedPolicyName', generated.slice(0, 128));
        const policyPath = props.Path === undefined ? '/' : this.resolveString(props.Path);
        return { ref: `arn:aws:iam::${accountId}:policy${policyPath}${name}`, attributes: { PolicyArn: `arn:aws:iam::${accountId}:policy${policyPath}${name}` } };
      }
      case 'AWS::Logs::LogGroup': {
        const name = named('LogGroupName', `/local/${generated}`);
        return { ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } };
      }
      case 'AWS::Cognito::UserPool': {
        const id = `${region}_${suffix(seed, 9, UPPER + 'abcdefghijklmnopqrstuvwxyz')}`;
        return {
          ref: id,
          attributes: {
            Arn: arn('cognito-idp', `userpool/${id}`),
            ProviderName: `cognito-idp.${region}.amazonaws.com/${id}`,
            ProviderURL: `https://cognito-idp.${region}.amazonaws.com/${id}`,
            UserPoolId: id,
          },
        };
      }
      case 'AWS::Cognito::UserPoolClient': {
        const id = suffix(seed, 26, LOWER);
        return { ref: id, attributes: { ClientId: id, Name: generated } };
      }
      case 'AWS::ApiGatewayV2::Api': {
        const id = suffix(seed, 10, LOWER);
        return { ref: id, attributes: { ApiEndpoint: this.env.apiEndpoint, ApiId: id } };
      }
      case 'AWS::SecretsManager::Secret': {
        const name = named('Name');
        return { ref: arn('secretsmanager', `secret:${name}-${suffix(seed, 6, LOWER)}`), attributes: { Id: name } };
      }
      case 'AWS::SQS::Queue': {
        const fifo = String(this.resolve(props.FifoQueue)) === 'true';
        // A generated FIFO queue name keeps the `.fifo` suffix SQS requires (names are 80 characters at most).
        const name = named('QueueName', fifo ? `${generated.slice(0, 75)}.fifo` : generated.slice(0, 80));
        const url = `${this.env.edgeUrl ?? `https://sqs.${region}.amazonaws.com`}/${accountId}/${name}`;
        return { ref: url, attributes: { Arn: arn('sqs', name), QueueName: name, QueueUrl: url } };
      }
      case 'AWS::Events::Rule': {
        const name = named('Name', generated.slice(0, 64));
        const busProp = props.EventBusName === undefined ? 'default' : this.resolveString(props.EventBusName);
        const bus = busProp.startsWith('arn:') ? nameFromArn(busProp) : busProp;
        // Ref is the rule's name; on a custom bus CloudFormation answers `<bus>|<name>`.
        return bus === 'default'
          ? { ref: name, attributes: { Arn: arn('events', `rule/${name}`) } }
          : { ref: `${bus}|${name}`, attributes: { Arn: arn('events', `rule/${bus}/${name}`) } };
      }
      case 'AWS::Scheduler::Schedule': {
        const name = named('Name', generated.slice(0, 64));
        const group = named('GroupName', 'default');
        return { ref: name, attributes: { Arn: arn('scheduler', `schedule/${group}/${name}`) } };
      }
      case 'AWS::CloudFront::Distribution': {
        const id = `E${suffix(seed, 13, UPPER)}`;
        const domain = this.env.consoleEndpoint ? new URL(this.env.consoleEndpoint).host : `d${suffix(seed, 13, LOWER)}.cloudfront.net`;
        return { ref: id, attributes: { DomainName: domain, Id: id } };
      }
      case 'AWS::CloudFront::OriginAccessControl':
      case 'AWS::CloudFront::ResponseHeadersPolicy': {
        const id = `${suffix(seed, 8, LOWER)}-${suffix(`${seed}/id`, 4, LOWER)}-${suffix(`${seed}/id2`, 4, LOWER)}`;
        return { ref: id, attributes: { Id: id } };
      }
      case 'AWS::Cognito::UserPoolDomain': {
        const prefix = named('Domain');
        return { ref: prefix, attributes: { CloudFrontDistribution: `${prefix}.auth.${region}.amazoncognito.com` } };
      }
      case 'AWS::CloudWatch::Alarm': {
        const name = named('AlarmName');
        return { ref: name, attributes: { Arn: arn('cloudwatch', `alarm:${name}`) } };
      }
      default: {
        // Anything else the local cloud does not run: a stable id and a plausible ARN.
        const service = resource.Type.split('::')[1]?.toLowerCase() ?? 'local';
        return { ref: generated, attributes: { Arn: arn(service, generated), Id: generated } };
      }
    }
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Marker for `Ref: AWS::NoValue`: the property is removed. */
export const NO_VALUE = Symbol('AWS::NoValue');

/** `arn:aws:s3:::bucket` → `bucket`; `arn:aws:kinesis:…:stream/name` → `name`. */
export function nameFromArn(arn: string): string {
  const afterColon = arn.slice(arn.lastIndexOf(':') + 1);
  return afterColon.includes('/') ? afterColon.slice(afterColon.indexOf('/') + 1) : afterColon;
}
