import { X509Certificate } from 'node:crypto';
import { KbsAttestationRefused, SkrError, UpstreamFailed, UpstreamTimedOut } from '../errors';
import { httpRequest, TransportError } from '../lib/http';
import { encodeAttestRequest, TokenVerifier } from '../maa';
import { appraiseBoundEvidence, type BoundAppraisalContext } from '../maa/service';
import { certificatesOf, parseReport, SigningKey, type Evidence } from '../snp';

/**
 * What the KBS asks of a verifier: genuine, acceptable, and bound to `expectedReportData`? The
 * answer is the verifier's claims; a refusal is KbsAttestationRefused carrying the verifier's
 * code. Failures of the verifier itself (5xx: a CRL that could not be fetched) pass unchanged.
 */
export interface EvidenceAppraiser {
  appraise(evidence: Evidence, expectedReportData: Buffer): Promise<Record<string, unknown>>;
}

/** skr's verifier in this process: the code path of `/attest/SevSnpVm` (src/maa/service). */
export function inProcessAppraiser(context: BoundAppraisalContext): EvidenceAppraiser {
  return {
    async appraise(evidence, expectedReportData) {
      try {
        return (await appraiseBoundEvidence(evidence, expectedReportData, context)).claims;
      } catch (error) {
        if (error instanceof SkrError && error.status < 500) throw new KbsAttestationRefused(error.code, error.message);
        throw error;
      }
    },
  };
}

export interface RemoteVerifierOptions {
  /** The `skr verifier` base URL; its issuer is the same URL unless `issuer` says otherwise. */
  url: string;
  issuer?: string;
  /** Extra CA certificates (PEM) for the verifier's HTTPS. */
  ca?: string[];
  timeoutMs?: number;
}

function pem(cert: Uint8Array | string): string {
  return typeof cert === 'string' ? cert : new X509Certificate(cert).toString();
}

/** The PEM chain MAA's request carries: the VEK first, then ASK and ARK, from the evidence or its certificate table. */
function chainPem(evidence: Evidence): string {
  if (evidence.vek) return [evidence.vek, ...(evidence.chain ?? [])].map(pem).join('');
  const signer = parseReport(evidence.report).signerInfo.signingKey === SigningKey.VLEK ? 'VLEK' : 'VCEK';
  const table = certificatesOf(evidence.certTable, signer);
  if (!table.vek) throw new KbsAttestationRefused('vek_unavailable', 'the evidence carries no VCEK or VLEK for the remote verifier');
  return [table.vek, ...table.chain].map(pem).join('');
}

/**
 * A remote `skr verifier` over HTTPS, through its `/appraise/SevSnpVm` route: the same appraisal
 * as in process, answered as an RS256 token the KBS verifies against the verifier's published
 * keys (OpenID discovery) before it believes a claim; the token must also state the REPORT_DATA
 * the KBS expected.
 */
export function remoteAppraiser(options: RemoteVerifierOptions): EvidenceAppraiser {
  const base = options.url.replace(/\/+$/, '');
  const issuer = options.issuer ?? base;
  const tokens = new TokenVerifier({ trustedIssuers: [issuer], ...(options.ca ? { ca: options.ca } : {}) });
  return {
    async appraise(evidence, expectedReportData) {
      const body = { report: encodeAttestRequest({ report: Buffer.from(evidence.report), vcekCertChain: chainPem(evidence) }).report, reportData: expectedReportData.toString('hex') };
      let response;
      try {
        response = await httpRequest(`${base}/appraise/SevSnpVm?api-version=2022-08-01`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          ...(options.ca ? { ca: options.ca } : {}),
          timeoutMs: options.timeoutMs ?? 30_000,
        });
      } catch (error) {
        if (error instanceof TransportError && error.timedOut) throw new UpstreamTimedOut('verifier', error.message);
        throw new UpstreamFailed('verifier', (error as Error).message);
      }
      let answer: { token?: unknown; error?: { code?: unknown; message?: unknown } };
      try {
        answer = JSON.parse(response.body.toString('utf8'));
      } catch {
        throw new UpstreamFailed('verifier', `HTTP ${response.status} without a JSON body`, { upstreamStatus: response.status });
      }
      if (response.status === 400) throw new KbsAttestationRefused(String(answer.error?.code ?? 'invalid_request'), String(answer.error?.message ?? 'refused').slice(0, 500));
      if (response.status !== 200 || typeof answer.token !== 'string') throw new UpstreamFailed('verifier', `HTTP ${response.status}`, { upstreamStatus: response.status });
      const claims = (await tokens.verify(answer.token)) as Record<string, unknown>;
      if (claims['x-ms-sevsnpvm-reportdata'] !== expectedReportData.toString('hex')) throw new UpstreamFailed('verifier', 'the token does not state the expected REPORT_DATA');
      // The verifier's claims about the evidence; its own token fields (iss, exp, jti, ...) stay behind.
      return Object.fromEntries(Object.entries(claims).filter(([name]) => name.startsWith('x-')));
    },
  };
}
