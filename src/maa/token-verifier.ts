import { decodeJwt, decodeProtectedHeader, importJWK, importX509, jwtVerify, type JWTPayload, type KeyLike } from 'jose';
import { TokenInvalid } from '../errors';
import { httpRequestWithRetry, type RetryPolicy } from '../lib/http';
import { isLoopback } from '../lib/endpoint';

/**
 * Verifies attestation tokens the way a relying party must: the issuer is on an allow-list
 * (when one is configured), its keys come from its own OpenID discovery document, keys may be
 * x5c-only (as MAA publishes them, which jose's JWKS helpers refuse), only RS256/PS256 are
 * accepted, and exp/nbf are checked with a small skew.
 */
export type TokenAlgorithm = 'RS256' | 'PS256';

export interface TokenVerifierOptions {
  /** Issuers accepted; any issuer with an https discovery document when absent. */
  trustedIssuers?: string[];
  /** Extra CA certificates (PEM) for fetching discovery documents and keys. */
  ca?: string[];
  algorithms?: TokenAlgorithm[];
  clockToleranceSeconds?: number;
  /** How long discovery and JWKS documents are reused. */
  keyCacheMs?: number;
  timeoutMs?: number;
  retry?: RetryPolicy;
  now?: () => Date;
}

interface JwksEntry {
  kid?: string;
  kty?: string;
  n?: string;
  e?: string;
  x5c?: string[];
}

interface IssuerKeys {
  fetchedAt: number;
  keys: JwksEntry[];
}

export const trimSlash = (s: string) => s.replace(/\/+$/, '');

export class TokenVerifier {
  private readonly cache = new Map<string, IssuerKeys>();
  private readonly algorithms: TokenAlgorithm[];
  private readonly now: () => Date;

  constructor(private readonly options: TokenVerifierOptions = {}) {
    this.algorithms = options.algorithms ?? ['RS256', 'PS256'];
    this.now = options.now ?? (() => new Date());
  }

  async verify(token: string): Promise<JWTPayload> {
    if (typeof token !== 'string' || token.length > 64 * 1024 || token.split('.').length !== 3) throw new TokenInvalid('not a compact JWS');
    let alg: string | undefined;
    let kid: string | undefined;
    let iss: unknown;
    try {
      ({ alg, kid } = decodeProtectedHeader(token));
      iss = decodeJwt(token).iss;
    } catch {
      throw new TokenInvalid('the token cannot be decoded');
    }
    if (!alg || !(this.algorithms as string[]).includes(alg)) throw new TokenInvalid(`algorithm ${alg ?? 'none'} is not allowed`, { alg });
    if (typeof iss !== 'string') throw new TokenInvalid('the token has no issuer');
    const issuer = this.checkIssuer(iss);
    const key = await this.keyFor(issuer, kid, alg as TokenAlgorithm);
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: this.algorithms,
        clockTolerance: this.options.clockToleranceSeconds ?? 60,
        currentDate: this.now(),
      });
      if (trimSlash(String(payload.iss)) !== issuer) throw new TokenInvalid('issuer changed');
      return payload;
    } catch (error) {
      if (error instanceof TokenInvalid) throw error;
      const code = (error as { code?: string }).code;
      throw new TokenInvalid(code === 'ERR_JWT_EXPIRED' ? 'the token expired' : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' ? 'the token is not yet valid' : 'the token signature does not verify', {
        reason: code,
      });
    }
  }

  private checkIssuer(iss: string): string {
    const issuer = trimSlash(iss);
    const trusted = this.options.trustedIssuers?.map(trimSlash);
    if (trusted && !trusted.includes(issuer)) throw new TokenInvalid('the token issuer is not trusted', { issuer });
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw new TokenInvalid('the token issuer is not a URL');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
      throw new TokenInvalid('the token issuer must be https');
    }
    return issuer;
  }

  private async keyFor(issuer: string, kid: string | undefined, alg: TokenAlgorithm): Promise<KeyLike | Uint8Array> {
    let keys = await this.issuerKeys(issuer, false);
    let entry = keys.find((k) => k.kid === kid);
    if (!entry) {
      // An unknown kid may be a freshly rotated key: refetch once.
      keys = await this.issuerKeys(issuer, true);
      entry = keys.find((k) => k.kid === kid);
    }
    if (!entry) throw new TokenInvalid('the token key is not published by its issuer', { kid });
    try {
      if (entry.x5c?.[0]) {
        const pem = `-----BEGIN CERTIFICATE-----\n${entry.x5c[0].replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----`;
        return await importX509(pem, alg);
      }
      if (entry.kty === 'RSA' && entry.n && entry.e) return await importJWK({ kty: 'RSA', n: entry.n, e: entry.e }, alg);
    } catch {
      throw new TokenInvalid('the issuer published an unusable key', { kid });
    }
    throw new TokenInvalid('the issuer published a key that is neither x5c nor RSA', { kid });
  }

  private async issuerKeys(issuer: string, refresh: boolean): Promise<JwksEntry[]> {
    const cached = this.cache.get(issuer);
    const ttl = this.options.keyCacheMs ?? 10 * 60_000;
    if (cached && !refresh && this.now().getTime() - cached.fetchedAt < ttl) return cached.keys;
    const discovery = await this.getJson(`${issuer}/.well-known/openid-configuration`);
    const jwksUri = typeof discovery.jwks_uri === 'string' ? discovery.jwks_uri : undefined;
    // Keys must come from the issuer's own origin, never a URL an attacker-chosen document names elsewhere.
    if (!jwksUri || new URL(jwksUri).origin !== new URL(issuer).origin) throw new TokenInvalid('the issuer discovery document has no usable jwks_uri');
    const jwks = await this.getJson(jwksUri);
    if (!Array.isArray(jwks.keys)) throw new TokenInvalid('the issuer JWKS has no keys');
    const keys = jwks.keys as JwksEntry[];
    this.cache.set(issuer, { fetchedAt: this.now().getTime(), keys });
    return keys;
  }

  private async getJson(url: string): Promise<Record<string, unknown>> {
    let response;
    try {
      response = await httpRequestWithRetry(url, { ca: this.options.ca, timeoutMs: this.options.timeoutMs ?? 5_000, maxBodyBytes: 256 * 1024 }, this.options.retry);
    } catch (error) {
      throw new TokenInvalid(`the issuer's keys cannot be fetched: ${(error as Error).message}`);
    }
    if (response.status !== 200) throw new TokenInvalid(`the issuer's keys cannot be fetched: HTTP ${response.status}`);
    try {
      const doc = JSON.parse(response.body.toString('utf8')) as unknown;
      if (typeof doc !== 'object' || doc === null) throw new Error('not an object');
      return doc as Record<string, unknown>;
    } catch {
      throw new TokenInvalid('the issuer served a document that is not JSON');
    }
  }
}
