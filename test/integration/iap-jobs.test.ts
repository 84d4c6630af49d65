import { KinesisClient } from '@aws-sdk/client-kinesis';
import { openDeployment, type Deployment } from './deployment';
import { call, logsPath, putEvents, uniqueOem, type ApiReply } from './iap-helpers';
import { baseTime, EVERY, S, update, valuesPath, type Json } from './iap-values-helpers';
import { eventually } from './local-cloud-helpers';

/**
 * Bulk changes over wildcards past the synchronous bound (500 datapoints, 5,000 values), end to end: the
 * API answers 202 with the job, the job queue and worker carry it to the end, `GET /iap/jobs/{id}`
 * shows its progress, and other requests are answered meanwhile.
 *
 * The embedded local cloud runs with small job chunks (500 values, 100 datapoints: progress shows
 * chunk by chunk). Against another deployment (PIPELINE_OUTPUTS) give it the same context:
 * `jobChunkValues=500 jobChunkDatapoints=100`.
 */

jest.setTimeout(300_000);

const CONTEXT = { jobChunkValues: 500, jobChunkDatapoints: 100 };

let deployment: Deployment;
let kinesis: KinesisClient;
let streamName: string;

beforeAll(async () => {
  deployment = await openDeployment({ context: CONTEXT });
  kinesis = new KinesisClient(deployment.aws);
  streamName = deployment.outputs.EventStreamName!;
});

afterAll(async () => {
  kinesis?.destroy();
  await deployment?.stop();
});

interface Accepted {
  jobId: string;
  status: string;
  href: string;
}
interface Job {
  id: string;
  kind: string;
  path: string;
  state: 'queued' | 'running' | 'succeeded' | 'failed';
  done: number;
  left: number | null;
  estimated: boolean;
  datapoints: { done: number; total: number };
  errors: unknown[];
  createdAt: string;
  updatedAt: string;
}

async function tenant(label: string) {
  const oemId = uniqueOem(label);
  return { oemId, token: await deployment.token({ oemId }) };
}

const api = <T>(method: string, path: string, token: string, body?: unknown) => call<T>(deployment, method, path, token, body);

/** Follows a job to its end, pausing between polls; returns every reply seen, in order. */
async function follow(token: string, accepted: ApiReply<Accepted>): Promise<Job[]> {
  expect(accepted.status).toBe(202);
  expect(accepted.body).toEqual({ jobId: expect.stringMatching(/^[0-9a-f]{24}$/), status: 'queued', href: `/iap/jobs/${accepted.body.jobId}` });
  const seen: Job[] = [];
  await eventually(async () => {
    await new Promise((r) => setTimeout(r, 200));
    const reply = await api<Job>('GET', accepted.body.href, token);
    expect(reply.status).toBe(200);
    seen.push(reply.body);
    return reply.body.state === 'succeeded' || reply.body.state === 'failed' ? reply.body : undefined;
  }, 240_000, `job ${accepted.body.jobId} to finish`);
  return seen;
}

/** Progress only grows, and what is done plus what is left stays the whole. */
function expectSteadyProgress(seen: Job[], total: number): void {
  const done = seen.map((j) => j.done);
  expect(done).toEqual([...done].sort((a, b) => a - b));
  const running = seen.filter((j) => j.state === 'running' && j.done > 0 && j.done < total);
  expect(running.length).toBeGreaterThan(0);
  expect(seen.at(-1)).toMatchObject({ state: 'succeeded', done: total, left: 0, errors: [] });
}

describe('bulk changes past the synchronous bound', () => {
  it('DELETE of 6,000 values over a wildcard answers 202; the job deletes every one, its progress visible, other requests answered meanwhile', async () => {
    const { oemId, token } = await tenant('bulk-delete');
    const names = Array.from({ length: 12 }, (_, i) => `dp${i}`);
    for (const name of names) {
      const reply = await api('PUT', logsPath('JOBDEV1', 'device', '0', name), token, EVERY);
      expect(reply.status).toBe(200);
    }
    const B = baseTime(3600);
    const events: Json[] = [];
    for (let i = 0; i < 500; i++) for (const name of names) events.push(update(oemId, 'JOBDEV1', name, i, B + i * S));
    await putEvents(kinesis, streamName, events);
    const all = valuesPath('*', '*', '*', '*');
    await eventually(async () => {
      const reply = await api<unknown[]>('GET', all, token);
      return reply.status === 200 && reply.body.length === 6000 ? true : undefined;
    }, 240_000, '6,000 values logged');

    const accepted = await api<Accepted>('DELETE', all, token);
    expect(accepted.status).toBe(202);
    // An unrelated request while the job runs.
    const other = await api<unknown[]>('GET', logsPath('JOBDEV1', 'device', '0', 'dp0'), token);
    expect(other.status).toBe(200);
    const seen = await follow(token, accepted);
    expectSteadyProgress(seen, 6000);
    expect(seen.at(-1)).toMatchObject({ kind: 'value-delete', datapoints: { done: 12, total: 12 } });
    expect(seen.some((j) => j.state === 'running' && j.estimated && typeof j.left === 'number')).toBe(true);
    expect((await api<unknown[]>('GET', all, token)).body).toEqual([]);
    // The job is the caller's OEM's: another OEM does not find it.
    const stranger = await tenant('bulk-stranger');
    expect((await api('GET', accepted.body.href, stranger.token)).status).toBe(404);
  });

  it('PUT of a level over 600 datapoints answers 202; the job changes every one of them', async () => {
    const { oemId, token } = await tenant('bulk-put');
    const B = baseTime(600);
    const events = Array.from({ length: 600 }, (_, i) => update(oemId, `PUTDEV${i % 6}`, `p${i}`, 1, B + i));
    await putEvents(kinesis, streamName, events);
    const listing = logsPath('*', '*', '*', '*');
    await eventually(async () => {
      const reply = await api<unknown[]>('GET', listing, token);
      return reply.status === 200 && reply.body.length === 600 ? true : undefined;
    }, 240_000, '600 datapoints registered');

    const accepted = await api<Accepted>('PUT', logsPath('*', '*', '*', '*', '2'), token, { interval: 60, retention: 3 });
    const seen = await follow(token, accepted);
    expectSteadyProgress(seen, 600);
    expect(seen.at(-1)).toMatchObject({ kind: 'config-update', estimated: false, datapoints: { done: 600, total: 600 } });
    const after = await api<Array<{ level2: { interval: number; retention: number } }>>('GET', logsPath('*', '*', '*', '*', '2'), token);
    expect(after.body).toHaveLength(600);
    expect(after.body.every((e) => e.level2.interval === 60 && e.level2.retention === 3)).toBe(true);
  });
});
