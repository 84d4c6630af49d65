import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithJWTAuthorizer, Context, KinesisStreamEvent } from 'aws-lambda';

type Claims = APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer']['jwt']['claims'];

/** An HTTP API (payload 2.0) event as API Gateway sends it, without authorizer context. */
export function httpEvent(routeKey = 'GET /health'): APIGatewayProxyEventV2 {
  const [method = 'GET', rawPath = '/'] = routeKey.split(' ');
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { host: 'api.example.com' },
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'jest' },
      requestId: 'request-1',
      routeKey,
      stage: '$default',
      time: '01/Jan/2024:00:00:00 +0000',
      timeEpoch: 1704067200000,
    },
  };
}

/** The same with the JWT authorizer context carrying `claims`. */
export function jwtEvent(claims: Claims, routeKey = 'GET /me'): APIGatewayProxyEventV2WithJWTAuthorizer {
  const event = httpEvent(routeKey);
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: null } },
    },
  };
}

export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'test-function',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test-function',
  memoryLimitInMB: '256',
  awsRequestId: 'aws-request-1',
  logGroupName: '/aws/lambda/test-function',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/** A Kinesis event as Lambda's event source mapping sends it: each record's data base64-encoded. */
export function kinesisEvent(
  records: ReadonlyArray<{ data: string | Buffer; sequenceNumber: string; partitionKey?: string; arrivalMs?: number }>,
  shardId = 'shardId-000000000000',
): KinesisStreamEvent {
  return {
    Records: records.map((r) => ({
      eventID: `${shardId}:${r.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      eventVersion: '1.0',
      eventSource: 'aws:kinesis',
      awsRegion: 'us-east-1',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/test',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/DeviceEvents',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.partitionKey ?? 'dsn',
        sequenceNumber: r.sequenceNumber,
        data: (typeof r.data === 'string' ? Buffer.from(r.data) : r.data).toString('base64'),
        approximateArrivalTimestamp: (r.arrivalMs ?? Date.UTC(2026, 10, 22, 8)) / 1000,
      },
    })),
  };
}
