import type { BufferedRequest, LocalResponse } from './http';

/** The query protocol (IAM, STS): form-encoded parameters in, XML out. */

/** The parameters of a query-protocol request: the form body, else the query string. */
export function queryProtocolParams(request: BufferedRequest): Map<string, string> {
  const params = new Map<string, string>();
  const at = request.url.indexOf('?');
  if (at >= 0) for (const [k, v] of new URLSearchParams(request.url.slice(at + 1))) params.set(k, v);
  if (request.body.length > 0) for (const [k, v] of new URLSearchParams(request.body.toString('utf8'))) params.set(k, v);
  return params;
}

/** `Tags.member.1.Key=a&Tags.member.1.Value=b` → `[{ Key: 'a', Value: 'b' }]`; `TagKeys.member.1=a` → `[{ '': 'a' }]`. */
export function memberList(params: Map<string, string>, name: string): Array<Record<string, string>> {
  const members = new Map<number, Record<string, string>>();
  const pattern = new RegExp(`^${name}\\.member\\.(\\d+)(?:\\.(\\w+))?$`);
  for (const [key, value] of params) {
    const m = pattern.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    const member = members.get(index) ?? {};
    member[m[2] ?? ''] = value;
    members.set(index, member);
  }
  return [...members.entries()].sort(([a], [b]) => a - b).map(([, m]) => m);
}

/** `<ActionResponse>` with its `<ActionResult>` (already XML) and the request id. */
export function queryResponse(namespace: string, action: string, result: string, requestId: string): LocalResponse {
  const body = `<${action}Response xmlns="${namespace}">\n${result ? `  <${action}Result>${result}</${action}Result>\n` : ''}  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`;
  return { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body };
}
