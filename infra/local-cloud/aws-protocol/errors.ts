import type { LocalResponse } from './http';
import { xmlElement, xmlEscape } from './xml';

/**
 * Error answers in the shapes of the three AWS protocols the local cloud speaks: the JSON protocols
 * (DynamoDB, Kinesis, Secrets Manager, the edge itself), the query protocol (IAM, STS) and S3's REST XML.
 * Every text is escaped: messages can carry user input (names, keys).
 */

/** A JSON-protocol error: `{"__type": …, "message": …}` (Secrets Manager writes `Message`). */
export function jsonError(
  status: number,
  type: string,
  message: string,
  options: { contentType?: string; messageKey?: 'message' | 'Message' } = {},
): LocalResponse {
  return {
    status,
    headers: { 'content-type': options.contentType ?? 'application/json' },
    body: JSON.stringify({ __type: type, [options.messageKey ?? 'message']: message }),
  };
}

/** An error of a query-protocol service: IAM's code, HTTP status and fault (`Sender` or `Receiver`). */
export class QueryError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

/** The query protocol's `<ErrorResponse>` in the service's XML namespace. */
export function queryError(namespace: string, error: QueryError, requestId: string): LocalResponse {
  const body = `<ErrorResponse xmlns="${namespace}">\n  <Error>\n    <Type>${error.type}</Type>\n    <Code>${xmlEscape(error.code)}</Code>\n    <Message>${xmlEscape(error.message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`;
  return { status: error.status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}

/** S3's `<Error>`, with the extra elements S3 adds for some codes (`Condition`, `StringToSign`, …). */
export function s3Error(status: number, code: string, message: string, extra: Record<string, string> = {}): LocalResponse {
  const details = Object.entries(extra).map(([name, value]) => xmlElement(name, value)).join('');
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${xmlElement('Code', code)}${xmlElement('Message', message)}${details}<RequestId>local</RequestId></Error>`,
  };
}
