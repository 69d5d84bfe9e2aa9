import { UvmEndorsementRefused } from '../../errors';
import { verifyUvmEndorsement, type UvmEndorsementOptions, type VerifiedUvmEndorsement } from './endorsement';

export interface UvmAppraisal {
  /** The first endorsement that verified, if any. */
  endorsement?: VerifiedUvmEndorsement;
  /** Why each endorsement that did not verify was refused (its error code), in order. */
  refusals: string[];
}

/**
 * The UVM endorsements sent with the evidence (MAA's `Endorsements.Uvm[]`): one that verifies
 * is enough. A refusal is not an error of the request: the report is appraised all the same,
 * it just does not get the claims only an endorsement backs.
 */
export function appraiseUvmEndorsements(endorsements: Buffer[], options: UvmEndorsementOptions): UvmAppraisal {
  const refusals: string[] = [];
  for (const bytes of endorsements) {
    try {
      return { endorsement: verifyUvmEndorsement(bytes, options), refusals };
    } catch (error) {
      if (!(error instanceof UvmEndorsementRefused)) throw error;
      refusals.push(error.code);
    }
  }
  return { refusals };
}
