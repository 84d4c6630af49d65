import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import { LocalIssuer, verifyJwt, type IssuerFile } from '../../../../../infra/local-cloud/services/apigateway/local-issuer';

const ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local';
const AUDIENCE = ['client-a', 'client-b'];
const DAY = 24 * 3600;

let dir: string;
let issuer: LocalIssuer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'local-issuer-'));
  issuer = await LocalIssuer.open(path.join(dir, 'issuer.json'), ISSUER, AUDIENCE);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: JWTPayload = {}): JWTPayload => ({ iss: ISSUER, aud: 'client-a', sub: 'user', iat: now(), exp: now() + 3600, ...extra });

/** Signs `payload` exactly as given (no claim added) with the issuer's key; `header` overrides alg and kid (undefined drops it). */
async function signRaw(payload: JWTPayload, header: { alg?: string; kid?: string | undefined } = {}): Promise<string> {
  const alg = header.alg ?? (issuer.file.privateJwk.kty === 'RSA' ? 'RS256' : 'ES256');
  const kid = 'kid' in header ? header.kid : issuer.file.kid;
  return new SignJWT(payload).setProtectedHeader({ alg, ...(kid === undefined ? {} : { kid }) }).sign(await importJWK(issuer.file.privateJwk, alg));
}

const verify = (token: string) => verifyJwt(token, issuer.file.publicJwk, ISSUER, AUDIENCE);

describe('the local JWT authorizer check', () => {
  it('accepts a token that passes every check', async () => {
    await expect(verify(await signRaw(claims()))).resolves.toMatchObject({ sub: 'user' });
    await expect(verify(await issuer.sign({ oemId: 'oem-a' }))).resolves.toMatchObject({ 'custom:oem_id': 'oem-a' });
  });

  it('refuses a token without exp, or expired', async () => {
    const { exp: _exp, ...noExp } = claims();
    await expect(verify(await signRaw(noExp))).rejects.toThrow();
    await expect(verify(await signRaw(claims({ exp: now() - 1 })))).rejects.toThrow();
    await expect(verify(await signRaw(claims({ exp: 'tomorrow' as unknown as number })))).rejects.toThrow();
  });

  it('refuses a token issued, or not valid before, a day in the future', async () => {
    await expect(verify(await signRaw(claims({ iat: now() + DAY, exp: now() + 2 * DAY })))).rejects.toThrow();
    await expect(verify(await signRaw(claims({ nbf: now() + DAY, exp: now() + 2 * DAY })))).rejects.toThrow();
  });

  it('allows a few seconds of clock skew on iat and nbf', async () => {
    await expect(verify(await signRaw(claims({ iat: now() + 10, nbf: now() + 10 })))).resolves.toBeDefined();
  });

  it('requires the exact issuer', async () => {
    for (const iss of [`${ISSUER}/`, ISSUER.toUpperCase(), 'https://elsewhere.example', undefined]) {
      await expect(verify(await signRaw(claims({ iss })))).rejects.toThrow();
    }
  });

  it('checks aud against the audience list, and client_id only when there is no aud', async () => {
    await expect(verify(await signRaw(claims({ aud: 'client-b' })))).resolves.toBeDefined();
    await expect(verify(await signRaw(claims({ aud: ['other', 'client-b'] })))).resolves.toBeDefined();
    await expect(verify(await signRaw(claims({ aud: 'other' })))).rejects.toThrow();
    await expect(verify(await signRaw(claims({ aud: undefined, client_id: 'client-a', token_use: 'access' })))).resolves.toBeDefined();
    await expect(verify(await signRaw(claims({ aud: undefined, client_id: 'other' })))).rejects.toThrow();
    // API Gateway evaluates aud when both are present.
    await expect(verify(await signRaw(claims({ aud: 'other', client_id: 'client-a' })))).rejects.toThrow();
    await expect(verify(await signRaw(claims({ aud: undefined })))).rejects.toThrow();
  });

  it('requires a kid naming the issuer key', async () => {
    await expect(verify(await signRaw(claims(), { kid: undefined }))).rejects.toThrow();
    await expect(verify(await signRaw(claims(), { kid: 'some-other-key' }))).rejects.toThrow();
  });

  it('signs with RS256 (API Gateway supports RSA keys only) and refuses other algorithms', async () => {
    expect(issuer.file.publicJwk).toMatchObject({ kty: 'RSA', kid: issuer.file.kid, alg: 'RS256' });
    expect(decodeProtectedHeader(await issuer.sign({ oemId: 'oem-a' }))).toMatchObject({ alg: 'RS256', kid: issuer.file.kid });
    await expect(verify(await signRaw(claims(), { alg: 'RS512' }))).rejects.toThrow();
    await expect(verify(await signRaw(claims(), { alg: 'PS256' }))).rejects.toThrow();
  });

  it('replaces a key that API Gateway could not use (an elliptic-curve key of an older local cloud)', async () => {
    const file = path.join(dir, 'old-issuer.json');
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const old: IssuerFile = { issuer: ISSUER, audience: AUDIENCE, kid: 'old', privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
    await writeFile(file, JSON.stringify(old));
    const reopened = await LocalIssuer.open(file, ISSUER, AUDIENCE);
    expect(reopened.file.publicJwk.kty).toBe('RSA');
    expect((JSON.parse(await readFile(file, 'utf8')) as IssuerFile).kid).toBe(reopened.file.kid);
    // An RSA key is kept across starts: tokens minted before a restart stay valid.
    expect((await LocalIssuer.open(file, ISSUER, AUDIENCE)).file.kid).toBe(reopened.file.kid);
  });
});
