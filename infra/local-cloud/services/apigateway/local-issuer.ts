import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ADMIN_GROUP, GROUPS_CLAIM, OEM_CLAIM } from '../../../../lambdas/shared/auth';
import { decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { writeFileAtomic } from '../../aws-protocol/state-file';

/** API Gateway's JWT authorizers support RSA-based algorithms only; Cognito signs with RS256. */
const ALGORITHM = 'RS256';

/**
 * How far ahead of this clock `iat` and `nbf` may be. API Gateway's guide names no tolerance (see verifyJwt);
 * a minute accepts a token minted by a clock slightly ahead and still refuses one issued in the future.
 */
const CLOCK_SKEW_SECONDS = 60;

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
    // An older local cloud signed with an elliptic-curve key, which API Gateway would not accept: replaced.
    if (existing?.privateJwk?.kty === 'RSA' && existing.publicJwk?.kty === 'RSA' && existing.kid) {
      const updated = { ...existing, issuer, audience, publicJwk: publicKeyEntry(existing.publicJwk, existing.kid) };
      await writeFileAtomic(file, JSON.stringify(updated, null, 2), { mode: 0o600 });
      return new LocalIssuer(updated);
    }
    const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
    const kid = randomUUID();
    const created: IssuerFile = { issuer, audience, kid, privateJwk: await exportJWK(privateKey), publicJwk: publicKeyEntry(await exportJWK(publicKey), kid) };
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(created, null, 2), { mode: 0o600 });
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

/** The public key as the issuer's JWKS lists it: the authorizer finds it by `kid`. */
function publicKeyEntry(jwk: JWK, kid: string): JWK {
  return { ...jwk, kid, alg: ALGORITHM, use: 'sig' };
}

/** A token the authorizer refuses (401); the reason is for the local log only. */
export class TokenRejectedError extends Error {}

/**
 * The checks an API Gateway JWT authorizer makes, as the developer guide lists them
 * (docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html, "Authorizing API
 * requests with a JWT authorizer"): only RSA-based algorithms; `kid` must name a key of the issuer; `iss` must
 * match; `aud`, or `client_id` only when there is no `aud`, must be one of the audiences; `exp` after the
 * current time; `nbf` and `iat` before it (here with CLOCK_SKEW_SECONDS, as the guide gives no figure);
 * scopes are the route's to check. `exp` is required: a token that never expires is refused.
 */
export async function verifyJwt(token: string, publicJwk: JWK, issuer: string, audience: string[], now = new Date()): Promise<JWTPayload> {
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new TokenRejectedError('not a JWT');
  }
  if (header.alg !== ALGORITHM) throw new TokenRejectedError(`algorithm ${String(header.alg)} is not ${ALGORITHM}`);
  if (!header.kid || header.kid !== publicJwk.kid) throw new TokenRejectedError('no kid, or one the issuer does not list');
  const { payload } = await jwtVerify(token, await importJWK(publicJwk, ALGORITHM), {
    issuer,
    algorithms: [ALGORITHM],
    requiredClaims: ['exp'],
    clockTolerance: CLOCK_SKEW_SECONDS,
    currentDate: now,
  }).catch((error: Error) => {
    throw new TokenRejectedError(error.message);
  });
  const seconds = Math.floor(now.getTime() / 1000);
  // jose applies its tolerance to exp as well; the authorizer wants it strictly in the future.
  if (typeof payload.exp !== 'number' || payload.exp <= seconds) throw new TokenRejectedError('expired');
  if (payload.iat !== undefined && payload.iat > seconds + CLOCK_SKEW_SECONDS) throw new TokenRejectedError('issued in the future');
  // API Gateway reads client_id (access tokens) only when there is no aud.
  const audiences = payload.aud !== undefined ? [payload.aud].flat() : [payload.client_id];
  if (!audiences.some((a) => typeof a === 'string' && audience.includes(a))) throw new TokenRejectedError('audience not allowed');
  return payload;
}
