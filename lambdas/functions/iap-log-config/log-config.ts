import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  describeValue, parseJsonBody, parseRootBody, parseSettingBody, resetPatch, rootReply, minDeltaValueReply, type ConfigPatch, type LevelNumber,
} from '../../domain/datapoint-logs/log-settings';
import type { DatapointRegistry } from '../../domain/datapoint-logs/ports';
import type { DatapointRecord } from '../../domain/datapoint-logs/records';
import { pageOf, replyEntry } from '../../domain/datapoint-logs/reply';
import { hasTimeConditions, literalRef, selectDatapoints, type SelectedDatapoint } from '../../domain/datapoint-logs/select';
import { SYNC_MAX_DATAPOINTS } from '../../domain/iap-jobs/jobs';
import type { JobStarter } from '../../domain/iap-jobs/ports';
import { orAsJob, startJob } from '../../domain/iap-jobs/start';
import { AddressError, parseAddress, parseLevel, parsePaging } from '../../domain/iap/address';
import { callerFromEvent } from '../../shared/auth';
import { BadRequestError, NotFoundError, UnprocessableEntityError, jsonWithinLimit } from '../../shared/http';

/** Datapoints a GET of the configuration may select: a wildcard selecting more is a 422 asking to narrow it. */
export const MAX_LISTED_DATAPOINTS = 10_000;

type Setting = { kind: 'root' } | { kind: 'level'; level: LevelNumber } | { kind: 'minDeltaValue' } | { kind: 'minDeltaTime' };

function settingOf(text: string | undefined): Setting {
  if (text === undefined) return { kind: 'root' };
  const lower = text.toLowerCase();
  if (lower === 'mindeltavalue') return { kind: 'minDeltaValue' };
  if (lower === 'mindeltatime') return { kind: 'minDeltaTime' };
  try {
    return { kind: 'level', level: parseLevel(text) };
  } catch {
    throw new NotFoundError(`no logs setting ${describeValue(text)}: use 1, 2, 3, minDeltaValue or minDeltaTime`, 'NoSuchSetting');
  }
}

/** The setting's part of a reply entry: `root`, `levelN`, `minDeltaValue` or `minDeltaTime`. */
function settingReply(setting: Setting, datapoint: DatapointRecord): Record<string, unknown> {
  const { config } = datapoint;
  switch (setting.kind) {
    case 'root':
      return { root: rootReply(config) };
    case 'level':
      return { [`level${setting.level}`]: { ...config.levels[setting.level - 1] } };
    case 'minDeltaValue':
      return { minDeltaValue: minDeltaValueReply(config.minDeltaValue) };
    case 'minDeltaTime':
      return { minDeltaTime: config.minDeltaTime };
  }
}

/** The path elements as API Gateway passed them, for a job to select the same datapoints again. */
function definedParams(event: APIGatewayProxyEventV2WithJWTAuthorizer): Record<string, string> {
  return Object.fromEntries(Object.entries(event.pathParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
}

function patchOf(method: string, setting: Setting, event: APIGatewayProxyEventV2WithJWTAuthorizer): ConfigPatch {
  if (method === 'DELETE') {
    if (setting.kind === 'root') throw new BadRequestError('DELETE needs a setting: …/logs/1, 2, 3, minDeltaValue or minDeltaTime', 'BadMethod');
    return resetPatch(setting.kind, setting.kind === 'level' ? setting.level : undefined);
  }
  const body = parseJsonBody(event.body, event.isBase64Encoded);
  return setting.kind === 'root' ? parseRootBody(body) : parseSettingBody(setting.kind, body, setting.kind === 'level' ? setting.level : undefined);
}

/**
 * The log configuration routes. The OEM is the caller's, from the verified token; an address
 * selects among that OEM's datapoints only. A PUT on a literal path registers the datapoint;
 * GET and DELETE of a literal path that names nothing are 404; a wildcard that matches nothing
 * answers an empty list.
 *
 * With `jobs`, a PUT or DELETE selecting more than {@link SYNC_MAX_DATAPOINTS} datapoints changes
 * nothing itself: it starts a job and answers 202 (without `jobs`, in-process use, every change is made here).
 */
export async function handleLogConfig(
  event: APIGatewayProxyEventV2WithJWTAuthorizer, store: DatapointRegistry, now: number, jobs?: JobStarter,
): Promise<APIGatewayProxyStructuredResultV2> {
  const caller = callerFromEvent(event);
  const method = event.requestContext.http.method.toUpperCase();
  const address = parseAddress(event.pathParameters);
  if (hasTimeConditions(address.datapoint)) {
    throw new AddressError('datapoint_name', 'timestamp conditions select logged values: use them on …/logs/value/…');
  }
  const setting = settingOf(event.pathParameters?.setting);
  const paging = method === 'GET' ? parsePaging(event.queryStringParameters) : undefined;
  if (method !== 'GET' && event.queryStringParameters && Object.keys(event.queryStringParameters).length > 0) {
    throw new BadRequestError(`${method} takes no query parameters`, 'BadQuery');
  }
  const patch = method === 'GET' ? undefined : patchOf(method, setting, event);

  // A listing (GET) reads every selected datapoint for each page: past this many it could not answer in time.
  const limit = method === 'GET' ? { limit: MAX_LISTED_DATAPOINTS, what: 'a configuration listing answers' } : jobs ? { limit: SYNC_MAX_DATAPOINTS } : {};
  let selected: SelectedDatapoint[];
  try {
    selected = await selectDatapoints(store, caller.oemId, address, limit);
  } catch (error) {
    // A change over more datapoints than one request makes: a job, which selects them again as it goes.
    if (!(patch && jobs && error instanceof UnprocessableEntityError && error.code === 'SelectionTooLarge')) throw error;
    return startJob(jobs, caller.oemId, { kind: 'config-update', address: definedParams(event), patch }, event.rawPath, 0, now);
  }
  const ref = literalRef(address);
  if (selected.length === 0 && ref) {
    if (method !== 'PUT') throw new NotFoundError(`no datapoint ${ref.dsn}/${ref.block}/${ref.blockIndex}/${ref.name}`, 'NoSuchDatapoint');
    await store.registerDatapoints(caller.oemId, [ref], now);
    selected = await selectDatapoints(store, caller.oemId, address);
  }

  const entry = ({ datapoint, device }: SelectedDatapoint) => ({
    ...replyEntry(datapoint, device, datapoint.configuredAt ?? datapoint.registeredAt),
    ...settingReply(setting, datapoint),
  });
  if (patch) {
    const change = async () => {
      const updated: SelectedDatapoint[] = [];
      for (let i = 0; i < selected.length; i += 16) {
        updated.push(...await Promise.all(selected.slice(i, i + 16).map(async ({ datapoint, device }) => ({
          datapoint: await store.updateConfig(caller.oemId, datapoint, patch, now),
          device,
        }))));
      }
      return jsonWithinLimit(200, updated.map(entry));
    };
    return orAsJob(change, jobs, caller.oemId, { kind: 'config-update', address: definedParams(event), patch }, event.rawPath, selected.length, now);
  }
  if (paging) return jsonWithinLimit(200, pageOf(selected, paging, now, (s) => s.datapoint.registeredAt, entry), 'use a smaller sz');
  return jsonWithinLimit(200, selected.map(entry));
}
