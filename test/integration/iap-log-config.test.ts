import { KinesisClient } from '@aws-sdk/client-kinesis';
import { formatLocal } from '../../lambdas/domain/datapoint-logs/time-format';
import {
  call, connectivityEvent, datapointEvent, locationEvent, logsPath, putEvents, registrationEvent, uniqueOem, type ApiReply, type ReplyEntry } from './iap-helpers';
import { itWithForgedTokens, openDeployment, type Deployment } from './deployment';
import { eventually } from './local-cloud-helpers';

/**
 * The IAP log configuration routes through the deployment's HTTP API (the embedded local cloud, or the
 * one PIPELINE_OUTPUTS describes: see deployment.ts): real tokens, device events on the real stream
 * registering datapoints through the datapoint-logger. Every test has its own OEM, so tests never see
 * each other's datapoints, also on a deployment shared between runs.
 */

jest.setTimeout(120_000);

let deployment: Deployment;
let kinesis: KinesisClient;
let streamName: string;

beforeAll(async () => {
  deployment = await openDeployment();
  kinesis = new KinesisClient(deployment.aws);
  streamName = deployment.outputs.EventStreamName!;
});

afterAll(async () => {
  kinesis?.destroy();
  await deployment?.stop();
});

interface Level {
  interval: number;
  retention: number;
  logMultiple: number | null;
}
interface Root {
  level1: Level;
  level2: Level;
  level3: Level;
  minDeltaTime: number;
  minDeltaValue: string | number;
}
interface Entry extends ReplyEntry {
  root?: Root;
  level1?: Level;
  level2?: Level;
  level3?: Level;
  minDeltaValue?: string | number;
  minDeltaTime?: number;
}
interface ErrorBody {
  code: string;
  message: string;
}

const UNSET: Level = { interval: 0, retention: 0, logMultiple: null };
const DEFAULT_ROOT: Root = { level1: UNSET, level2: UNSET, level3: UNSET, minDeltaTime: 0, minDeltaValue: 'ANY' };
const ENTRY_KEYS = ['id', 'local', 'utc', 'deviceId', 'deviceName', 'blockName', 'blockIndex', 'datapointName', 'deviceState', 'deviceHealth'];
const UTC_FORMAT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} UTC$/;

/** An OEM and a token of one of its users. */
async function tenant(label: string): Promise<{ oemId: string; token: string }> {
  const oemId = uniqueOem(label);
  return { oemId, token: await deployment.token({ oemId }) };
}

const api = <T = Entry[]>(method: string, path: string, token?: string, body?: unknown) => call<T>(deployment, method, path, token, body);

function expectOk<T>(reply: ApiReply<T>): T {
  expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: expect.anything() });
  expect(reply.contentType).toMatch(/application\/json/);
  return reply.body;
}

/** A handler's error reply: the status, JSON `{code, message}`. */
function expectError(reply: ApiReply<unknown>, status: number, code?: string): ErrorBody {
  expect({ status: reply.status, body: reply.body }).toEqual({
    status,
    body: { code: code ?? expect.any(String), message: expect.any(String) },
  });
  expect(reply.contentType).toMatch(/application\/json/);
  const body = reply.body as ErrorBody;
  expect(body.message.length).toBeGreaterThan(0);
  return body;
}

const positions = (entries: Entry[]) => entries.map((e) => `${e.deviceId}/${e.blockName}/${e.blockIndex}/${e.datapointName}`);

/** Waits until the registry lists at least `count` datapoints for `path` (the logger has caught up). */
async function registered(token: string, path: string, count: number, what = `${count} datapoints at ${path}`): Promise<Entry[]> {
  return eventually(async () => {
    const reply = await api('GET', path, token);
    return reply.status === 200 && reply.body.length >= count ? reply.body : undefined;
  }, 30_000, what);
}

describe('the seed\'s examples', () => {
  it('GET …/devs/*/if/*/*/nviPT/logs answers the seed\'s shape, with defaults until configured, then the configuration PUT as the seed shows it', async () => {
    const { oemId, token } = await tenant('seed');
    const dsn = '00D07111EAC0';
    await putEvents(kinesis, streamName, [
      locationEvent(oemId, dsn, { lat: '58.6', long: '49.7', time_zone: 'Europe/Kirov' }),
      datapointEvent(oemId, dsn, 'nviPT'),
      datapointEvent(oemId, dsn, 'nvoEPpos'),
    ]);
    const path = logsPath('*', '*', '*', 'nviPT');
    const [entry] = await registered(token, path, 1);
    await eventually(async () => ((await api('GET', path, token)).body[0]?.local.endsWith('Europe/Kirov') ? true : undefined), 30_000, 'the time zone');

    const before = expectOk(await api('GET', path, token));
    expect(before).toHaveLength(1);
    expect(before[0]).toEqual({
      id: expect.any(Number),
      local: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} Europe\/Kirov$/),
      utc: expect.stringMatching(UTC_FORMAT),
      deviceId: dsn,
      deviceName: dsn,
      blockName: 'device',
      blockIndex: '0',
      datapointName: 'nviPT',
      deviceState: 'provisioned',
      deviceHealth: 'normal',
      root: DEFAULT_ROOT,
    });
    expect(Object.keys(before[0]!)).toEqual([...ENTRY_KEYS, 'root']);
    expect(before[0]!.id).toBe(entry!.id);
    // local is the same instant as utc, in the device's zone (Kirov is UTC+3).
    const utcMs = Date.parse(`${before[0]!.utc.slice(0, 23).replace(' ', 'T')}Z`);
    expect(before[0]!.local).toBe(formatLocal(utcMs, 'Europe/Kirov'));

    const seedRoot: Root = {
      level1: { interval: 60, retention: 2, logMultiple: null },
      level2: { interval: 120, retention: 0, logMultiple: null },
      level3: { interval: 180, retention: 0, logMultiple: null },
      minDeltaTime: 0,
      minDeltaValue: 'ALWAYS',
    };
    const put = expectOk(await api('PUT', path, token, { root: seedRoot }));
    expect(put).toEqual([{ ...before[0], local: expect.stringMatching(/Europe\/Kirov$/), utc: expect.stringMatching(UTC_FORMAT), root: seedRoot }]);
    const after = expectOk(await api('GET', path, token));
    expect(after).toEqual(put);

    // …/nvoEPpos/logs/minDeltaValue: ANY by default, ALWAYS once set; the seed's fields and nothing else.
    const mdvPath = logsPath('*', '*', '*', 'nvoEPpos', 'minDeltaValue');
    const mdv = expectOk(await api('GET', mdvPath, token));
    expect(mdv).toEqual([expect.objectContaining({ datapointName: 'nvoEPpos', blockName: 'device', blockIndex: '0', minDeltaValue: 'ANY' })]);
    expect(Object.keys(mdv[0]!)).toEqual([...ENTRY_KEYS, 'minDeltaValue']);
    expect(expectOk(await api('PUT', mdvPath, token, '"always"'))).toEqual([expect.objectContaining({ datapointName: 'nvoEPpos', minDeltaValue: 'ALWAYS' })]);
    expect(expectOk(await api('GET', mdvPath, token))[0]!.minDeltaValue).toBe('ALWAYS');
    // nviPT was not touched by the nvoEPpos change.
    expect(expectOk(await api('GET', path, token))[0]!.root).toEqual(seedRoot);
  });
});

describe('every route and method on one datapoint', () => {
  it('PUT on a literal path of an unknown datapoint registers it; GET, PUT and DELETE of each setting then act on it', async () => {
    const { token } = await tenant('routes');
    const dsn = 'AC000W005606115';
    const at = (setting?: string) => logsPath(dsn, 'device', '0', 'Blue_LED', setting);

    expectError(await api('GET', at(), token), 404, 'NoSuchDatapoint');

    // PUT of a level registers the datapoint and sets the fields given.
    const created = expectOk(await api('PUT', at('1'), token, { interval: 60, retention: 2, logMultiple: null }));
    expect(created).toEqual([{
      id: expect.any(Number), local: expect.stringMatching(UTC_FORMAT), utc: expect.stringMatching(UTC_FORMAT),
      deviceId: dsn, deviceName: dsn, blockName: 'device', blockIndex: '0', datapointName: 'Blue_LED',
      deviceState: 'provisioned', deviceHealth: 'normal', level1: { interval: 60, retention: 2, logMultiple: null },
    }]);
    expect(Object.keys(created[0]!)).toEqual([...ENTRY_KEYS, 'level1']);
    const id = created[0]!.id;

    // GET of each setting: its own key, defaults where unset.
    expect(expectOk(await api('GET', at('1'), token))).toEqual([expect.objectContaining({ id, level1: { interval: 60, retention: 2, logMultiple: null } })]);
    for (const level of ['2', '3'] as const) {
      const [entry] = expectOk(await api('GET', at(level), token));
      expect(entry).toEqual(expect.objectContaining({ id, [`level${level}`]: UNSET }));
      expect(Object.keys(entry!)).toEqual([...ENTRY_KEYS, `level${level}`]);
    }
    const [mdt] = expectOk(await api('GET', at('minDeltaTime'), token));
    expect(mdt).toEqual(expect.objectContaining({ id, minDeltaTime: 0 }));
    expect(Object.keys(mdt!)).toEqual([...ENTRY_KEYS, 'minDeltaTime']);
    expect(expectOk(await api('GET', at('minDeltaValue'), token))).toEqual([expect.objectContaining({ id, minDeltaValue: 'ANY' })]);

    // PUT of a partial level keeps the other fields.
    expect(expectOk(await api('PUT', at('2'), token, { retention: 30 }))[0]!.level2).toEqual({ interval: 0, retention: 30, logMultiple: null });
    expect(expectOk(await api('PUT', at('2'), token, { interval: 3600, logMultiple: 4 }))[0]!.level2).toEqual({ interval: 3600, retention: 30, logMultiple: 4 });
    expect(expectOk(await api('PUT', at('3'), token, { interval: 86400, retention: 0.5 }))[0]!.level3).toEqual({ interval: 86400, retention: 0.5, logMultiple: null });

    // minDeltaValue: the bare value, a number, {minDeltaValue: …}, any case.
    expect(expectOk(await api('PUT', at('minDeltaValue'), token, 100))[0]!.minDeltaValue).toBe(100);
    expect(expectOk(await api('PUT', at('minDeltaValue'), token, { minDeltaValue: 5 }))[0]!.minDeltaValue).toBe(5);
    expect(expectOk(await api('PUT', at('minDeltaValue'), token, '"ALWAYS"'))[0]!.minDeltaValue).toBe('ALWAYS');
    expect(expectOk(await api('PUT', at('minDeltaValue'), token, '"ANY"'))[0]!.minDeltaValue).toBe('ANY');
    expect(expectOk(await api('PUT', at('minDeltaValue'), token, 2.5))[0]!.minDeltaValue).toBe(2.5);

    // minDeltaTime: bare and wrapped.
    expect(expectOk(await api('PUT', at('minDeltaTime'), token, 30))[0]!.minDeltaTime).toBe(30);
    expect(expectOk(await api('PUT', at('minDeltaTime'), token, { minDeltaTime: 45 }))[0]!.minDeltaTime).toBe(45);

    // The whole configuration, as GET …/logs shows it.
    const whole = expectOk(await api('GET', at(), token));
    expect(whole).toEqual([expect.objectContaining({
      id,
      root: {
        level1: { interval: 60, retention: 2, logMultiple: null },
        level2: { interval: 3600, retention: 30, logMultiple: 4 },
        level3: { interval: 86400, retention: 0.5, logMultiple: null },
        minDeltaTime: 45,
        minDeltaValue: 2.5,
      },
    })]);

    // PUT …/logs takes the root shape, bare or wrapped, any part of it.
    expect(expectOk(await api('PUT', at(), token, { level3: { retention: 9 }, minDeltaValue: 'always' }))[0]!.root).toEqual({
      level1: { interval: 60, retention: 2, logMultiple: null },
      level2: { interval: 3600, retention: 30, logMultiple: 4 },
      level3: { interval: 86400, retention: 9, logMultiple: null },
      minDeltaTime: 45,
      minDeltaValue: 'ALWAYS',
    });
    // …and a whole GET reply entry sent back sets what it shows.
    expect(expectOk(await api('PUT', at(), token, { ...whole[0], root: { ...whole[0]!.root, minDeltaTime: 7 } }))[0]!.root).toEqual({ ...whole[0]!.root, minDeltaTime: 7 });

    // DELETE: a level's interval and retention to 0 (logMultiple kept), minDeltaValue and minDeltaTime to 0.
    expect(expectOk(await api('DELETE', at('2'), token))).toEqual([expect.objectContaining({ id, level2: { interval: 0, retention: 0, logMultiple: 4 } })]);
    expect(expectOk(await api('DELETE', at('minDeltaValue'), token))).toEqual([expect.objectContaining({ id, minDeltaValue: 0 })]);
    expect(expectOk(await api('DELETE', at('minDeltaTime'), token))).toEqual([expect.objectContaining({ id, minDeltaTime: 0 })]);
    expect(expectOk(await api('GET', at(), token))[0]!.root).toEqual({
      level1: { interval: 60, retention: 2, logMultiple: null },
      level2: { interval: 0, retention: 0, logMultiple: 4 },
      level3: { interval: 86400, retention: 0.5, logMultiple: null },
      minDeltaTime: 0,
      minDeltaValue: 0,
    });
    expect(expectOk(await api('DELETE', at('1'), token))[0]!.level1).toEqual(UNSET);

    // The datapoint is still one datapoint, with the id it got when registered.
    expect(expectOk(await api('GET', logsPath('*', '*', '*', '*'), token)).map((e) => e.id)).toEqual([id]);
  });

  it('takes the level as level1 … level3 too, and DELETE on …/logs (no setting) is no route', async () => {
    const { token } = await tenant('levels');
    const at = (setting?: string) => logsPath('D1', 'device', '0', 'nviPT', setting);
    expect(expectOk(await api('PUT', at('level2'), token, { retention: 3 }))[0]!.level2).toEqual({ interval: 0, retention: 3, logMultiple: null });
    expect(expectOk(await api('GET', at('LEVEL2'), token))[0]!.level2).toEqual({ interval: 0, retention: 3, logMultiple: null });
    expect(expectOk(await api('GET', at('mindeltavalue'), token))[0]!.minDeltaValue).toBe('ANY');
    expect((await api('DELETE', at(), token)).status).toBe(404);
    expect((await api('POST', at('1'), token, { retention: 1 })).status).toBe(404);
  });
});

describe('selection over the OEM\'s datapoints', () => {
  let token: string;
  const all = logsPath('*', '*', '*', '*');

  beforeAll(async () => {
    const t = await tenant('select');
    token = t.token;
    await putEvents(kinesis, streamName, [
      datapointEvent(t.oemId, 'T6tWyg8.3', 'nvoEnergy'),
      datapointEvent(t.oemId, 'T6tWyg8.3', 'nvoVoltage'),
      datapointEvent(t.oemId, 'T6tWyg8.3', 'nvoPwrFactor'),
      datapointEvent(t.oemId, 'T6tWyg8.3', 'nvoEnergy'), // a repeated update registers nothing new
      'not json: the logger skips it, the rest of the batch is registered',
      datapointEvent(t.oemId, '17q2d95.4', 'nvoEnergy', { block: 'Meter', blockIndex: 2 }),
      datapointEvent(t.oemId, '17q2d95.4', 'nvoEnergy', { block: 'Meter', blockIndex: 1 }),
      datapointEvent(t.oemId, '17q2d95.4', 'nviValue', { block: 'Lamp', blockIndex: 0 }),
    ]);
    await registered(token, all, 6);
  });

  it('lists every datapoint once for */*/*/*, ordered by device, block, index and name, each with a unique id', async () => {
    const entries = expectOk(await api('GET', all, token));
    expect(positions(entries)).toEqual([
      '17q2d95.4/Lamp/0/nviValue',
      '17q2d95.4/Meter/1/nvoEnergy',
      '17q2d95.4/Meter/2/nvoEnergy',
      'T6tWyg8.3/device/0/nvoEnergy',
      'T6tWyg8.3/device/0/nvoPwrFactor',
      'T6tWyg8.3/device/0/nvoVoltage',
    ]);
    expect(new Set(entries.map((e) => e.id)).size).toBe(6);
    for (const entry of entries) {
      expect(Number.isInteger(entry.id)).toBe(true);
      expect(entry.root).toEqual(DEFAULT_ROOT);
    }
  });

  it.each([
    ['by name', logsPath('*', '*', '*', '*+name==nvoEnergy'), ['17q2d95.4/Meter/1/nvoEnergy', '17q2d95.4/Meter/2/nvoEnergy', 'T6tWyg8.3/device/0/nvoEnergy']],
    ['by a regex with %7C (the seed\'s example)', logsPath('T6tWyg8.3', '*', '*', '*+name=+^(nvoEnergy)%7C(nvoVoltage)%7C(nvoPwrFactor)'),
      ['T6tWyg8.3/device/0/nvoEnergy', 'T6tWyg8.3/device/0/nvoPwrFactor', 'T6tWyg8.3/device/0/nvoVoltage']],
    ['by a regex over all devices', logsPath('*', '*', '*', '*+name=+^(nvoEnergy)%7C(nvoVoltage)'),
      ['17q2d95.4/Meter/1/nvoEnergy', '17q2d95.4/Meter/2/nvoEnergy', 'T6tWyg8.3/device/0/nvoEnergy', 'T6tWyg8.3/device/0/nvoVoltage']],
    ['by a case-insensitive regex mismatch', logsPath('*', '*', '*', '*+name!+^NVO'), ['17q2d95.4/Lamp/0/nviValue']],
    ['by name!=', logsPath('T6tWyg8.3', '*', '*', '*+name!=nvoEnergy'), ['T6tWyg8.3/device/0/nvoPwrFactor', 'T6tWyg8.3/device/0/nvoVoltage']],
    ['by literal device', logsPath('17q2d95.4', '*', '*', '*'), ['17q2d95.4/Lamp/0/nviValue', '17q2d95.4/Meter/1/nvoEnergy', '17q2d95.4/Meter/2/nvoEnergy']],
    ['by literal block', logsPath('*', 'Meter', '*', '*'), ['17q2d95.4/Meter/1/nvoEnergy', '17q2d95.4/Meter/2/nvoEnergy']],
    ['by literal block index', logsPath('*', '*', '2', '*'), ['17q2d95.4/Meter/2/nvoEnergy']],
    ['by an index condition', logsPath('*', '*', '*+index>0', '*'), ['17q2d95.4/Meter/1/nvoEnergy', '17q2d95.4/Meter/2/nvoEnergy']],
    ['by a block condition', logsPath('*', '*+name=+^me', '*', 'nvoEnergy'), ['17q2d95.4/Meter/1/nvoEnergy', '17q2d95.4/Meter/2/nvoEnergy']],
    ['by a device id condition', logsPath('*+id==T6tWyg8.3', '*', '*', '*+name==nvoEnergy'), ['T6tWyg8.3/device/0/nvoEnergy']],
    ['by device name', logsPath('*+name=+^17q', '*', '*', '*+name==nvoEnergy'), ['17q2d95.4/Meter/1/nvoEnergy', '17q2d95.4/Meter/2/nvoEnergy']],
    ['by every literal', logsPath('17q2d95.4', 'Meter', '1', 'nvoEnergy'), ['17q2d95.4/Meter/1/nvoEnergy']],
    ['by literal device and name', logsPath('T6tWyg8.3', '*', '*', 'nvoVoltage'), ['T6tWyg8.3/device/0/nvoVoltage']],
  ])('selects %s', async (_how, path, expected) => {
    expect(positions(expectOk(await api('GET', path, token)))).toEqual(expected);
  });

  it.each([
    ['a name nothing has', logsPath('*', '*', '*', 'nvoNothing')],
    ['a device nothing has', logsPath('*+id==unknown', '*', '*', '*')],
    ['a block nothing has', logsPath('*', 'Thermostat', '*', '*')],
    ['contradicting conditions', logsPath('*', '*', '*', '*+name==nvoEnergy&name==nvoVoltage')],
  ])('answers 200 [] for a wildcard matching nothing: %s', async (_how, path) => {
    expect(expectOk(await api('GET', path, token))).toEqual([]);
    expect(expectOk(await api('PUT', `${path}/1`, token, { retention: 1 }))).toEqual([]);
    expect(expectOk(await api('DELETE', `${path}/minDeltaTime`, token))).toEqual([]);
  });

  it('applies a wildcard PUT to every matching datapoint, selects them by tag==log_level_N, and a wildcard DELETE clears them', async () => {
    const tagged = logsPath('*', '*', '*', '*+tag==log_level_1');
    expect(expectOk(await api('GET', tagged, token))).toEqual([]);

    const put = expectOk(await api('PUT', logsPath('*', '*', '*', '*+name==nvoEnergy', '1'), token, { interval: 300, retention: 7 }));
    expect(positions(put)).toEqual(['17q2d95.4/Meter/1/nvoEnergy', '17q2d95.4/Meter/2/nvoEnergy', 'T6tWyg8.3/device/0/nvoEnergy']);
    for (const entry of put) expect(entry.level1).toEqual({ interval: 300, retention: 7, logMultiple: null });

    expect(positions(expectOk(await api('GET', tagged, token)))).toEqual(positions(put));
    // The seed's example: name==nvoEnergy&tag==log_level_1.
    expect(positions(expectOk(await api('GET', logsPath('17q2d95.4', '*', '*', '*+name==nvoEnergy&tag==log_level_1'), token)))).toEqual([
      '17q2d95.4/Meter/1/nvoEnergy', '17q2d95.4/Meter/2/nvoEnergy',
    ]);
    expect(expectOk(await api('GET', logsPath('*', '*', '*', '*+name==nvoVoltage&tag==log_level_1'), token))).toEqual([]);
    expect(expectOk(await api('GET', logsPath('*', '*', '*', '*+tag==log_level_2'), token))).toEqual([]);
    expect(positions(expectOk(await api('GET', logsPath('T6tWyg8.3', '*', '*', '*+tag!=log_level_1'), token)))).toEqual([
      'T6tWyg8.3/device/0/nvoPwrFactor', 'T6tWyg8.3/device/0/nvoVoltage',
    ]);
    // An interval alone does not make a level active: only a retention above 0 does.
    expectOk(await api('PUT', logsPath('T6tWyg8.3', 'device', '0', 'nvoVoltage', '2'), token, { interval: 60 }));
    expect(expectOk(await api('GET', logsPath('*', '*', '*', '*+tag==log_level_2'), token))).toEqual([]);

    // The others were not changed.
    for (const entry of expectOk(await api('GET', logsPath('*', '*', '*', '*+name!=nvoEnergy', '1'), token))) expect(entry.level1).toEqual(UNSET);

    const cleared = expectOk(await api('DELETE', logsPath('*', '*', '*', '*', '1'), token));
    expect(cleared).toHaveLength(6);
    for (const entry of cleared) expect(entry.level1).toEqual(UNSET);
    expect(expectOk(await api('GET', tagged, token))).toEqual([]);

    // A wildcard PUT of minDeltaValue and minDeltaTime reaches every datapoint too.
    expect(expectOk(await api('PUT', logsPath('*', '*', '*', '*', 'minDeltaValue'), token, '"always"')).map((e) => e.minDeltaValue)).toEqual(Array(6).fill('ALWAYS'));
    expect(expectOk(await api('PUT', logsPath('*', 'Meter', '*', '*', 'minDeltaTime'), token, 15)).map((e) => e.minDeltaTime)).toEqual([15, 15]);
    expect(expectOk(await api('DELETE', logsPath('*', '*', '*', '*', 'minDeltaValue'), token)).map((e) => e.minDeltaValue)).toEqual(Array(6).fill(0));
    expect(expectOk(await api('GET', all, token)).map((e) => e.root!.minDeltaTime)).toEqual([0, 15, 15, 0, 0, 0]);
  });
});

describe('devices: state, health and time zone from the stream', () => {
  it('shows deviceState / deviceHealth from registration and connectivity events, selectable on the {id} element', async () => {
    const { oemId, token } = await tenant('devices');
    const now = Date.now();
    await putEvents(kinesis, streamName, [
      datapointEvent(oemId, 'DEV-OK', 'nviPT'),
      datapointEvent(oemId, 'DEV-UNREG', 'nviPT'),
      datapointEvent(oemId, 'DEV-DOWN', 'nviPT'),
      registrationEvent(oemId, 'DEV-UNREG', false, now - 1000),
      connectivityEvent(oemId, 'DEV-DOWN', 'Online', now - 2000),
      connectivityEvent(oemId, 'DEV-DOWN', 'Offline', now - 1000),
      locationEvent(oemId, 'DEV-OK', { lat: '44.769500', long: '-69.428300' }),
    ]);
    const all = logsPath('*', '*', '*', '*');
    const entries = await eventually(async () => {
      const got = (await api('GET', all, token)).body;
      const byDevice = Object.fromEntries(got.map((e) => [e.deviceId, e]));
      return got.length === 3 && byDevice['DEV-UNREG']?.deviceState === 'unprovisioned' && byDevice['DEV-DOWN']?.deviceHealth === 'down' && byDevice['DEV-OK']?.local.endsWith('Etc/GMT+5')
        ? byDevice : undefined;
    }, 30_000, 'device state, health and time zone');
    expect(entries['DEV-OK']).toMatchObject({ deviceState: 'provisioned', deviceHealth: 'normal' });
    expect(entries['DEV-UNREG']).toMatchObject({ deviceState: 'unprovisioned', deviceHealth: 'normal', local: expect.stringMatching(UTC_FORMAT) });
    expect(entries['DEV-DOWN']).toMatchObject({ deviceState: 'provisioned', deviceHealth: 'down' });
    // A device without a known zone shows local as UTC; with a longitude, its nautical zone (UTC-5 here).
    const ok = entries['DEV-OK']!;
    expect(ok.local).toBe(formatLocal(Date.parse(`${ok.utc.slice(0, 23).replace(' ', 'T')}Z`), 'Etc/GMT+5'));

    const devicesAt = async (id: string) => expectOk(await api('GET', logsPath(id, '*', '*', '*'), token)).map((e) => e.deviceId);
    expect(await devicesAt('*+state==unprovisioned')).toEqual(['DEV-UNREG']);
    expect(await devicesAt('*+state==provisioned')).toEqual(['DEV-DOWN', 'DEV-OK']);
    expect(await devicesAt('*+health==down')).toEqual(['DEV-DOWN']);
    expect(await devicesAt('*+health!=down')).toEqual(['DEV-OK', 'DEV-UNREG']);
    expect(await devicesAt('*+health==normal&state==provisioned')).toEqual(['DEV-OK']);

    // A wildcard PUT on the down devices changes only them.
    expect(expectOk(await api('PUT', logsPath('*+health==down', '*', '*', '*', '3'), token, { retention: 30 })).map((e) => e.deviceId)).toEqual(['DEV-DOWN']);
    expect(expectOk(await api('GET', logsPath('*', '*', '*', '*+tag==log_level_3'), token)).map((e) => e.deviceId)).toEqual(['DEV-DOWN']);

    // Back online (a later event): health normal again; an older event changes nothing.
    await putEvents(kinesis, streamName, [connectivityEvent(oemId, 'DEV-DOWN', 'Online', Date.now()), connectivityEvent(oemId, 'DEV-DOWN', 'Offline', now - 5000)]);
    await eventually(async () => ((await devicesAt('*+health==down')).length === 0 ? true : undefined), 30_000, 'DEV-DOWN back online');
    expect(await devicesAt('*+health==normal')).toEqual(['DEV-DOWN', 'DEV-OK', 'DEV-UNREG']);
  });
});

describe('literal paths', () => {
  it('answers GET and DELETE of an unknown datapoint with 404 {code, message}; PUT registers it, then GET and the wildcards find it', async () => {
    const { token } = await tenant('literal');
    const at = (setting?: string) => logsPath('NEWDEV01', 'Lamp', '3', 'nviValue', setting);
    for (const setting of [undefined, '1', '2', '3', 'minDeltaValue', 'minDeltaTime']) {
      const body = expectError(await api('GET', at(setting), token), 404, 'NoSuchDatapoint');
      expect(body.message).toContain('NEWDEV01');
    }
    for (const setting of ['1', 'minDeltaValue', 'minDeltaTime']) expectError(await api('DELETE', at(setting), token), 404, 'NoSuchDatapoint');
    // Nothing was registered by those.
    expect(expectOk(await api('GET', logsPath('*', '*', '*', '*'), token))).toEqual([]);

    expect(expectOk(await api('PUT', at('minDeltaTime'), token, 60))).toEqual([expect.objectContaining({ deviceId: 'NEWDEV01', blockName: 'Lamp', blockIndex: '3', datapointName: 'nviValue', minDeltaTime: 60 })]);
    expect(expectOk(await api('GET', at(), token))).toEqual([expect.objectContaining({ root: { ...DEFAULT_ROOT, minDeltaTime: 60 } })]);
    expect(positions(expectOk(await api('GET', logsPath('*', '*', '*', '*'), token)))).toEqual(['NEWDEV01/Lamp/3/nviValue']);
    // A second PUT on the same literal path registers nothing new.
    expectOk(await api('PUT', at('1'), token, { retention: 1 }));
    expect(expectOk(await api('GET', logsPath('*', '*', '*', '*'), token))).toHaveLength(1);
    // DELETE on the registered datapoint works now.
    expect(expectOk(await api('DELETE', at('minDeltaTime'), token))).toEqual([expect.objectContaining({ minDeltaTime: 0 })]);
  });

  it('keeps names with # and spaces exact: a literal never matches a longer or escaped name', async () => {
    const { token } = await tenant('escape');
    expectOk(await api('PUT', logsPath('D1', 'device', '0', 'a%23b', '1'), token, { retention: 1 }));
    expectOk(await api('PUT', logsPath('D1', 'device', '0', 'a', '1'), token, { retention: 2 }));
    expectOk(await api('PUT', logsPath('D1', 'my%20block', '0', 'x', '1'), token, { retention: 3 }));
    expectOk(await api('PUT', logsPath('D10', 'device', '0', 'a', '1'), token, { retention: 4 }));
    expect(positions(expectOk(await api('GET', logsPath('*', '*', '*', '*'), token)))).toEqual(['D1/device/0/a', 'D1/device/0/a#b', 'D1/my block/0/x', 'D10/device/0/a']);
    expect(expectOk(await api('GET', logsPath('D1', 'device', '0', 'a%23b', '1'), token)).map((e) => [e.datapointName, e.level1!.retention])).toEqual([['a#b', 1]]);
    expect(expectOk(await api('GET', logsPath('D1', 'device', '0', 'a', '1'), token)).map((e) => [e.datapointName, e.level1!.retention])).toEqual([['a', 2]]);
    expect(positions(expectOk(await api('GET', logsPath('D1', '*', '*', '*'), token)))).toEqual(['D1/device/0/a', 'D1/device/0/a#b', 'D1/my block/0/x']);
    expect(positions(expectOk(await api('GET', logsPath('*', '*', '*', '*+name==a'), token)))).toEqual(['D1/device/0/a', 'D10/device/0/a']);
    expect(positions(expectOk(await api('GET', logsPath('*', 'my%20block', '*', '*'), token)))).toEqual(['D1/my block/0/x']);
  });
});

describe('paging', () => {
  it('pages with ?pg=&sz= as {snapshot, resources, remainingPages}; xs keeps the snapshot while datapoints are added', async () => {
    const { token } = await tenant('paging');
    for (const name of ['a', 'b', 'c', 'd', 'e']) expectOk(await api('PUT', logsPath('P1', 'device', '0', name, '1'), token, { retention: 1 }));
    const path = logsPath('*', '*', '*', '*');
    type Page = { snapshot: number; resources: Entry[]; remainingPages: number };

    const first = expectOk(await api<Page>('GET', `${path}?pg=0&sz=2`, token));
    expect(Object.keys(first).sort()).toEqual(['remainingPages', 'resources', 'snapshot']);
    expect(first).toEqual({ snapshot: expect.any(Number), resources: [expect.objectContaining({ datapointName: 'a', root: expect.any(Object) }), expect.objectContaining({ datapointName: 'b' })], remainingPages: 2 });

    // A datapoint added after the snapshot is left out of pages asked with xs=<snapshot>.
    await new Promise((r) => setTimeout(r, 5));
    expectOk(await api('PUT', logsPath('P1', 'device', '0', 'aa', '1'), token, { retention: 1 }));
    const second = expectOk(await api<Page>('GET', `${path}?pg=1&sz=2&xs=${first.snapshot}`, token));
    expect(second).toEqual({ snapshot: first.snapshot, resources: [expect.objectContaining({ datapointName: 'c' }), expect.objectContaining({ datapointName: 'd' })], remainingPages: 1 });
    const third = expectOk(await api<Page>('GET', `${path}?pg=2&sz=2&xs=${first.snapshot}`, token));
    expect(third).toEqual({ snapshot: first.snapshot, resources: [expect.objectContaining({ datapointName: 'e' })], remainingPages: 0 });
    expect(expectOk(await api<Page>('GET', `${path}?pg=3&sz=2&xs=${first.snapshot}`, token))).toEqual({ snapshot: first.snapshot, resources: [], remainingPages: 0 });

    // Without xs, a new snapshot: the new datapoint is in.
    const fresh = expectOk(await api<Page>('GET', `${path}?pg=0&sz=2`, token));
    expect(fresh.snapshot).toBeGreaterThan(first.snapshot);
    expect(fresh.resources.map((e) => e.datapointName)).toEqual(['a', 'aa']);
    expect(fresh.remainingPages).toBe(2);
    // sz defaults to 50 when pg is given; a setting route pages too.
    expect(expectOk(await api<Page>('GET', `${logsPath('*', '*', '*', '*', 'minDeltaValue')}?pg=0`, token))).toEqual({
      snapshot: expect.any(Number), resources: Array(6).fill(expect.objectContaining({ minDeltaValue: 'ANY' })), remainingPages: 0,
    });
  });

  it.each([
    ['sz without pg', '?sz=2'],
    ['xs without pg', '?xs=123'],
    ['a page that is no number', '?pg=first'],
    ['a negative page', '?pg=-1'],
    ['a page size of 0', '?pg=0&sz=0'],
    ['a page size over 1000', '?pg=0&sz=1001'],
    ['a snapshot that is no snapshot', '?pg=0&xs=yesterday'],
    ['an unknown parameter', '?pg=0&filter=x'],
    ['an unknown parameter alone', '?limit=5'],
  ])('answers 400 BadQuery for %s', async (_what, query) => {
    const { token } = await tenant('badpage');
    expectError(await api('GET', `${logsPath('*', '*', '*', '*')}${query}`, token), 400, 'BadQuery');
  });
});

describe('validation: a client\'s mistake is a 4xx with {code, message}, never a change', () => {
  let token: string;
  const at = (setting?: string) => logsPath('V1', 'device', '0', 'nviPT', setting);

  beforeAll(async () => {
    token = (await tenant('validate')).token;
    expectOk(await api('PUT', at('1'), token, { interval: 60, retention: 2 }));
  });

  it.each([
    ['a negative interval', '1', { interval: -1 }],
    ['a fractional interval', '2', { interval: 1.5 }],
    ['an interval over 366 days', '3', { interval: 366 * 86400 + 1 }],
    ['a negative retention', '1', { retention: -1 }],
    ['an unknown level field', '1', { interval: 60, period: 5 }],
    ['an empty level body', '1', {}],
    ['a level body that is no object', '1', 60],
    ['a fractional logMultiple', '1', { logMultiple: 0.5 }],
    ['a minDeltaValue that is no value', 'minDeltaValue', '"never"'],
    ['a negative minDeltaValue', 'minDeltaValue', -3],
    ['a bad wrapped minDeltaValue', 'minDeltaValue', { minDeltaValue: 'sometimes' }],
    ['a negative minDeltaTime', 'minDeltaTime', -1],
    ['a minDeltaTime that is no number', 'minDeltaTime', '"soon"'],
    ['a root with an unknown key', undefined, { level4: { interval: 1 } }],
    ['a root that sets nothing', undefined, { root: {} }],
    ['a root with a bad level', undefined, { root: { level1: { retention: 'long' } } }],
    ['a body that is not JSON', '1', '{interval: 60'],
    ['an unquoted word', 'minDeltaValue', 'always'],
    ['an empty body', '1', ''],
  ])('PUT with %s → 400 BadBody, the configuration unchanged', async (_what, setting, body) => {
    expectError(await api('PUT', at(setting), token, body), 400, 'BadBody');
    // The same body on a wildcard path: refused before anything is selected or changed.
    expectError(await api('PUT', logsPath('*', '*', '*', '*', setting), token, body), 400, 'BadBody');
    expect(expectOk(await api('GET', at(), token))[0]!.root).toEqual({ ...DEFAULT_ROOT, level1: { interval: 60, retention: 2, logMultiple: null } });
  });

  it('refuses a PUT without a body, and a body on an unknown literal path registers nothing', async () => {
    expectError(await api('PUT', at('1'), token), 400, 'BadBody');
    expectError(await api('PUT', logsPath('V2', 'device', '0', 'nviPT', '1'), token, { interval: -5 }), 400, 'BadBody');
    expectError(await api('GET', logsPath('V2', 'device', '0', 'nviPT'), token), 404, 'NoSuchDatapoint');
  });

  it.each([['4'], ['0'], ['level4'], ['value'], ['minDelta'], ['interval']])('answers 404 NoSuchSetting for …/logs/%s, whatever the method', async (setting) => {
    for (const method of ['GET', 'DELETE']) expectError(await api(method, at(setting), token), 404, 'NoSuchSetting');
    expectError(await api('PUT', at(setting), token, { retention: 1 }), 404, 'NoSuchSetting');
  });

  it.each([
    ['an unknown operator', logsPath('*', '*', '*', '*+name=~nviPT')],
    ['an unknown key', logsPath('*', '*', '*', '*+colour==red')],
    ['a key of another element', logsPath('*+tag==log_level_1', '*', '*', '*')],
    ['a condition without a value', logsPath('*', '*', '*', '*+name==')],
    ['a bad regex', logsPath('*', '*', '*', '*+name=+(nvo')],
    ['an operator the key does not take', logsPath('*', '*', '*', '*+tag<log_level_1')],
    ['a literal starting with *', logsPath('*x', '*', '*', '*')],
    ['a non-numeric block index', logsPath('V1', 'device', 'abc', 'nviPT')],
    ['a negative block index', logsPath('V1', 'device', '-1', 'nviPT')],
    ['a timestamp condition (it selects logged values, not configurations)', logsPath('*', '*', '*', '*+name==nviPT&timestamp=>2022-03-29T00:00Z')],
    ['a utc condition', logsPath('V1', '*', '*', '*+utc<2022-03-29T00:00Z')],
    ['a malformed percent escape (%25 reaches the handler as a lone %)', logsPath('V1%25zz', 'device', '0', 'nviPT')],
  ])('answers 400 BadPath for %s, on every method', async (_what, path) => {
    for (const setting of [undefined, '1']) {
      expectError(await api('GET', path + (setting ? `/${setting}` : ''), token), 400, 'BadPath');
    }
    expectError(await api('PUT', `${path}/1`, token, { retention: 1 }), 400, 'BadPath');
    expectError(await api('DELETE', `${path}/minDeltaTime`, token), 400, 'BadPath');
  });

  it('names the element and the problem in the message', async () => {
    const { message } = expectError(await api('GET', logsPath('*', '*', '*', '*+name=~nviPT'), token), 400, 'BadPath');
    expect(message).toMatch(/datapoint_name/);
    expect(message).toMatch(/operator/);
    expect(expectError(await api('GET', logsPath('V1', 'device', 'abc', 'nviPT'), token), 400, 'BadPath').message).toMatch(/block_index/);
  });

  it.each([['PUT', '1', { retention: 1 }], ['PUT', undefined, { level1: { retention: 1 } }], ['DELETE', '1', undefined], ['DELETE', 'minDeltaValue', undefined]])(
    'answers %s …/logs/%s with query parameters 400 BadQuery, unchanged',
    async (method, setting, body) => {
      for (const query of ['?pg=0', '?sz=2', '?x=1']) expectError(await api(method, `${at(setting)}${query}`, token, body), 400, 'BadQuery');
      expect(expectOk(await api('GET', at(), token))[0]!.root!.level1).toEqual({ interval: 60, retention: 2, logMultiple: null });
    },
  );

  it('never answers a 5xx for odd but well-formed input', async () => {
    for (const [path, body] of [
      [at('1'), { interval: 1e308 }],
      [at('minDeltaValue'), '1e999'],
      [at(), { root: { root: { level1: {} } } }],
      [at(), [1, 2]],
      [at('minDeltaTime'), 'null'],
      [logsPath('*', '*', '*', `*+name==${'x'.repeat(300)}`), { retention: 1 }],
      [logsPath('x'.repeat(2000), 'device', '0', 'nviPT', '1'), { retention: 1 }],
    ] as const) {
      const reply = await api('PUT', path, token, body);
      const status = reply.status >= 400 && reply.status < 500 ? '4xx' : reply.status;
      expect({ path: path.slice(0, 80), status }).toEqual({ path: path.slice(0, 80), status: '4xx' });
    }
  });
});

// Regression tests: numbers DynamoDB cannot store got a 500 (its ValidationException), a body with a 7 MB
// unknown field name a message repeating it whole, and {"minDeltaValue": 1, "pad": <9 MB>} a 200.
describe('bodies a client gets wrong in size or range: 4xx, never a 5xx or a change', () => {
  let token: string;
  const at = (setting?: string) => logsPath('B1', 'device', '0', 'nviPT', setting);
  const unchanged = async () => expect(expectOk(await api('GET', at(), token))[0]!.root).toEqual({ ...DEFAULT_ROOT, level1: { interval: 60, retention: 2, logMultiple: null } });

  beforeAll(async () => {
    token = (await tenant('bodies')).token;
    expectOk(await api('PUT', at('1'), token, { interval: 60, retention: 2 }));
  });

  it.each([
    ['a level\'s retention of 1e-131', '2', '{"retention": 1e-131}', /retention/],
    ['a level\'s retention of 5e-324', '1', '{"retention": 5e-324}', /retention/],
    ['a root level retention of 1e-131', undefined, '{"level3": {"retention": 1e-131}}', /level3\.retention/],
    ['a root minDeltaTime of 1e-200', undefined, '{"root": {"minDeltaTime": 1e-200}}', /minDeltaTime/],
    ['a root minDeltaValue of -1e-131', undefined, '{"minDeltaValue": -1e-131}', /minDeltaValue/],
    ['a minDeltaValue of 1e-131', 'minDeltaValue', '1e-131', /minDeltaValue/],
    ['a wrapped minDeltaValue of 5e-324', 'minDeltaValue', '{"minDeltaValue": 5e-324}', /minDeltaValue/],
    ['a minDeltaTime of 1e-131', 'minDeltaTime', '1e-131', /minDeltaTime/],
    ['a minDeltaValue of 1e400', 'minDeltaValue', '1e400', /minDeltaValue/],
    ['a retention of 1e126', '1', '{"retention": 1e126}', /retention/],
    ['a 39-digit minDeltaValue', 'minDeltaValue', '123456789012345678901234567890123456789', /minDeltaValue/],
    ['a wrapped minDeltaValue beside an unknown field', 'minDeltaValue', '{"minDeltaValue": 1, "pad": "x"}', /"pad"/],
    ['a wrapped minDeltaTime beside an unknown field', 'minDeltaTime', '{"minDeltaTime": 1, "pad": 1}', /"pad"/],
    ['a wrapped root beside an unknown field', undefined, '{"root": {"minDeltaTime": 1}, "pad": 1}', /"pad"/],
  ])('PUT with %s → 400 BadBody naming the field, unchanged', async (_what, setting, body, field) => {
    const { message } = expectError(await api('PUT', at(setting), token, body), 400, 'BadBody');
    expect(message).toMatch(field);
    await unchanged();
  });

  it('quotes a long unknown field name in a short message', async () => {
    const name = 'k'.repeat(60_000);
    for (const [setting, body] of [['1', { [name]: 1 }], [undefined, { [name]: 1 }], ['minDeltaValue', { minDeltaValue: 1, [name]: 1 }]] as const) {
      const reply = await api('PUT', at(setting), token, body);
      expect(expectError(reply, 400, 'BadBody').message.length).toBeLessThan(400);
    }
    await unchanged();
  });

  it('answers a body over 64 KB with 413 BodyTooLarge as JSON: a 7 MB field name, a 9 MB padding beside a valid setting', async () => {
    for (const [setting, body] of [
      ['1', `{"${'k'.repeat(7 * 1024 * 1024)}": 1}`],
      ['minDeltaValue', `{"minDeltaValue": 1, "pad": "${'x'.repeat(9 * 1024 * 1024)}"}`],
      [undefined, `{"level1": {"retention": 1}, "pad": "${'x'.repeat(100 * 1024)}"}`],
    ] as const) {
      const reply = await api('PUT', at(setting), token, body);
      expect(reply.contentType).toMatch(/application\/json/);
      expect(expectError(reply, 413, 'BodyTooLarge').message.length).toBeLessThan(400);
    }
    await unchanged();
  });
});

describe('addresses at the limits', () => {
  it('refuses a literal block index with leading zeros with 400, and configures nothing', async () => {
    const { token } = await tenant('index01');
    expectError(await api('PUT', logsPath('P1', 'device', '01', 'x', '1'), token, { retention: 1 }), 400, 'BadPath');
    expectError(await api('GET', logsPath('P1', 'device', '1', 'x'), token), 404, 'NoSuchDatapoint');
  });

  it('answers a literal path whose key would exceed DynamoDB\'s key size with 400, on every method', async () => {
    const { token } = await tenant('longkey');
    const long = '%23'.repeat(256);
    expectError(await api('PUT', logsPath(long, long, '0', long, '1'), token, { retention: 1 }), 400, 'BadPath');
    expectError(await api('GET', logsPath(long, long, '0', long), token), 400, 'BadPath');
    expect(expectOk(await api('GET', logsPath('*', long, '*', '*'), token))).toEqual([]);
  });
});

describe('identity and tenancy', () => {
  const path = logsPath('*', '*', '*', '*');

  itWithForgedTokens('answers 401 without a token or with a bad one, on every method', async () => {
    const valid = await deployment.token({ oemId: uniqueOem('auth') });
    const tokens: Array<string | undefined> = [undefined, '', 'not-a-jwt', `${valid.slice(0, -4)}AAAA`, await deployment.token({ oemId: 'x', expiresInSeconds: -60 })];
    for (const token of tokens) {
      for (const [method, setting, body] of [['GET', undefined, undefined], ['PUT', undefined, { level1: { retention: 1 } }], ['GET', '1', undefined], ['PUT', 'minDeltaValue', 5], ['DELETE', '2', undefined]] as const) {
        const reply = await api(method, logsPath('D1', 'device', '0', 'nviPT', setting), token, body);
        expect({ token: token?.slice(-8), method, status: reply.status, body: reply.body }).toEqual({ token: token?.slice(-8), method, status: 401, body: { message: 'Unauthorized' } });
      }
    }
    expect((await api('GET', path, valid)).status).toBe(200);
  });

  itWithForgedTokens('answers 403 NoOem for a valid token without an OEM, on every method', async () => {
    // No OEM claim at all (undefined is left out of the token), or an empty one.
    for (const claims of [{ 'custom:oem_id': undefined }, { 'custom:oem_id': '' }, { 'custom:oem_id': '   ' }]) {
      const token = await deployment.token({ oemId: 'ignored', claims });
      expectError(await api('GET', path, token), 403, 'NoOem');
      expectError(await api('PUT', logsPath('D1', 'device', '0', 'nviPT', '1'), token, { retention: 1 }), 403, 'NoOem');
      expectError(await api('DELETE', logsPath('*', '*', '*', '*', '1'), token), 403, 'NoOem');
    }
  });

  it('keeps OEMs apart: B never sees or changes A\'s configuration, by literal path or wildcard', async () => {
    const a = await tenant('oem-a');
    const b = await tenant('oem-b');
    const shared = 'AC000W000123456'; // the same DSN in both OEMs' data
    await putEvents(kinesis, streamName, [
      datapointEvent(a.oemId, shared, 'nvoEnergy'),
      datapointEvent(a.oemId, 'A-ONLY', 'nvoEnergy'),
      datapointEvent(b.oemId, shared, 'nvoVoltage'),
      connectivityEvent(b.oemId, shared, 'Offline'),
    ]);
    await registered(a.token, path, 2);
    await eventually(async () => ((await api('GET', path, b.token)).body[0]?.deviceHealth === 'down' ? true : undefined), 30_000, 'B\'s device down');
    const aLiteral = (setting?: string) => logsPath(shared, 'device', '0', 'nvoEnergy', setting);
    expectOk(await api('PUT', aLiteral('1'), a.token, { interval: 60, retention: 7 }));
    const aBefore = expectOk(await api('GET', path, a.token));
    expect(positions(aBefore).sort()).toEqual(['A-ONLY/device/0/nvoEnergy', `${shared}/device/0/nvoEnergy`]);
    // B's connectivity event for the same DSN is not A's device's health.
    expect(aBefore.map((e) => e.deviceHealth)).toEqual(['normal', 'normal']);

    // B sees only its own, whatever the wildcard.
    expect(positions(expectOk(await api('GET', path, b.token)))).toEqual([`${shared}/device/0/nvoVoltage`]);
    expect(expectOk(await api('GET', logsPath('*', '*', '*', '*+name==nvoEnergy'), b.token))).toEqual([]);
    expect(expectOk(await api('GET', logsPath('*', '*', '*', '*+tag==log_level_1'), b.token))).toEqual([]);
    expect(expectOk(await api('GET', logsPath('A-ONLY', '*', '*', '*'), b.token))).toEqual([]);
    // A's literal paths are not B's: 404 on GET and DELETE.
    expectError(await api('GET', aLiteral(), b.token), 404, 'NoSuchDatapoint');
    expectError(await api('GET', aLiteral('1'), b.token), 404, 'NoSuchDatapoint');
    expectError(await api('DELETE', aLiteral('1'), b.token), 404, 'NoSuchDatapoint');
    expectError(await api('DELETE', logsPath('A-ONLY', 'device', '0', 'nvoEnergy', 'minDeltaTime'), b.token), 404, 'NoSuchDatapoint');

    // B's wildcard PUT and DELETE change only B's datapoints.
    expect(positions(expectOk(await api('PUT', logsPath('*', '*', '*', '*', '1'), b.token, { interval: 1, retention: 99 })))).toEqual([`${shared}/device/0/nvoVoltage`]);
    expect(positions(expectOk(await api('PUT', path, b.token, { minDeltaValue: 'always' })))).toEqual([`${shared}/device/0/nvoVoltage`]);
    expect(positions(expectOk(await api('DELETE', logsPath('*', '*', '*', '*', 'minDeltaTime'), b.token)))).toEqual([`${shared}/device/0/nvoVoltage`]);
    // A PUT by B on A's literal path makes B's own datapoint, not a change of A's.
    const bCopy = expectOk(await api('PUT', aLiteral('1'), b.token, { retention: 55 }));
    expect(bCopy).toEqual([expect.objectContaining({ deviceId: shared, datapointName: 'nvoEnergy', level1: { interval: 0, retention: 55, logMultiple: null }, deviceHealth: 'down' })]);

    const aAfter = expectOk(await api('GET', path, a.token));
    expect(aAfter).toEqual(aBefore);
    expect(aAfter.find((e) => e.deviceId === shared)!.root).toEqual({ ...DEFAULT_ROOT, level1: { interval: 60, retention: 7, logMultiple: null } });
    expect(positions(expectOk(await api('GET', path, b.token)))).toEqual([`${shared}/device/0/nvoEnergy`, `${shared}/device/0/nvoVoltage`]);
  });
});
