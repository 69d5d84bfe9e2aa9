import { randomBytes, randomUUID } from 'node:crypto';
import { InvalidRequest, KbsAttestationRefused, KbsResourceNotFound, KbsSessionMissing, KbsTokenMissing, SkrError } from '../errors';
import type { EvidenceAppraiser } from './appraiser';
import type { AuditLog } from './audit';
import type { ResourceBackend } from './backends';
import { encryptToTee, type FlattenedJwe } from './jwe';
import { parseAttestationRequest, parseAuthRequest, type Challenge } from './protocol';
import { expectedReportData } from './report-data';
import { formatResourcePath, type ResourcePath } from './resource-path';
import type { ResourcePolicies } from './resource-policies';
import type { KbsSession, SessionStore } from './sessions';
import { parseSnpEvidence } from './snp-evidence';
import { issueKbsToken, verifyKbsToken } from './token';
import type { TokenKey } from './token-key';

/**
 * The key broker's operations, knowing nothing of HTTP: the RCAR handshake (auth, attest), the
 * resource release (token → resource policy → backend → JWE to the TEE key) and the admin
 * changes. Every refusal is an SkrError; src/kbs/error-body.ts renders it for the wire.
 */
export interface BrokerOptions {
  issuer: string;
  tokenKey: TokenKey;
  sessions: SessionStore;
  appraiser: EvidenceAppraiser;
  policies: ResourcePolicies;
  backend: ResourceBackend;
  audit: AuditLog;
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
  async attest(sessionId: string | undefined, body: unknown): Promise<{ token: string; session: KbsSession }> {
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
    const now = options.now();
    let token: string | undefined;
    if (credentials.sessionId) {
      const session = await options.sessions.get(credentials.sessionId, now.getTime());
      if (session?.state === 'attested') token = session.token;
    }
    token ??= credentials.bearer;
    if (!token) throw new KbsTokenMissing();
    const { claims, teePubkey } = await verifyKbsToken(token, options.tokenKey, options.issuer, now);
    const resource = formatResourcePath(path);
    const principal = typeof claims.jti === 'string' ? `token:${claims.jti}` : undefined;
    const audit = { action: 'resource.get' as const, resource, principal, source: credentials.source };
    try {
      options.policies.authorize(path, claims, options.issuer);
    } catch (error) {
      await options.audit.record({ ...audit, outcome: 'denied', code: error instanceof SkrError ? error.code : 'internal_error' });
      throw error;
    }
    let bytes: Buffer | undefined;
    try {
      bytes = await options.backend.read(path);
    } catch (error) {
      // A release the policy allowed but the backend could not serve (a path no secret name holds, a vault down) is answered only once recorded.
      await options.audit.record({ ...audit, outcome: 'failed', code: error instanceof SkrError ? error.code : 'internal_error' });
      throw error;
    }
    if (!bytes) {
      await options.audit.record({ ...audit, outcome: 'failed', code: 'kbs_resource_not_found' });
      throw new KbsResourceNotFound(resource);
    }
    await options.audit.record({ ...audit, outcome: 'allowed' });
    return encryptToTee(bytes, teePubkey);
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
    const removed = await this.options.backend.remove(path);
    await this.options.audit.record({ action: 'resource.delete', outcome: removed ? 'done' : 'failed', principal, resource: formatResourcePath(path) });
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
