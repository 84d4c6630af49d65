import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { addressFingerprint, decodePageToken, encodePageToken, type PageToken } from '../../domain/datapoint-logs/page-token';
import type { DatapointLogStores } from '../../domain/datapoint-logs/ports';
import type { TimeRange } from '../../domain/datapoint-logs/records';
import { replyEntry } from '../../domain/datapoint-logs/reply';
import { literalRef, selectDatapoints, type SelectedDatapoint } from '../../domain/datapoint-logs/select';
import {
  forEachValuePage, mergeValues, MAX_CONCURRENT_QUERIES, type Cursor, type Found, type ReadFilter,
} from '../../domain/datapoint-logs/value-reads';
import { deleteFound, valuesWithin } from '../../domain/iap-jobs/chunks';
import { SYNC_MAX_DATAPOINTS, SYNC_MAX_VALUES } from '../../domain/iap-jobs/jobs';
import type { JobStarter } from '../../domain/iap-jobs/ports';
import { orAsJob, startJob } from '../../domain/iap-jobs/start';
import { valueSelection } from '../../domain/iap-jobs/value-selection';
import { parseAddress, parsePaging, type Paging } from '../../domain/iap/address';
import { callerFromEvent } from '../../shared/auth';
import { BadRequestError, MAX_REPLY_BYTES, NotFoundError, PayloadTooLargeError } from '../../shared/http';

export { MAX_CONCURRENT_QUERIES };
export { timeRangeOf } from '../../domain/iap-jobs/value-selection';

/** Values a reply without paging may hold before the caller is asked to page. */
export const MAX_UNPAGED_VALUES = 10_000;
/**
 * Values a page may skip to reach `pg` without the previous page's `next` token (IAP's `pg` with
 * `xs=<snapshot>`, or no `xs`): deeper pages need the token, so that no request reads more than this.
 */
export const MAX_SEEK_VALUES = 10_000;
/** Datapoints a value read merges: a wildcard selecting more is a 422 asking to narrow it. */
export const MAX_MERGED_DATAPOINTS = 1000;

function render(found: Found): string {
  const { datapoint } = found.selected;
  const { value } = found;
  return JSON.stringify({
    ...replyEntry(datapoint, { dsn: datapoint.dsn, state: value.deviceState, health: value.deviceHealth, ...(value.timeZone ? { timeZone: value.timeZone } : {}) }, value.at),
    id: value.id,
    value: value.value,
    tags: found.levels.map((level) => ({ [`log_level_${level}`]: null })),
  });
}

/** Rendered entries, refused with 413 as soon as they would not fit a reply (nothing larger is built). */
class ReplyBuffer {
  readonly entries: string[] = [];
  private bytes = 0;

  constructor(private readonly hint: string) {}

  add(found: Found): void {
    const entry = render(found);
    this.bytes += Buffer.byteLength(entry) + 1;
    if (this.bytes > MAX_REPLY_BYTES - 1024) {
      throw new PayloadTooLargeError(`the reply would be larger than the ${MAX_REPLY_BYTES} bytes an answer may have: ${this.hint}`, 'ReplyTooLarge');
    }
    this.entries.push(entry);
  }
}

const reply = (body: string): APIGatewayProxyStructuredResultV2 => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body });

/** Where a page starts: after a token's cursor or at the beginning, then `skip` values on (a bounded seek). */
interface PageStart {
  snapshot: number;
  cursor?: Cursor;
  skip: number;
}

/**
 * The start of the page asked for. `xs` is the `next` token of a previous page (its page and size
 * matching `pg` and `sz`: no seek), or a token with another page (a seek from its cursor when `pg` is
 * ahead of it, else from the beginning), or IAP's snapshot (a seek of `pg × sz` values). A seek over
 * more than {@link MAX_SEEK_VALUES} values is a 400 asking for the token.
 */
function pageStart(paging: Paging, address: string, now: number): PageStart {
  let token: PageToken | undefined;
  let snapshot = now;
  if (paging.snapshot !== undefined) {
    if (/^\d{1,15}$/.test(paging.snapshot)) snapshot = Number(paging.snapshot);
    else {
      token = decodePageToken(paging.snapshot);
      if (!token) throw new BadRequestError('xs must be the snapshot or the next token of a previous paged reply', 'BadQuery');
      if (token.address !== address) throw new BadRequestError('xs is the next token of another address: page with the token of this listing, or start again at pg=0', 'BadQuery');
      snapshot = token.snapshot;
    }
  }
  const fromToken = token !== undefined && token.size === paging.size && paging.page >= token.page;
  const start: PageStart = fromToken
    ? { snapshot, cursor: token!.cursor, skip: (paging.page - token!.page) * paging.size }
    : { snapshot, skip: paging.page * paging.size };
  if (start.skip > MAX_SEEK_VALUES) {
    throw new BadRequestError(
      `pg=${paging.page} with sz=${paging.size} would skip ${start.skip} values (at most ${MAX_SEEK_VALUES} are skipped): page on with the "next" token of the previous page as xs`,
      'PageTooDeep',
    );
  }
  return start;
}

/**
 * GET and DELETE `…/logs/value/{value_param}`: the logged values of the caller's datapoints that the
 * address selects, sorted by UTC (then by value id); values past the retention of every level they
 * carry (under the current configuration) are neither returned nor counted, even before TTL deletes them.
 *
 * Reads are bounded: a page reads about its own values from where the previous one ended (the `next`
 * token), wildcard selections are merged with at most {@link MAX_CONCURRENT_QUERIES} queries in flight
 * and at most {@link MAX_MERGED_DATAPOINTS} datapoints, and a reply is refused (413) as soon as it
 * would exceed the payload limit.
 *
 * With `jobs`, a DELETE of more than {@link SYNC_MAX_VALUES} values, or over more than
 * {@link SYNC_MAX_DATAPOINTS} datapoints, deletes nothing itself: it starts a job and answers 202
 * (without `jobs`, in-process use, every value is deleted here).
 */
export async function handleLogValues(
  event: APIGatewayProxyEventV2WithJWTAuthorizer, stores: DatapointLogStores, now: number, jobs?: JobStarter,
): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = callerFromEvent(event);
  const method = event.requestContext.http.method.toUpperCase();
  const address = parseAddress(event.pathParameters);
  const paging = method === 'GET' ? parsePaging(event.queryStringParameters) : undefined;
  if (method !== 'GET' && event.queryStringParameters && Object.keys(event.queryStringParameters).length > 0) {
    throw new BadRequestError(`${method} takes no query parameters`, 'BadQuery');
  }
  const fingerprint = addressFingerprint(event.pathParameters);
  const start = paging ? pageStart(paging, fingerprint, now) : { snapshot: now, skip: 0 };
  const ref = literalRef(address);
  const selected = await selectDatapoints(stores.registry, caller.oemId, address, method === 'GET' ? { limit: MAX_MERGED_DATAPOINTS, what: 'a value read merges' } : {});
  if (selected.length === 0 && ref) throw new NotFoundError(`no datapoint ${ref.dsn}/${ref.block}/${ref.blockIndex}/${ref.name}`, 'NoSuchDatapoint');
  const { candidates, range, accept } = valueSelection(address, selected);

  if (method === 'DELETE' && jobs) {
    // Counted first (reads stop past the bound): a small delete is made here, a larger one by a job.
    const found = candidates.length <= SYNC_MAX_DATAPOINTS
      ? await valuesWithin(stores.values, caller.oemId, candidates, range, accept, now, SYNC_MAX_VALUES)
      : undefined;
    const params = Object.fromEntries(Object.entries(event.pathParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
    const spec = { kind: 'value-delete' as const, address: params };
    if (found === undefined) return startJob(jobs, caller.oemId, spec, event.rawPath, candidates.length, now);
    return orAsJob(async () => {
      await deleteFound(stores.values, caller.oemId, found);
      return { statusCode: 204 };
    }, jobs, caller.oemId, spec, event.rawPath, candidates.length, now);
  }
  if (method === 'DELETE') {
    await forEachValuePage(stores.values, caller.oemId, candidates, range, { now, snapshot: now, accept }, (found) =>
      stores.values.deleteValues(caller.oemId, found.map((f) => ({ ref: f.selected.datapoint, value: f.value }))));
    return { statusCode: 204 };
  }

  const filter: ReadFilter = { now, snapshot: start.snapshot, accept, ...(start.cursor ? { cursor: start.cursor } : {}) };
  if (paging) {
    const page = new ReplyBuffer('use a smaller sz');
    let seen = 0;
    let last: Found | undefined;
    let more = false;
    for await (const found of mergeValues(stores.values, caller.oemId, candidates, range, filter, start.skip + paging.size + 1)) {
      if (seen++ < start.skip) continue;
      if (page.entries.length === paging.size) {
        more = true; // one value past the page: another page follows
        break;
      }
      page.add(found);
      last = found;
    }
    const next = more && last
      ? encodePageToken({ snapshot: start.snapshot, page: paging.page + 1, size: paging.size, cursor: { at: last.value.at, id: last.value.id }, address: fingerprint })
      : undefined;
    return reply(`{"snapshot":${start.snapshot},"resources":[${page.entries.join(',')}],"remainingPages":${more ? 1 : 0}${next ? `,"next":"${next}"` : ''}}`);
  }

  const all = new ReplyBuffer('ask for pages with ?pg=0&sz=500');
  for await (const found of mergeValues(stores.values, caller.oemId, candidates, range, filter, MAX_UNPAGED_VALUES + 1)) {
    if (all.entries.length === MAX_UNPAGED_VALUES) {
      throw new PayloadTooLargeError(`more than ${MAX_UNPAGED_VALUES} values match: ask for pages with ?pg=0&sz=1000, or narrow the time range`, 'ReplyTooLarge');
    }
    all.add(found);
  }
  return reply(`[${all.entries.join(',')}]`);
}
