import { generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { KbsAttestationRefused, KbsResourceNameUnmappable, KbsResourceNotFound, ReleaseDenied, UpstreamFailed, UpstreamTimedOut } from '../errors';
import { httpRequest, TransportError, type HttpResponse } from '../lib/http';
import type { ReportDevice } from '../snp';
import { decryptFromKbs } from './jwe';
import { attestationBody, KBS_PROTOCOL_VERSION, SESSION_COOKIE } from './protocol';
import { expectedReportData } from './report-data';
import { formatResourcePath, parseResourcePath } from './resource-path';
import { snpEvidenceOf } from './snp-evidence';
import { teePubkeyOf, type TeePubkey } from './tee-pubkey';

/**
 * The attester's side of protocol 0.4.0, for the sidecar: auth → evidence from the device bound
 * to {nonce, tee-pubkey} → attest → resource, decrypted inside the TEE. Each attestation makes a
 * fresh TEE key pair whose private half stays in this object (never serialised, never logged);
 * the token and key are reused until shortly before the token expires, and a 401 on a resource
 * re-attests once, as guest-components' client does.
 */
export type TeeKeyAlgorithm = 'ECDH-ES+A256KW-P256' | 'ECDH-ES+A256KW-P521' | 'RSA-OAEP-256';

export interface KbsClientOptions {
  /** The KBS base URL (any trailing slash is trimmed). */
  url: string;
  device: ReportDevice;
  /** Extra CA certificates (PEM) for an https KBS. */
  ca?: string | string[];
  /** guest-components' `tee_key_algorithm`; default ECDH-ES+A256KW-P256. */
  keyAlgorithm?: TeeKeyAlgorithm;
  /** Evidence shape sent: guest-components' serde dump (default) or skr's raw report. */
  evidence?: 'guest-components' | 'skr';
  timeoutMs?: number;
  now?: () => Date;
}

interface Attested {
  cookie: string;
  token: string;
  expiresAt: number;
  privateKey: KeyObject;
}

const generateKeyPairAsync = promisify(generateKeyPair);
/** A token this close to its expiry is not reused. */
const REFRESH_MARGIN_MS = 30_000;

async function teeKeyPair(algorithm: TeeKeyAlgorithm): Promise<{ privateKey: KeyObject; teePubkey: TeePubkey }> {
  if (algorithm === 'RSA-OAEP-256') {
    const pair = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
    return { privateKey: pair.privateKey, teePubkey: teePubkeyOf(pair.publicKey, 'RSA-OAEP-256') };
  }
  const pair = await generateKeyPairAsync('ec', { namedCurve: algorithm === 'ECDH-ES+A256KW-P521' ? 'P-521' : 'P-256' });
  return { privateKey: pair.privateKey, teePubkey: teePubkeyOf(pair.publicKey, 'ECDH-ES+A256KW') };
}

function errorBody(response: HttpResponse): { detail: string; code?: string; details?: Record<string, unknown> } {
  try {
    const body = JSON.parse(response.body.toString('utf8')) as { detail?: unknown; code?: unknown; details?: unknown };
    return {
      detail: typeof body.detail === 'string' ? body.detail.slice(0, 500) : `HTTP ${response.status}`,
      ...(typeof body.code === 'string' ? { code: body.code } : {}),
      ...(typeof body.details === 'object' && body.details !== null ? { details: body.details as Record<string, unknown> } : {}),
    };
  } catch {
    return { detail: `HTTP ${response.status}` };
  }
}

export class KbsClient {
  private readonly url: string;
  private attested?: Attested;
  private pending?: Promise<Attested>;

  constructor(private readonly options: KbsClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
  }

  /** The resource at `repository/type/tag`, decrypted. */
  async getResource(path: string): Promise<Buffer> {
    const resource = formatResourcePath(parseResourcePath(path.split('/')));
    for (let attempt = 0; attempt < 2; attempt++) {
      const session = await this.session(attempt > 0);
      const response = await this.send(`/kbs/v0/resource/${resource}`, { headers: { cookie: session.cookie, authorization: `Bearer ${session.token}` } });
      if (response.status === 200) return this.decrypt(response, session.privateKey);
      const body = errorBody(response);
      if (response.status === 401 && attempt === 0) continue;
      if (response.status === 403) throw new ReleaseDenied(body.detail, body.details);
      if (response.status === 404) throw new KbsResourceNotFound(resource);
      // skr kbs's refusal of a path too long for a secret name is about the path the caller chose, not a KBS failure.
      if (response.status === 400 && body.code === 'kbs_resource_name_unmappable') throw new KbsResourceNameUnmappable(Number(body.details?.length) || 0);
      if (response.status === 401) throw new KbsAttestationRefused(body.code ?? 'unauthorized', body.detail);
      throw new UpstreamFailed('kbs', body.detail, { upstreamStatus: response.status });
    }
    throw new UpstreamFailed('kbs', 'unreachable');
  }

  /** Forgets the token and TEE key: the next request attests again. */
  reset(): void {
    this.attested = undefined;
  }

  private async session(fresh: boolean): Promise<Attested> {
    const now = (this.options.now ?? (() => new Date()))().getTime();
    if (!fresh && this.attested && this.attested.expiresAt - REFRESH_MARGIN_MS > now) return this.attested;
    // Concurrent callers share one handshake.
    this.pending ??= this.handshake().finally(() => {
      this.pending = undefined;
    });
    this.attested = await this.pending;
    return this.attested;
  }

  private async handshake(): Promise<Attested> {
    const auth = await this.send('/kbs/v0/auth', { method: 'POST', json: { version: KBS_PROTOCOL_VERSION, tee: 'snp', 'extra-params': '' } });
    if (auth.status !== 200) throw this.refused('auth', auth);
    const cookie = this.cookieOf(auth);
    const challenge = JSON.parse(auth.body.toString('utf8')) as { nonce?: unknown };
    if (typeof challenge.nonce !== 'string') throw new UpstreamFailed('kbs', 'the challenge has no nonce');
    const { privateKey, teePubkey } = await teeKeyPair(this.options.keyAlgorithm ?? 'ECDH-ES+A256KW-P256');
    const reportData = expectedReportData(challenge.nonce, teePubkey, '');
    const { report, certTable } = await this.options.device.getReport({ reportData, withCerts: true });
    const evidence = this.options.evidence === 'skr' ? { report: report.toString('base64'), ...(certTable ? { certTable: certTable.toString('base64') } : {}) } : snpEvidenceOf(report, certTable);
    const attest = await this.send('/kbs/v0/attest', { method: 'POST', headers: { cookie }, json: attestationBody({ nonce: challenge.nonce, teePubkey }, evidence) });
    if (attest.status !== 200) throw this.refused('attest', attest);
    const { token } = JSON.parse(attest.body.toString('utf8')) as { token?: unknown };
    if (typeof token !== 'string') throw new UpstreamFailed('kbs', 'the attest answer has no token');
    const exp = decodeJwt(token).exp;
    if (typeof exp !== 'number') throw new UpstreamFailed('kbs', 'the token has no exp');
    return { cookie, token, expiresAt: exp * 1000, privateKey };
  }

  /**
   * The resource answer opened with the TEE key. An answer that does not parse or decrypt (the
   * GCM tag fails on any change in transit) is the KBS's failure: no bytes come out of it.
   */
  private decrypt(response: HttpResponse, privateKey: KeyObject): Buffer {
    try {
      return decryptFromKbs(JSON.parse(response.body.toString('utf8')), privateKey);
    } catch {
      throw new UpstreamFailed('kbs', "the resource answer is not a JWE this TEE's key opens");
    }
  }

  private cookieOf(response: HttpResponse): string {
    for (const header of response.headers['set-cookie'] ?? []) {
      const first = header.split(';')[0]!.trim();
      if (first.startsWith(`${SESSION_COOKIE}=`)) return first;
    }
    throw new UpstreamFailed('kbs', `the auth answer sets no ${SESSION_COOKIE} cookie`);
  }

  private refused(step: string, response: HttpResponse): Error {
    const body = errorBody(response);
    if (response.status === 401) return new KbsAttestationRefused(body.code ?? 'unauthorized', `${step}: ${body.detail}`);
    return new UpstreamFailed('kbs', `${step}: ${body.detail}`, { upstreamStatus: response.status });
  }

  private async send(path: string, request: { method?: 'GET' | 'POST'; headers?: Record<string, string>; json?: unknown }): Promise<HttpResponse> {
    try {
      return await httpRequest(`${this.url}${path}`, {
        method: request.method ?? 'GET',
        headers: { accept: 'application/json', ...(request.json !== undefined ? { 'content-type': 'application/json' } : {}), ...request.headers },
        ...(request.json !== undefined ? { body: JSON.stringify(request.json) } : {}),
        ...(this.options.ca ? { ca: this.options.ca } : {}),
        timeoutMs: this.options.timeoutMs ?? 60_000,
      });
    } catch (error) {
      if (error instanceof TransportError && error.timedOut) throw new UpstreamTimedOut('kbs', error.message);
      throw new UpstreamFailed('kbs', (error as Error).message);
    }
  }
}
