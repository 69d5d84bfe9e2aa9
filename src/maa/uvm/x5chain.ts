import { X509Certificate } from 'node:crypto';
import { UvmEndorsementChainInvalid, UvmEndorsementMalformed } from '../../errors';

/**
 * Checks an x5chain (leaf first) at the time it was used to sign: each certificate is named
 * and signed by the next, which is a CA, and every certificate was valid then. Time is the
 * signing time, not now: the signer's leaf certificates live a year, endorsements far longer.
 */
export function checkChainAt(chain: X509Certificate[], at: Date): void {
  const refuse = (message: string): never => {
    throw new UvmEndorsementChainInvalid(message);
  };
  if (chain.length < 2) refuse('the x5chain needs the leaf and at least the CA the identity names');
  chain.forEach((cert, i) => {
    if (new Date(cert.validFrom) > at || new Date(cert.validTo) < at) {
      refuse(`x5chain[${i}] was not valid at the signing time ${at.toISOString()}`);
    }
    const issuer = chain[i + 1];
    if (!issuer) return;
    if (!issuer.ca) refuse(`x5chain[${i + 1}] signs a certificate but is not a CA`);
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) refuse(`x5chain[${i}] is not issued and signed by x5chain[${i + 1}]`);
  });
}

export function parseChain(entries: Buffer[]): X509Certificate[] {
  return entries.map((der, i) => {
    try {
      return new X509Certificate(der);
    } catch {
      throw new UvmEndorsementMalformed(`x5chain[${i}] is not a DER certificate`);
    }
  });
}
