import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** How cdk-nag spells a resource in an IAM5 finding (`<Logical.Arn>/*`), for a resource of this app. */
export function nagResourceFinding(scope: IConstruct, resource: string): string | undefined {
  const resolved: unknown = Stack.of(scope).resolve(resource);
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (!join) return undefined;
  const parts = join[1].map((part) => {
    if (typeof part === 'string') return part;
    const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
    const ref = (part as { Ref?: string }).Ref;
    return ref ? `<${ref}>` : undefined;
  });
  return parts.every((p): p is string => p !== undefined) ? parts.join(join[0]) : undefined;
}

/** Acknowledges the IAM5 finding of one wildcard resource on `construct`, with the reason it is needed. */
export function acknowledgeWildcardResource(construct: IConstruct, resource: string, reason: string): void {
  const finding = nagResourceFinding(construct, resource);
  if (finding) Validations.of(construct).acknowledge({ id: `AwsSolutions-IAM5[Resource::${finding}]`, reason });
}
