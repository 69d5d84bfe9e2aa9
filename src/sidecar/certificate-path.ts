import * as pkijs from 'pkijs';
import { ReleaseResponseInvalid } from '../errors';

/**
 * RFC 5280 path validation of a certificate chain to a trusted anchor, for the release JWS's x5c.
 *
 * pkijs's CertificateChainValidationEngine builds the path from the presented certificates and
 * the anchors and checks, for every certificate on it: validity at the given time, name chaining
 * (issuer = the next one's subject), the signature by the next one's key, basicConstraints
 * cA on every issuer, keyCertSign on every issuer whose keyUsage is present, no critical
 * extension it cannot parse, and that the path ends at an anchor. It does not enforce
 * pathLenConstraint, nor the leaf's keyUsage: both are checked here on the path it built.
 */
export interface ValidatedPath {
  /** The window in which every certificate of the path is valid. */
  notBefore: Date;
  notAfter: Date;
}

function pathInvalid(reason: string): ReleaseResponseInvalid {
  return new ReleaseResponseInvalid(`the release JWS chain does not validate to a trusted root: ${reason}`);
}

const BASIC_CONSTRAINTS = '2.5.29.19';
const KEY_USAGE = '2.5.29.15';
/** keyUsage bit 0 (digitalSignature): the first byte's most significant bit. */
const DIGITAL_SIGNATURE = 0x80;

export function parseCertificate(der: Buffer): pkijs.Certificate {
  return pkijs.Certificate.fromBER(der);
}

function extension(cert: pkijs.Certificate, oid: string): pkijs.Extension | undefined {
  return cert.extensions?.find((e) => e.extnID === oid);
}

/** Each issuer's pathLenConstraint bounds the CA certificates below it (the leaf not counted). */
function checkPathLengths(path: pkijs.Certificate[]): void {
  for (let i = 1; i < path.length; i++) {
    const constraints = extension(path[i]!, BASIC_CONSTRAINTS)?.parsedValue as pkijs.BasicConstraints | undefined;
    const limit = constraints?.pathLenConstraint;
    const below = i - 1;
    if (typeof limit === 'number' && below > limit) throw pathInvalid(`a CA certificate allows ${limit} CA certificates below it, the path has ${below}`);
    if (limit !== undefined && typeof limit !== 'number') throw pathInvalid('a pathLenConstraint is out of range');
  }
}

/** A leaf that states its key usage must allow signatures: it signs the JWS. */
function checkLeafUsage(leaf: pkijs.Certificate): void {
  const usage = extension(leaf, KEY_USAGE)?.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined;
  if (!usage) return;
  const bits = usage.valueBlock?.valueHexView;
  if (!bits || bits.length === 0 || (bits[0]! & DIGITAL_SIGNATURE) === 0) throw pathInvalid('the signing certificate does not allow digital signatures');
}

/**
 * The validity window of the path from `chain[0]` (the leaf) to one of `anchors`, or
 * ReleaseResponseInvalid when there is none. `chain` is the x5c as presented; certificates in it
 * that the path does not need are ignored.
 */
export async function validateCertificatePath(chain: pkijs.Certificate[], anchors: pkijs.Certificate[], at: Date): Promise<ValidatedPath> {
  const [leaf, ...rest] = chain;
  if (!leaf) throw pathInvalid('there is no certificate');
  // pkijs takes the leaf to be the last of `certs`.
  const engine = new pkijs.CertificateChainValidationEngine({ trustedCerts: anchors, certs: [...rest, leaf], checkDate: at });
  let result: pkijs.CertificateChainValidationEngineVerifyResult;
  try {
    result = await engine.verify();
  } catch (error) {
    throw pathInvalid((error as { resultMessage?: string; message?: string }).resultMessage ?? (error as Error).message ?? 'no valid path');
  }
  const path = result.certificatePath;
  if (!result.result || !path || path.length < 2) throw pathInvalid(result.resultMessage || 'no valid path');
  if (path[0] !== leaf) throw pathInvalid('the path does not start at the signing certificate');
  checkPathLengths(path);
  checkLeafUsage(leaf);
  return {
    notBefore: new Date(Math.max(...path.map((c) => c.notBefore.value.getTime()))),
    notAfter: new Date(Math.min(...path.map((c) => c.notAfter.value.getTime()))),
  };
}
