import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, importJWK, importX509, jwtVerify, type JWTPayload, type KeyLike } from 'jose';
import { TokenInvalid } from '../errors';
import { httpRequestWithRetry, type RetryPolicy } from '../lib/http';
import { isLoopback } from '../lib/endpoint';
import { BoundedMap } from '../lib/bounded-map';
import type { SigningKeyRing } from './signing-keys';

/**
 * Verifies attestation tokens and access tokens the way a relying party must: the issuer is on
 * an allow-list (when one is configured), its keys come from its own OpenID discovery document,
 * keys may be x5c-only (as MAA publishes them, which jose's JWKS helpers refuse), only
 * RS256/PS256 are accepted, `exp` and `iat` are required (MAA and Entra ID both set them), and
 * time claims are checked with a skew of CLOCK_SKEW_SECONDS.
 *
 * An unknown `kid` may be a freshly rotated key, but anyone can send one: the issuer's discovery
 * document and JWKS are fetched at most once per REFETCH_INTERVAL_MS per issuer, concurrent
 * fetches for one issuer are one fetch, and a kid still unknown within that interval is refused
 * without fetching. A fetch that fails (the issuer down, answering 5xx, or serving no usable
 * keys) is remembered as well: for REFETCH_INTERVAL_MS from its start every token needing that
 * issuer's keys is refused with the same reason, without fetching, so a struggling issuer gets
 * one fetch (with its retries) per interval however many tokens arrive.
 */
export type TokenAlgorithm = 'RS256' | 'PS256';

/**
 * How far the clocks of issuer and relying party may disagree: a token is accepted until
 * CLOCK_SKEW_SECONDS after its `exp` (exclusive), from CLOCK_SKEW_SECONDS before its `nbf`, and
 * its `iat` may be at most that far in the future.
 */
export const CLOCK_SKEW_SECONDS = 30;

/** An issuer's keys are fetched again for an unknown kid at most this often. */
export const REFETCH_INTERVAL_MS = 30_000;

/** Claims every token must carry. */
const REQUIRED_CLAIMS = ['exp', 'iat'];
/** Discovery documents and JWKS are a few KiB; the cap is tighter than the shared client's. */
const MAX_DOCUMENT_BYTES = 256 * 1024;

/**
 * An issuer whose signing-key ring this process holds (the identity endpoint of its state
 * directory, whose file every replica started with that directory shares): its tokens are
 * checked against the ring, never through discovery, so no URL (nor port) is involved.
 */
export interface KeyRingIssuer {
  issuer: string;
  ring: SigningKeyRing;
  /** How long the issuer's tokens live: a retired key verifies that long after its retirement. */
  tokenLifetimeMs: number;
}

export interface TokenVerifierOptions {
  /** Issuers accepted; any issuer with an https discovery document when absent. */
  trustedIssuers?: string[];
  /** Issuers accepted with the keys of their ring (besides `trustedIssuers`). */
  keyRingIssuers?: KeyRingIssuer[];
  /** Extra CA certificates (PEM) for fetching discovery documents and keys. */
  ca?: string[];
  algorithms?: TokenAlgorithm[];
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
  /** When the fetch that got these keys started; the next refetch for an unknown kid waits REFETCH_INTERVAL_MS from it. */
  fetchedAt: number;
  keys: JwksEntry[];
  /** Keys already imported, by algorithm and kid; dropped with the document they came from. */
  imported: Map<string, Promise<KeyLike | Uint8Array>>;
}

async function importPublishedKey(entry: JwksEntry, alg: TokenAlgorithm): Promise<KeyLike | Uint8Array> {
  try {
    if (entry.x5c?.[0]) {
      const pem = `-----BEGIN CERTIFICATE-----\n${entry.x5c[0].replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----`;
      return await importX509(pem, alg);
    }
    if (entry.kty === 'RSA' && entry.n && entry.e) return await importJWK({ kty: 'RSA', n: entry.n, e: entry.e }, alg);
  } catch {
    throw new TokenInvalid('the issuer published an unusable key', { kid: entry.kid });
  }
  throw new TokenInvalid('the issuer published a key that is neither x5c nor RSA', { kid: entry.kid });
}

interface FailedFetch {
  /** When the failed fetch started; the next fetch waits REFETCH_INTERVAL_MS from it. */
  startedAt: number;
  reason: string;
}

/** Issuers whose last fetch failed, remembered; bounded as issuers come from tokens. */
const MAX_FAILED_ISSUERS = 256;

interface VerifiedToken {
  payload: JWTPayload;
  verifiedAt: number;
  keepUntil: number;
}

/** Verified tokens remembered; the oldest is dropped past the bound. */
const MAX_VERIFIED_TOKENS = 4096;

const tokenId = (token: string) => createHash('sha256').update(token).digest('base64url');

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The claim a time or presence check failed on; none for a signature, format or algorithm failure. */
function failedClaim(error: unknown): string | undefined {
  return error instanceof errors.JWTExpired || error instanceof errors.JWTClaimValidationFailed ? error.claim : undefined;
}

function claimFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token expired';
  if (!(error instanceof errors.JWTClaimValidationFailed)) return 'the token signature does not verify';
  if (error.claim === 'nbf') return 'the token is not yet valid';
  return `the token's ${error.claim ?? 'time'} claim is missing or invalid`;
}

export const trimSlash = (s: string) => s.replace(/\/+$/, '');

export class TokenVerifier {
  private readonly cache = new Map<string, IssuerKeys>();
  /** The fetch under way for an issuer, which concurrent callers share. */
  private readonly fetching = new Map<string, Promise<IssuerKeys>>();
  private readonly failed = new BoundedMap<string, FailedFetch>(MAX_FAILED_ISSUERS);
  private readonly verified = new BoundedMap<string, VerifiedToken>(MAX_VERIFIED_TOKENS);
  private readonly algorithms: TokenAlgorithm[];
  private readonly now: () => Date;
  private readonly keyCacheMs: number;
  private readonly rings: Map<string, KeyRingIssuer>;

  constructor(private readonly options: TokenVerifierOptions = {}) {
    this.algorithms = options.algorithms ?? ['RS256', 'PS256'];
    this.rings = new Map((options.keyRingIssuers ?? []).map((r) => [trimSlash(r.issuer), r]));
    this.now = options.now ?? (() => new Date());
    this.keyCacheMs = options.keyCacheMs ?? 10 * 60_000;
  }

  /**
   * The token's verified claims. A token that verified is remembered (by its hash) until it
   * expires or its issuer's keys are due for a refetch, whichever is first: the same MAA token
   * and access token come with every release, and verifying costs more than the release itself.
   * The claims returned are frozen, as they are shared between callers.
   */
  async verify(token: string): Promise<JWTPayload> {
    if (typeof token !== 'string' || token.length > 64 * 1024 || token.split('.').length !== 3) throw new TokenInvalid('not a compact JWS');
    const id = tokenId(token);
    const now = this.now().getTime();
    const remembered = this.lookup(id, now);
    if (remembered) return remembered;
    const payload = deepFreeze(await this.verifyAfresh(token));
    const expiry = ((payload.exp as number) + CLOCK_SKEW_SECONDS) * 1000;
    this.verified.set(id, { payload, verifiedAt: now, keepUntil: Math.min(expiry, now + this.keyCacheMs) });
    return payload;
  }

  /** The claims of a token that verified and is still remembered; undefined otherwise (then call verify). */
  remembered(token: string): JWTPayload | undefined {
    if (typeof token !== 'string' || token.length > 64 * 1024) return undefined;
    return this.lookup(tokenId(token), this.now().getTime());
  }

  private lookup(id: string, now: number): JWTPayload | undefined {
    const hit = this.verified.get(id);
    return hit && hit.verifiedAt <= now && now < hit.keepUntil ? hit.payload : undefined;
  }

  private async verifyAfresh(token: string): Promise<JWTPayload> {
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
    const ring = this.rings.get(trimSlash(iss));
    const issuer = ring ? trimSlash(ring.issuer) : this.checkIssuer(iss);
    const key = ring ? await this.ringKey(ring, kid) : await this.keyFor(issuer, kid, alg as TokenAlgorithm);
    const now = this.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: this.algorithms,
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: now,
        requiredClaims: REQUIRED_CLAIMS,
      }));
    } catch (error) {
      const claim = failedClaim(error);
      throw new TokenInvalid(claimFailure(error), { reason: error instanceof errors.JOSEError ? error.code : undefined, ...(claim ? { claim } : {}) });
    }
    if (trimSlash(String(payload.iss)) !== issuer) throw new TokenInvalid('issuer changed');
    if ((payload.iat as number) > now.getTime() / 1000 + CLOCK_SKEW_SECONDS) throw new TokenInvalid('the token was issued in the future', { claim: 'iat' });
    return payload;
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

  private async ringKey(ring: KeyRingIssuer, kid: string | undefined): Promise<KeyLike> {
    const key = await ring.ring.verificationKey(kid, ring.tokenLifetimeMs, this.now().getTime());
    if (!key) throw new TokenInvalid('the token key is not published by its issuer', { kid });
    return key;
  }

  private async keyFor(issuer: string, kid: string | undefined, alg: TokenAlgorithm): Promise<KeyLike | Uint8Array> {
    let keys = await this.issuerKeys(issuer);
    let entry = keys.keys.find((k) => k.kid === kid);
    if (!entry && this.now().getTime() - keys.fetchedAt >= REFETCH_INTERVAL_MS) {
      // An unknown kid may be a freshly rotated key: refetch, unless the keys are that recent.
      keys = await this.fetchKeys(issuer);
      entry = keys.keys.find((k) => k.kid === kid);
    }
    if (!entry) throw new TokenInvalid('the token key is not published by its issuer', { kid });
    // Importing parses a certificate and costs more than verifying the signature: once per key.
    const slot = `${alg} ${kid ?? ''}`;
    let key = keys.imported.get(slot);
    if (!key) {
      key = importPublishedKey(entry, alg);
      keys.imported.set(slot, key);
      key.catch(() => keys.imported.delete(slot));
    }
    return key;
  }

  private async issuerKeys(issuer: string): Promise<IssuerKeys> {
    const cached = this.cache.get(issuer);
    if (cached && this.now().getTime() - cached.fetchedAt < this.keyCacheMs) return cached;
    return this.fetchKeys(issuer);
  }

  /**
   * One fetch per issuer at a time: callers arriving while it runs share its result. Within
   * REFETCH_INTERVAL_MS of a failed fetch, its failure is the answer.
   */
  private fetchKeys(issuer: string): Promise<IssuerKeys> {
    let fetch = this.fetching.get(issuer);
    if (fetch) return fetch;
    const startedAt = this.now().getTime();
    const failure = this.failed.get(issuer);
    if (failure && startedAt >= failure.startedAt && startedAt - failure.startedAt < REFETCH_INTERVAL_MS) {
      return Promise.reject(new TokenInvalid(failure.reason, { issuer, retryAfterSeconds: Math.ceil((failure.startedAt + REFETCH_INTERVAL_MS - startedAt) / 1000) }));
    }
    fetch = this.fetchKeysAfresh(issuer, startedAt)
      .then(
        (keys) => {
          this.failed.delete(issuer);
          return keys;
        },
        (error: unknown) => {
          const reason = error instanceof TokenInvalid ? error.message : "the issuer's keys cannot be fetched";
          this.failed.set(issuer, { startedAt, reason });
          throw error;
        },
      )
      .finally(() => this.fetching.delete(issuer));
    this.fetching.set(issuer, fetch);
    return fetch;
  }

  private async fetchKeysAfresh(issuer: string, startedAt: number): Promise<IssuerKeys> {
    const discovery = await this.getJson(`${issuer}/.well-known/openid-configuration`);
    const jwksUri = typeof discovery.jwks_uri === 'string' ? discovery.jwks_uri : undefined;
    // Keys must come from the issuer's own origin, never a URL an attacker-chosen document names elsewhere.
    if (!jwksUri || new URL(jwksUri).origin !== new URL(issuer).origin) throw new TokenInvalid('the issuer discovery document has no usable jwks_uri');
    const jwks = await this.getJson(jwksUri);
    if (!Array.isArray(jwks.keys)) throw new TokenInvalid('the issuer JWKS has no keys');
    const keys: IssuerKeys = { fetchedAt: startedAt, keys: jwks.keys as JwksEntry[], imported: new Map() };
    this.cache.set(issuer, keys);
    return keys;
  }

  private async getJson(url: string): Promise<Record<string, unknown>> {
    let response;
    try {
      response = await httpRequestWithRetry(url, { ca: this.options.ca, timeoutMs: this.options.timeoutMs, maxBodyBytes: MAX_DOCUMENT_BYTES }, this.options.retry);
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
