import { KbsAttestationRefused, SkrError } from '../errors';
import { appraiseBoundEvidence, type BoundAppraisalContext } from '../maa/service';
import type { Evidence } from '../snp';

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
