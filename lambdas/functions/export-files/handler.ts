import { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { defaultRateLimiter } from '../../adapters/dynamodb/rate-limit-store';
import { S3ExportFiles } from '../../adapters/s3/export-files';
import { isOemId } from '../../domain/device-events';
import { browse, FilesInputError, isOemFileKey } from '../../domain/export-files/browse';
import { parsePreviewRows, PREVIEW_BYTES, previewCsv } from '../../domain/export-files/preview';
import { rateLimited, type RateLimiter } from '../../domain/rate-limit/limiter';
import { callerFromEvent } from '../../shared/auth';
import { ENV, requireEnv } from '../../shared/config';
import { BadRequestError, ForbiddenError, httpHandler, json, NotFoundError } from '../../shared/http';

/** Lifetime of a presigned download URL. */
export const DOWNLOAD_URL_SECONDS = 300;

export interface Deps {
  files: Pick<S3ExportFiles, 'listLevel' | 'presignDownload' | 'readStart'>;
  now?: () => Date;
  /** Per-OEM request limit; none in tests that do not exercise it. */
  limiter?: RateLimiter;
}

export function defaultDeps(): Deps {
  return { files: new S3ExportFiles(new S3Client({}), requireEnv(ENV.exportBucket)), limiter: defaultRateLimiter() };
}

const noStore = (body: unknown) => ({ ...json(200, body), headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });

/**
 * The OEM's export files, for any signed-in member of that OEM (the OEM from the verified token, never from the
 * request): GET /oems/{oem_id}/data-export/files (a level of folders and files, newest first),
 * …/files/download (a presigned GET, 300 s), …/files/preview (the first rows of a CSV, base64 columns decoded).
 */
export function makeHandler(deps: Deps) {
  const now = deps.now ?? (() => new Date());
  const limiter = deps.limiter ?? { check: async () => undefined };
  return httpHandler(rateLimited(limiter, async (event: APIGatewayProxyEventV2WithJWTAuthorizer) => {
    const caller = callerFromEvent(event);
    const oemId = event.pathParameters?.oem_id ?? '';
    if (!isOemId(oemId)) throw new BadRequestError(`oem_id ${JSON.stringify(oemId)} is not an OEM id`, 'BadPath');
    if (caller.oemId !== oemId) throw new ForbiddenError(`only members of OEM ${oemId} may read its export files`, 'NotOemMember');
    const query = event.queryStringParameters ?? {};
    const action = event.routeKey.endsWith('/files/download') ? 'download' : event.routeKey.endsWith('/files/preview') ? 'preview' : 'list';

    if (action === 'list') {
      try {
        return noStore(await browse(deps.files, oemId, query.prefix ?? '', query.cursor, now()));
      } catch (error) {
        if (error instanceof FilesInputError) throw new BadRequestError(error.message, 'BadPrefix');
        throw error;
      }
    }

    const key = query.key ?? '';
    if (key === '') throw new BadRequestError('key is required: the full key of a file, as the listing gives it', 'BadKey');
    if (!isOemFileKey(oemId, key)) throw new ForbiddenError(`key is not an export file of OEM ${oemId}`, 'NotOemFile');

    if (action === 'download') {
      const expiresAt = new Date(now().getTime() + DOWNLOAD_URL_SECONDS * 1000);
      return noStore({ url: await deps.files.presignDownload(key, DOWNLOAD_URL_SECONDS), expiresAt: expiresAt.toISOString() });
    }

    let rows: number;
    try {
      rows = parsePreviewRows(query.rows);
    } catch (error) {
      throw new BadRequestError((error as Error).message, 'BadRows');
    }
    if (!key.endsWith('.csv')) throw new BadRequestError('only CSV export files have a preview', 'NotPreviewable');
    const start = await deps.files.readStart(key, PREVIEW_BYTES);
    if (!start) throw new NotFoundError(`no file ${key}`, 'NoSuchFile');
    return noStore({ key, size: start.size, ...previewCsv(start.text, start.complete, rows) });
  })) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
}

export const handler = makeHandler(defaultDeps());
