import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import { UpstreamFailed, UpstreamRejected, UpstreamTimedOut, UpstreamUnavailable } from '../errors';
import { normaliseEndpoint } from '../lib/endpoint';
import { httpRequestWithRetry, TransportError, type HttpResponse, type RetryPolicy } from '../lib/http';
import { encodeAttestRequest, type AttestRequest } from './request';
import type { TokenVerifier } from '../oidc';

/**
 * Calls an MAA-compatible verifier as Microsoft's sidecar does (works against real MAA and
 * against skr's), verifies the token it gets, and caches tokens per endpoint and runtime data.
 */
export interface MaaClientOptions {
  verifier: TokenVerifier;
  /** Extra CA certificates (PEM) for the verifier's HTTPS. */
  ca?: string[];
  timeoutMs?: number;
  retry?: RetryPolicy;
  apiVersion?: string;
  /** A cached token is reused until this long before its exp. */
  refreshMarginSeconds?: number;
  /** False: every attest call gets a new token (`freshPerRelease`). */
  cacheTokens?: boolean;
  now?: () => Date;
}

/** What the client needs from the attester once it knows the exact runtime-data bytes. */
export type EvidenceSource = (runtimeData: Buffer) => Promise<Omit<AttestRequest, 'runtimeData' | 'initTimeData' | 'nonce'>>;

export interface AttestationToken {
  token: string;
  claims: JWTPayload;
}

interface Discovery {
  challengeEndpoint?: string;
  fetchedAt: number;
}

const MAX_CACHED_TOKENS = 256;

export class MaaClient {
  private readonly tokens = new Map<string, AttestationToken>();
  private readonly inflight = new Map<string, Promise<AttestationToken>>();
  private readonly discovery = new Map<string, Discovery>();
  private readonly now: () => Date;

  constructor(private readonly options: MaaClientOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * A verified token for `runtime` (a JSON object, e.g. the TEE key's JWKS). When the verifier
   * advertises a challenge endpoint, a fresh nonce is added to the runtime data first.
   */
  async attest(endpoint: string, runtime: Record<string, unknown>, evidence: EvidenceSource): Promise<AttestationToken> {
    const origin = normaliseEndpoint(endpoint, 'maa_endpoint');
    const key = `${origin} ${createHash('sha256').update(JSON.stringify(runtime)).digest('hex')}`;
    if (this.options.cacheTokens === false) return this.fetchToken(origin, runtime, evidence);
    const cached = this.tokens.get(key);
    if (cached && this.fresh(cached)) return cached;
    // Concurrent callers for the same key share one attestation.
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const run = this.fetchToken(origin, runtime, evidence).finally(() => this.inflight.delete(key));
    this.inflight.set(key, run);
    const token = await run;
    this.remember(key, token);
    return token;
  }

  private fresh(token: AttestationToken): boolean {
    const margin = (this.options.refreshMarginSeconds ?? 300) * 1000;
    return typeof token.claims.exp === 'number' && token.claims.exp * 1000 - margin > this.now().getTime();
  }

  /** Callers choose the runtime data of /attest/maa, so the cache is bounded: stale tokens go first, then the oldest. */
  private remember(key: string, token: AttestationToken): void {
    if (this.tokens.size >= MAX_CACHED_TOKENS) {
      for (const [k, t] of this.tokens) if (!this.fresh(t)) this.tokens.delete(k);
      if (this.tokens.size >= MAX_CACHED_TOKENS) this.tokens.delete(this.tokens.keys().next().value!);
    }
    this.tokens.set(key, token);
  }

  /** Forgets cached tokens (e.g. after the TEE key rotated). */
  clear(): void {
    this.tokens.clear();
  }

  private async fetchToken(origin: string, runtime: Record<string, unknown>, evidence: EvidenceSource): Promise<AttestationToken> {
    const nonce = await this.challenge(origin);
    const runtimeData = Buffer.from(JSON.stringify(nonce ? { ...runtime, nonce } : runtime));
    const parts = await evidence(runtimeData);
    const body = encodeAttestRequest({ ...parts, runtimeData: { data: runtimeData, dataType: 'JSON' } });
    const url = `${origin}/attest/SevSnpVm?api-version=${this.options.apiVersion ?? '2022-08-01'}`;
    const response = await this.send(url, { method: 'POST', body: JSON.stringify(body) });
    let token: unknown;
    try {
      token = (JSON.parse(response.body.toString('utf8')) as { token?: unknown }).token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token.length === 0) throw new UpstreamFailed('verifier', 'the response carries no token');
    let claims: JWTPayload;
    try {
      claims = await this.options.verifier.verify(token);
    } catch (error) {
      // A token that does not verify is the verifier's failure, not the caller's: never a 401.
      throw new UpstreamFailed('verifier', `its token was refused: ${error instanceof Error ? error.message : 'invalid'}`);
    }
    return { token, claims };
  }

  /** A nonce from the verifier's challenge endpoint, if its discovery document names one. */
  private async challenge(origin: string): Promise<string | undefined> {
    let doc = this.discovery.get(origin);
    if (!doc || this.now().getTime() - doc.fetchedAt > 10 * 60_000) {
      doc = { fetchedAt: this.now().getTime() };
      try {
        const response = await this.send(`${origin}/.well-known/openid-configuration`, { method: 'GET' });
        const endpoint = (JSON.parse(response.body.toString('utf8')) as { challenge_endpoint?: unknown }).challenge_endpoint;
        if (typeof endpoint === 'string' && new URL(endpoint).origin === origin) doc.challengeEndpoint = endpoint;
      } catch (error) {
        // Real MAA has a discovery document without a challenge endpoint; a verifier without
        // discovery simply gets no nonce. Only transport failures are worth surfacing.
        if (error instanceof UpstreamUnavailable) throw error;
      }
      this.discovery.set(origin, doc);
    }
    if (!doc.challengeEndpoint) return undefined;
    const response = await this.send(doc.challengeEndpoint, { method: 'POST', body: '{}' });
    const nonce = (JSON.parse(response.body.toString('utf8')) as { nonce?: unknown }).nonce;
    if (typeof nonce !== 'string') throw new UpstreamFailed('verifier', 'the challenge response carries no nonce');
    return nonce;
  }

  private async send(url: string, request: { method: 'GET' | 'POST'; body?: string }): Promise<HttpResponse> {
    let response: HttpResponse;
    try {
      response = await httpRequestWithRetry(
        url,
        { ...request, headers: { 'content-type': 'application/json', 'user-agent': 'skr' }, ca: this.options.ca, timeoutMs: this.options.timeoutMs },
        this.options.retry,
      );
    } catch (error) {
      if (error instanceof TransportError) throw error.timedOut ? new UpstreamTimedOut('verifier', error.message) : new UpstreamFailed('verifier', error.message);
      throw error;
    }
    if (response.status === 200) return response;
    let code: string | undefined;
    let message = `HTTP ${response.status}`;
    try {
      const err = (JSON.parse(response.body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } }).error;
      if (typeof err?.code === 'string') code = err.code.slice(0, 100);
      if (typeof err?.message === 'string') message = err.message.slice(0, 500);
    } catch {
      // a non-JSON error body is summarised by its status alone
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      throw new UpstreamFailed('verifier', `${message} (after retries)`, { upstreamStatus: response.status, upstreamCode: code });
    }
    throw new UpstreamRejected('verifier', response.status, code, message);
  }
}
