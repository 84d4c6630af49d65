import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { DEFAULT_API_FUNCTION_CONCURRENCY } from '../../infra/constructs/api-fairness';
import { JOB_WORKER_TIMEOUT } from '../../infra/constructs/iap-bulk-jobs';
import { createPipelineApp } from '../../infra/pipeline-app';
import type { DevicePipelineStack } from '../../infra/pipeline-stack';
import { JOB_MAX_RECEIVES } from '../../lambdas/domain/iap-jobs/jobs';
import { DEFAULT_RATE_LIMIT } from '../../lambdas/domain/rate-limit/fixed-window';
import { ENV } from '../../lambdas/shared/config';

const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

type Resource = { Type: string; Properties?: Record<string, unknown> };

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}

function build(context: Record<string, unknown> = {}): { stack: DevicePipelineStack; template: Template; resources: Record<string, Resource> } {
  const { stack } = createPipelineApp({ context: { ...SKIP_BUNDLING, ...context } });
  const template = Template.fromStack(stack);
  return { stack, template, resources: (template.toJSON() as { Resources: Record<string, Resource> }).Resources };
}

describe('IAP bulk jobs', () => {
  const { stack, template, resources } = build();
  const props = (construct: IConstruct) => resources[logicalId(construct)]!.Properties!;

  it('a FIFO job queue with a FIFO dead-letter queue one delivery past the worker\'s own count, hidden 6× the worker\'s timeout', () => {
    const queue = props(stack.bulkJobs.queue);
    expect(queue).toMatchObject({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: JOB_WORKER_TIMEOUT.toSeconds() * 6,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack.bulkJobs.deadLetterQueue), 'Arn'] }, maxReceiveCount: JOB_MAX_RECEIVES + 1 },
    });
    expect(props(stack.bulkJobs.deadLetterQueue)).toMatchObject({ FifoQueue: true });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.bulkJobs.deadLetterQueue), 'QueueName'] } }],
      Threshold: 0,
    });
  });

  it('the worker takes one message at a time with partial failures and bounded concurrency, and the chunk sizes', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(stack.bulkJobs.worker) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.bulkJobs.queue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    const worker = props(stack.bulkJobs.worker);
    expect(worker.Timeout).toBe(JOB_WORKER_TIMEOUT.toSeconds());
    expect((worker.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      [ENV.jobChunkValues]: '20000', [ENV.jobChunkDatapoints]: '2000', [ENV.jobQueueUrl]: { Ref: logicalId(stack.bulkJobs.queue) },
    });
    const custom = build({ jobChunkValues: '1000', jobWorkerMaxConcurrency: 5 });
    const variables = (custom.resources[logicalId(custom.stack.bulkJobs.worker)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[ENV.jobChunkValues]).toBe('1000');
    custom.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: logicalId(custom.stack.bulkJobs.worker) }, ScalingConfig: { MaximumConcurrency: 5 } });
  });

  it('the functions that start jobs may send to the queue and know its URL; GET /iap/jobs/{id} is routed behind the authorizer', () => {
    for (const id of ['IapLogConfigFunction', 'IapLogValuesFunction']) {
      const fn = stack.node.findChild(id);
      expect((props(fn).Environment as { Variables: Record<string, unknown> }).Variables[ENV.jobQueueUrl]).toEqual({ Ref: logicalId(stack.bulkJobs.queue) });
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(`^${id}ServiceRole`) }],
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']), Resource: { 'Fn::GetAtt': [logicalId(stack.bulkJobs.queue), 'Arn'] } })]) },
      });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /iap/jobs/{id}', AuthorizationType: 'JWT' });
  });
});

describe('fairness', () => {
  const { stack, template, resources } = build();
  const props = (construct: IConstruct) => resources[logicalId(construct)]!.Properties!;
  const apiFunctions = () => [stack.node.findChild('IapLogConfigFunction'), stack.node.findChild('IapLogValuesFunction'), stack.bulkJobs.jobsFunction, stack.exportCredentials.function];

  it('a counters table with TTL, and every API function rate limited per OEM with the default limit', () => {
    expect(props(stack.fairness.rateLimitTable)).toMatchObject({ KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }], TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true }, BillingMode: 'PAY_PER_REQUEST' });
    for (const fn of apiFunctions()) {
      expect((props(fn).Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        [ENV.rateLimitTable]: { Ref: logicalId(stack.fairness.rateLimitTable) },
        [ENV.rateLimitRequests]: String(DEFAULT_RATE_LIMIT.requests),
        [ENV.rateLimitWindowSeconds]: String(DEFAULT_RATE_LIMIT.windowSeconds),
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'dynamodb:UpdateItem', Resource: { 'Fn::GetAtt': [logicalId(stack.fairness.rateLimitTable), 'Arn'] } })]) },
        Roles: [{ Ref: Match.stringLikeRegexp(`^${fn.node.id}ServiceRole`) }],
      });
    }
  });

  it('the stream consumers reserve what they can use (shards × parallelization), the API functions are capped', () => {
    expect(props(stack.node.findChild('DatapointLoggerFunction')).ReservedConcurrentExecutions).toBe(2);
    expect(props(stack.export.stager).ReservedConcurrentExecutions).toBe(2);
    for (const fn of apiFunctions()) expect(props(fn).ReservedConcurrentExecutions).toBe(DEFAULT_API_FUNCTION_CONCURRENCY);
    // The worker is bounded by its event source, not by a reservation.
    expect(props(stack.bulkJobs.worker).ReservedConcurrentExecutions).toBeUndefined();
  });

  it('takes limits, caps and reservations from context, and turns them off', () => {
    const custom = build({ oemRateLimitRequests: '50', oemRateLimitWindowSeconds: 1, apiFunctionConcurrency: 5, eventStreamShardCount: 4, exportParallelizationFactor: 2 });
    const p = (c: IConstruct) => custom.resources[logicalId(c)]!.Properties!;
    expect((p(custom.stack.bulkJobs.jobsFunction).Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({ [ENV.rateLimitRequests]: '50', [ENV.rateLimitWindowSeconds]: '1' });
    expect(p(custom.stack.bulkJobs.jobsFunction).ReservedConcurrentExecutions).toBe(5);
    expect(p(custom.stack.node.findChild('DatapointLoggerFunction')).ReservedConcurrentExecutions).toBe(4);
    expect(p(custom.stack.export.stager).ReservedConcurrentExecutions).toBe(8);

    const off = build({ apiFunctionConcurrency: 0, streamConsumerReservations: 'false' });
    for (const [, resource] of Object.entries(off.resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
      expect(resource.Properties?.ReservedConcurrentExecutions).toBeUndefined();
    }
    const onDemand = build({ eventStreamCapacity: 'on-demand' });
    expect(onDemand.resources[logicalId(onDemand.stack.node.findChild('DatapointLoggerFunction'))]!.Properties!.ReservedConcurrentExecutions).toBeUndefined();
    expect(() => build({ oemRateLimitRequests: 0 })).toThrow(/oemRateLimitRequests/);
    expect(() => build({ streamConsumerReservations: 'maybe' })).toThrow(/streamConsumerReservations/);
  });
});
