import { forward, type BufferedRequest, type LocalResponse } from './http';

/** Content types of the JSON protocols: 1.0 (DynamoDB) and 1.1 (Kinesis, Secrets Manager). */
export const AMZ_JSON_1_0 = 'application/x-amz-json-1.0';
export const AMZ_JSON_1_1 = 'application/x-amz-json-1.1';

/** The operation a JSON-protocol request names: `X-Amz-Target: DynamoDB_20120810.Query` → `Query`. */
export function targetOperation(request: BufferedRequest): string {
  return request.headers['x-amz-target']?.split('.')[1] ?? '';
}

/**
 * Calls another operation of the emulator behind a gateway with the caller's headers (a gateway
 * checks that a table or stream exists by describing it, and answers the emulator's error if not).
 */
export function forwardOperation(port: number, request: BufferedRequest, target: string, input: unknown): Promise<LocalResponse> {
  return forward(port, {
    ...request,
    headers: { ...request.headers, 'x-amz-target': target },
    body: Buffer.from(JSON.stringify(input)),
  });
}
