import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidRequest, KbsAttestationRefused, KbsResourceNotFound, KbsSessionMissing, KbsTokenMissing, RequestsThrottled, SkrError } from '../errors';
import type { RefusalGate } from '../lib/refusal-gate';
import type { EvidenceAppraiser } from './appraiser';
import type { AuditEntry, AuditLog } from './audit';
import type { ResourceBackend } from './backends';
import { encryptToTee, type FlattenedJwe } from './jwe';
import { parseAttestationRequest, parseAuthRequest, type Challenge } from './protocol';
import { expectedReportData } from './report-data';
import { formatResourcePath, type ResourcePath } from './resource-path';
import type { ResourcePolicies } from './resource-policies';
import type { KbsSession, SessionStore } from './sessions';
import { sourceKey } from './rate-limit';
import { parseSnpEvidence } from './snp-evidence';
import { issueKbsToken, verifyKbsToken } from './token';
import type { TokenKey } from './token-key';

/**
 * The key broker's operations, knowing nothing of HTTP: the RCAR handshake (auth, attest), the
 * resource release (token → resource policy → backend → JWE to the TEE key) and the admin
 * changes. Every refusal is an SkrError; src/kbs/error-body.ts renders it for the wire.
 * Refusals are audited through the per-caller gate (`refused`); allowed releases and admin
 * changes always one by one.
 */
export interface BrokerOptions {
  issuer: string;
  tokenKey: TokenKey;
  sessions: SessionStore;
  appraiser: EvidenceAppraiser;
  policies: ResourcePolicies;
  backend: ResourceBackend;
  audit: AuditLog;
  /** Which refused requests are audited one by one, counted, or throttled (429), per caller. */
  refusals: RefusalGate;
  now: () => Date;
  /** Cookie and session lifetime, fixed at /auth (trustee: 5 minutes). */
  sessionTtlSeconds: number;
  /** Token lifetime (trustee's duration_min: 5 minutes). */
  tokenLifetimeSeconds: number;
}

/** How a resource request authenticates: the session cookie, a bearer token, or both. */
export interface ResourceCredentials {
  sessionId?: string;
  bearer?: string;
  source?: string;
}

export class KeyBroker {
  constructor(readonly options: BrokerOptions) {}

  /** `POST /kbs/v0/auth`: a fresh session and its challenge. Only SEV-SNP is appraised here. */
  async auth(body: unknown): Promise<{ challenge: Challenge; session: KbsSession }> {
    const request = parseAuthRequest(body);
    if (request.tee !== 'snp') throw new KbsAttestationRefused('tee_unsupported', `RCAR handshake Auth failed: this KBS appraises tee "snp" only, not "${request.tee}"`);
    const session: KbsSession = {
      id: randomUUID().replaceAll('-', ''),
      nonce: randomBytes(32).toString('base64'),
      tee: request.tee,
      expiresAt: this.options.now().getTime() + this.options.sessionTtlSeconds * 1000,
      state: 'authed',
    };
    await this.options.sessions.create(session);
    return { challenge: { nonce: session.nonce, 'extra-params': '' }, session };
  }

  /**
   * `POST /kbs/v0/attest`. The session's nonce is spent before the evidence is appraised, so it
   * is appraised at most once: a second /attest on the same session is refused (trustee hands
   * back the stored token; skr treats it as the replay it is), and a failed attestation ends the
   * session. The REPORT_DATA expected is rebuilt from the session's nonce and the parsed key.
   */
  async attest(sessionId: string | undefined, body: unknown, source?: string): Promise<{ token: string; session: KbsSession }> {
    try {
      return await this.appraise(sessionId, body);
    } catch (error) {
      return this.refused({ action: 'attest', outcome: 'denied', source }, error);
    }
  }

  private async appraise(sessionId: string | undefined, body: unknown): Promise<{ token: string; session: KbsSession }> {
    if (!sessionId) throw new KbsSessionMissing('no_cookie');
    const request = parseAttestationRequest(body);
    if (request.initData !== null) throw new InvalidRequest('init-data is not appraised by this KBS; send null', { field: 'init-data' });
    const { sessions } = this.options;
    const session = await sessions.spend(sessionId, this.options.now().getTime());
    if (!session) throw new KbsSessionMissing('unknown_or_expired');
    if (session.state !== 'authed') throw new KbsSessionMissing('already_attested');
    try {
      if (request.runtimeData.nonce !== session.nonce) throw new KbsSessionMissing('nonce_mismatch');
      const { evidence } = parseSnpEvidence(request.primaryEvidence);
      const reportData = expectedReportData(session.nonce, request.runtimeData.teePubkey, request.additionalEvidence);
      const snpClaims = await this.options.appraiser.appraise(evidence, reportData);
      const token = await issueKbsToken(
        {
          issuer: this.options.issuer,
          lifetimeSeconds: this.options.tokenLifetimeSeconds,
          now: this.options.now(),
          snpClaims,
          reportData,
          nonce: session.nonce,
          teePubkey: request.runtimeData.teePubkey,
          additionalEvidence: request.additionalEvidence,
        },
        this.options.tokenKey,
      );
      await sessions.attested(session.id, token);
      return { token, session: { ...session, state: 'attested', token } };
    } catch (error) {
      await sessions.delete(session.id);
      throw error;
    }
  }

  /** `GET /kbs/v0/resource/{repo}/{type}/{tag}`: the resource as a JWE to the attested TEE's key. */
  async resource(path: ResourcePath, credentials: ResourceCredentials): Promise<FlattenedJwe> {
    const { options } = this;
    const resource = formatResourcePath(path);
    const anonymous = { action: 'resource.get' as const, resource, source: credentials.source };
    let verified: Awaited<ReturnType<typeof verifyKbsToken>>;
    try {
      verified = await this.verifiedToken(credentials);
    } catch (error) {
      return this.refused({ ...anonymous, outcome: 'denied' }, error);
    }
    const { claims, teePubkey } = verified;
    const audit = { ...anonymous, principal: typeof claims.jti === 'string' ? `token:${claims.jti}` : undefined };
    try {
      options.policies.authorize(path, claims, options.issuer);
    } catch (error) {
      return this.refused({ ...audit, outcome: 'denied' }, error);
    }
    let bytes: Buffer | undefined;
    try {
      bytes = await options.backend.read(path);
      if (!bytes) throw new KbsResourceNotFound(resource);
    } catch (error) {
      // A release the policy allowed but the backend could not serve (a path no secret name holds, a vault down) is answered only once recorded.
      return this.refused({ ...audit, outcome: 'failed' }, error);
    }
    await options.audit.record({ ...audit, outcome: 'allowed' });
    return encryptToTee(bytes, teePubkey);
  }

  /** The verified token of a resource request: the attested session's, else the bearer. */
  private async verifiedToken(credentials: ResourceCredentials) {
    const { options } = this;
    const now = options.now();
    let token: string | undefined;
    if (credentials.sessionId) {
      const session = await options.sessions.get(credentials.sessionId, now.getTime());
      if (session?.state === 'attested') token = session.token;
    }
    token ??= credentials.bearer;
    if (!token) throw new KbsTokenMissing();
    return verifyKbsToken(token, options.tokenKey, options.issuer, now);
  }

  /**
   * Audits a refused request and rethrows its error. The caller (source address, by its /64 for
   * IPv6, and principal when known) passes the gate: within its bound the entry is stored one by
   * one; beyond it the refusal is counted (the count on disk before the answer); beyond its rate
   * it is counted as a 429 and answered RequestsThrottled with the seconds to wait.
   */
  async refused(entry: Omit<AuditEntry, 'code'>, error: unknown): Promise<never> {
    const status = error instanceof SkrError ? error.status : 500;
    const caller = { source: sourceKey(entry.source ?? 'unknown'), ...(entry.principal ? { principal: entry.principal } : {}) };
    const admission = this.options.refusals.admit(caller, Date.now());
    if (admission.kind === 'store') {
      await this.options.audit.record({ ...entry, code: error instanceof SkrError ? error.code : 'internal_error' });
      throw error;
    }
    await this.options.audit.count({ action: entry.action, ...admission.caller, status: admission.kind === 'throttle' ? 429 : status });
    throw admission.kind === 'throttle' ? new RequestsThrottled(admission.retryAfter) : error;
  }

  async setResource(path: ResourcePath, bytes: Buffer, principal: string): Promise<void> {
    const entry = { action: 'resource.set' as const, principal, resource: formatResourcePath(path) };
    try {
      await this.options.backend.write(path, bytes);
    } catch (error) {
      await this.options.audit.record({ ...entry, outcome: 'failed', code: error instanceof SkrError ? error.code : 'internal_error' });
      throw error;
    }
    await this.options.audit.record({ ...entry, outcome: 'done' });
  }

  async deleteResource(path: ResourcePath, principal: string): Promise<boolean> {
    const entry = { action: 'resource.delete' as const, principal, resource: formatResourcePath(path) };
    let removed: boolean;
    try {
      removed = await this.options.backend.remove(path);
    } catch (error) {
      await this.options.audit.record({ ...entry, outcome: 'failed', code: error instanceof SkrError ? error.code : 'internal_error' });
      throw error;
    }
    await this.options.audit.record({ ...entry, outcome: removed ? 'done' : 'failed' });
    return removed;
  }

  async setPolicy(prefix: string, document: unknown, principal: string): Promise<void> {
    await this.options.policies.set(prefix, document);
    await this.options.audit.record({ action: 'policy.set', outcome: 'done', principal, resource: prefix });
  }

  async deletePolicy(prefix: string, principal: string): Promise<boolean> {
    const removed = await this.options.policies.delete(prefix);
    await this.options.audit.record({ action: 'policy.delete', outcome: removed ? 'done' : 'failed', principal, resource: prefix });
    return removed;
  }
}
