import { createHash } from 'node:crypto';
import { decodeGuestPolicy, decodeTcb, type VerifiedReport } from '../snp';

/** The SEV-SNP claims MAA puts in a `sevsnpvm` token, with MAA's types. */
export interface SevSnpClaims {
  'x-ms-sevsnpvm-authorkeydigest': string;
  'x-ms-sevsnpvm-bootloader-svn': number;
  'x-ms-sevsnpvm-familyId': string;
  'x-ms-sevsnpvm-guestsvn': number;
  'x-ms-sevsnpvm-hostdata': string;
  'x-ms-sevsnpvm-idkeydigest': string;
  'x-ms-sevsnpvm-imageId': string;
  'x-ms-sevsnpvm-is-debuggable': boolean;
  'x-ms-sevsnpvm-launchmeasurement': string;
  'x-ms-sevsnpvm-microcode-svn': number;
  'x-ms-sevsnpvm-migration-allowed': boolean;
  'x-ms-sevsnpvm-reportdata': string;
  'x-ms-sevsnpvm-reportid': string;
  'x-ms-sevsnpvm-smt-allowed': boolean;
  'x-ms-sevsnpvm-snpfw-svn': number;
  'x-ms-sevsnpvm-tee-svn': number;
  'x-ms-sevsnpvm-vmpl': number;
}

/** Claims MAA does not define, under our own prefix. */
export interface SkrClaims {
  /** AMD product line the evidence came from. */
  'x-skr-sevsnpvm-product': string;
  /** Whether the chain ends in AMD's pinned ARK; false for the virtual device. */
  'x-skr-sevsnpvm-genuine-amd': boolean;
  /**
   * SHA-256 (hex) of the ARK the VEK chained to: AMD's for genuine evidence, a virtual state's
   * own otherwise, so a release policy can bind one virtual device and nothing else.
   */
  'x-skr-sevsnpvm-ark-sha256': string;
  /** Present (true) only for evidence from the virtual device. */
  'x-skr-virtual-tee'?: true;
  'x-skr-sevsnpvm-signer': 'VCEK' | 'VLEK';
  'x-skr-sevsnpvm-fmc-svn'?: number;
}

export function sevSnpClaims(verified: VerifiedReport): SevSnpClaims & SkrClaims {
  const { report, product } = verified;
  const policy = decodeGuestPolicy(report.policy);
  const tcb = decodeTcb(report.reportedTcb, product);
  const hex = (b: Buffer) => b.toString('hex');
  const claims: SevSnpClaims & SkrClaims = {
    'x-ms-sevsnpvm-authorkeydigest': hex(report.authorKeyDigest),
    'x-ms-sevsnpvm-bootloader-svn': tcb.bootloader,
    'x-ms-sevsnpvm-familyId': hex(report.familyId),
    'x-ms-sevsnpvm-guestsvn': report.guestSvn,
    'x-ms-sevsnpvm-hostdata': hex(report.hostData),
    'x-ms-sevsnpvm-idkeydigest': hex(report.idKeyDigest),
    'x-ms-sevsnpvm-imageId': hex(report.imageId),
    'x-ms-sevsnpvm-is-debuggable': policy.debug,
    'x-ms-sevsnpvm-launchmeasurement': hex(report.measurement),
    'x-ms-sevsnpvm-microcode-svn': tcb.microcode,
    'x-ms-sevsnpvm-migration-allowed': policy.migrateMa,
    'x-ms-sevsnpvm-reportdata': hex(report.reportData),
    'x-ms-sevsnpvm-reportid': hex(report.reportId),
    'x-ms-sevsnpvm-smt-allowed': policy.smt,
    'x-ms-sevsnpvm-snpfw-svn': tcb.snp,
    'x-ms-sevsnpvm-tee-svn': tcb.tee,
    'x-ms-sevsnpvm-vmpl': report.vmpl,
    'x-skr-sevsnpvm-product': product,
    'x-skr-sevsnpvm-genuine-amd': verified.genuine,
    'x-skr-sevsnpvm-signer': verified.signer,
    'x-skr-sevsnpvm-ark-sha256': createHash('sha256').update(verified.ark.raw).digest('hex'),
  };
  if (tcb.fmc !== undefined) claims['x-skr-sevsnpvm-fmc-svn'] = tcb.fmc;
  if (!verified.genuine) claims['x-skr-virtual-tee'] = true;
  return claims;
}
