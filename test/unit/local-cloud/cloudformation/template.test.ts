import { DeployedStack, nameFromArn, TemplateError, type CfnTemplate } from '../../../../infra/local-cloud/cloudformation/template';

const env = { stackName: 'Stack', region: 'eu-west-1', accountId: '000000000000', apiEndpoint: 'http://127.0.0.1:3000' };

function stackOf(resources: CfnTemplate['Resources'], extra: Partial<CfnTemplate> = {}): DeployedStack {
  return new DeployedStack({ Resources: resources, ...extra }, env);
}

describe('DeployedStack', () => {
  const stack = stackOf({
    Events: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 2 } },
    Named: { Type: 'AWS::Kinesis::Stream', Properties: { Name: 'explicit-name' } },
    Bucket: { Type: 'AWS::S3::Bucket' },
    Table: { Type: 'AWS::DynamoDB::Table' },
    Pool: { Type: 'AWS::Cognito::UserPool' },
    Api: { Type: 'AWS::ApiGatewayV2::Api' },
    Fn: { Type: 'AWS::Lambda::Function' },
  }, { Conditions: { IsEu: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } }, Mappings: { M: { a: { b: 'mapped' } } } });

  it('names resources as CloudFormation does, deterministically, honouring explicit names', () => {
    expect(stack.ref('Events')).toMatch(/^Stack-Events-[A-Z0-9]{12}$/);
    expect(stack.ref('Events')).toBe(stackOf({ Events: { Type: 'AWS::Kinesis::Stream' } }).ref('Events'));
    expect(stack.ref('Named')).toBe('explicit-name');
    expect(stack.ref('Bucket')).toMatch(/^stack-bucket-[a-z0-9]{12}$/);
    expect(stack.ref('Pool')).toMatch(/^eu-west-1_[A-Za-z0-9]{9}$/);
  });

  it('gives ARNs and the attributes the stack uses', () => {
    expect(stack.getAtt('Events', 'Arn')).toBe(`arn:aws:kinesis:eu-west-1:000000000000:stream/${stack.ref('Events')}`);
    expect(stack.getAtt('Bucket', 'Arn')).toBe(`arn:aws:s3:::${stack.ref('Bucket')}`);
    expect(stack.getAtt('Api', 'ApiEndpoint')).toBe('http://127.0.0.1:3000');
    expect(stack.getAtt('Fn', 'Arn')).toBe(`arn:aws:lambda:eu-west-1:000000000000:function:${stack.ref('Fn')}`);
    expect(() => stack.getAtt('Table', 'NoSuchAttribute')).toThrow(TemplateError);
  });

  it('resolves intrinsic functions and pseudo parameters', () => {
    expect(stack.resolve({ 'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/', { Ref: 'Pool' }]] }))
      .toBe(`https://cognito-idp.eu-west-1.amazonaws.com/${stack.ref('Pool')}`);
    expect(stack.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/x/${Events.Arn}' }))
      .toBe(`arn:aws:s3:::${stack.ref('Bucket')}/x/${stack.getAtt('Events', 'Arn')}`);
    expect(stack.resolve({ 'Fn::Sub': ['${A}-${AWS::AccountId}', { A: { Ref: 'Named' } }] })).toBe('explicit-name-000000000000');
    expect(stack.resolve({ 'Fn::Select': [1, { 'Fn::Split': [':', 'a:b:c'] }] })).toBe('b');
    expect(stack.resolve({ 'Fn::If': ['IsEu', 'eu', 'other'] })).toBe('eu');
    expect(stack.resolve({ 'Fn::FindInMap': ['M', 'a', 'b'] })).toBe('mapped');
    expect(stack.resolve({ 'Fn::GetAtt': 'Events.Arn' })).toBe(stack.getAtt('Events', 'Arn'));
    expect(stack.resolve({ Keep: 1, Drop: { Ref: 'AWS::NoValue' }, List: ['a', { Ref: 'AWS::NoValue' }] })).toEqual({ Keep: 1, List: ['a'] });
    expect(() => stack.resolve({ 'Fn::ImportValue': 'x' })).toThrow(/not supported/);
    expect(() => stack.ref('Missing')).toThrow(TemplateError);
  });

  it('filters resources by type and condition', () => {
    const conditional = stackOf({
      On: { Type: 'AWS::S3::Bucket', Condition: 'Yes' },
      Off: { Type: 'AWS::S3::Bucket', Condition: 'No' },
    }, { Conditions: { Yes: { 'Fn::Equals': ['a', 'a'] }, No: { 'Fn::Not': [{ Condition: 'Yes' }] } } });
    expect(conditional.resourcesOfType('AWS::S3::Bucket').map(([id]) => id)).toEqual(['On']);
  });

  it('finds the logical id a Ref or GetAtt points at', () => {
    expect(DeployedStack.referencedLogicalId({ Ref: 'Api' })).toBe('Api');
    expect(DeployedStack.referencedLogicalId({ 'Fn::GetAtt': ['Fn', 'Arn'] })).toBe('Fn');
    expect(DeployedStack.referencedLogicalId('literal')).toBeUndefined();
  });
});

describe('nameFromArn', () => {
  it.each([
    ['arn:aws:s3:::my-bucket', 'my-bucket'],
    ['arn:aws:kinesis:us-east-1:000000000000:stream/events', 'events'],
    ['arn:aws:lambda:us-east-1:000000000000:function:fn-name', 'fn-name'],
  ])('%s → %s', (arn, name) => expect(nameFromArn(arn)).toBe(name));
});
