import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ADMIN_GROUP, GROUPS_CLAIM, OEM_CLAIM } from '../../../../lambdas/shared/auth';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';

const ALGORITHM = 'ES256';

/** What `npm run token` needs to mint tokens the local API accepts; kept in `.local/issuer.json`. */
export interface IssuerFile {
  issuer: string;
  audience: string[];
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export interface TokenOptions {
  oemId: string;
  admin?: boolean;
  subject?: string;
  /** Lifetime in seconds (default one hour); negative makes an already expired token. */
  expiresInSeconds?: number;
  audience?: string;
  /** Extra or overriding claims. */
  claims?: Record<string, unknown>;
}


/**
 * Stands in for the Cognito user pool: signs ID tokens with the issuer and audience the template's
 * JWT authorizer expects, with a key that lives only under `.local/`.
 */
export class LocalIssuer {
  private constructor(readonly file: IssuerFile) {}

  /** Loads the key for this issuer from `file`, or creates one; the issuer/audience follow the template. */
  static async open(file: string, issuer: string, audience: string[]): Promise<LocalIssuer> {
    const existing = await readFile(file, 'utf8').then((s) => JSON.parse(s) as IssuerFile, () => undefined);
    if (existing?.privateJwk && existing.publicJwk) {
      const updated = { ...existing, issuer, audience };
      await writeFile(file, JSON.stringify(updated, null, 2), { mode: 0o600 });
      return new LocalIssuer(updated);
    }
    const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
    const kid = randomUUID();
    const created: IssuerFile = { issuer, audience, kid, privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(created, null, 2), { mode: 0o600 });
    return new LocalIssuer(created);
  }

  static async load(file: string): Promise<LocalIssuer> {
    return new LocalIssuer(JSON.parse(await readFile(file, 'utf8')) as IssuerFile);
  }

  async sign(options: TokenOptions): Promise<string> {
    const key = await importJWK(this.file.privateJwk, ALGORITHM);
    const now = Math.floor(Date.now() / 1000);
    const lifetime = options.expiresInSeconds ?? 3600;
    const subject = options.subject ?? randomUUID();
    return new SignJWT({
      token_use: 'id',
      auth_time: now,
      'cognito:username': subject,
      [OEM_CLAIM]: options.oemId,
      ...(options.admin ? { [GROUPS_CLAIM]: [ADMIN_GROUP] } : {}),
      ...options.claims,
    })
      .setProtectedHeader({ alg: ALGORITHM, kid: this.file.kid, typ: 'JWT' })
      .setIssuer(this.file.issuer)
      .setAudience(options.audience ?? this.file.audience[0] ?? 'local')
      .setSubject(subject)
      .setIssuedAt(lifetime < 0 ? now + lifetime - 60 : now)
      .setExpirationTime(now + lifetime)
      .setJti(randomUUID())
      .sign(key);
  }
}

/** The checks an API Gateway JWT authorizer makes: signature, issuer, audience (`aud` or `client_id`), time. */
export async function verifyJwt(token: string, publicJwk: JWK, issuer: string, audience: string[]): Promise<JWTPayload> {
  const key = await importJWK(publicJwk, ALGORITHM);
  const { payload } = await jwtVerify(token, key, { issuer, algorithms: [ALGORITHM] });
  const audiences = [payload.aud ?? [], payload.client_id ?? []].flat().map(String);
  if (!audiences.some((a) => audience.includes(a))) throw new Error('audience mismatch');
  return payload;
}
