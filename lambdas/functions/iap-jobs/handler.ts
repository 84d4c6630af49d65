import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyHandlerV2WithJWTAuthorizer } from 'aws-lambda';
import { DynamoJobStore } from '../../adapters/dynamodb/job-store';
import { defaultRateLimiter } from '../../adapters/dynamodb/rate-limit-store';
import { JOB_ID_PATTERN, jobReply } from '../../domain/iap-jobs/jobs';
import type { JobStore } from '../../domain/iap-jobs/ports';
import { callerFromEvent } from '../../shared/auth';
import { documentClient } from '../../shared/clients';
import { ENV, requireEnv } from '../../shared/config';
import { BadRequestError, httpHandler, json, NotFoundError } from '../../shared/http';
import { rateLimited, type RateLimiter } from '../../domain/rate-limit/limiter';

export interface Deps {
  jobs: JobStore;
  limiter: RateLimiter;
}

export function defaultDeps(): Deps {
  return { jobs: new DynamoJobStore(documentClient(), requireEnv(ENV.datapointLogTable)), limiter: defaultRateLimiter() };
}

/** GET /iap/jobs/{id}: a bulk change's progress. Only the OEM that started the job finds it (another's is a 404). */
export async function getJob(event: APIGatewayProxyEventV2WithJWTAuthorizer, jobs: JobStore) {
  const caller = callerFromEvent(event);
  const id = event.pathParameters?.id ?? '';
  if (!JOB_ID_PATTERN.test(id)) throw new BadRequestError('a job id is 24 hexadecimal digits, as the href of a 202 reply gives it', 'BadPath');
  const job = await jobs.get(caller.oemId, id);
  if (!job) throw new NotFoundError('no such job (jobs are kept 7 days after their last change)', 'NoSuchJob');
  return json(200, jobReply(job));
}

export function makeHandler(deps: Deps) {
  return httpHandler(rateLimited(deps.limiter, (event: APIGatewayProxyEventV2WithJWTAuthorizer) => getJob(event, deps.jobs))) satisfies APIGatewayProxyHandlerV2WithJWTAuthorizer;
}

export const handler = makeHandler(defaultDeps());
