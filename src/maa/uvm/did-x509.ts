import { createHash, type X509Certificate } from 'node:crypto';
import { InvalidArgument } from '../../errors';

/**
 * A did:x509 identity (microsoft/did-x509) restricted to the form UVM endorsements use:
 * `did:x509:0:<sha256|sha384|sha512>:<base64url CA fingerprint>::eku:<OID>`. The fingerprint
 * names a CA certificate of the chain (never the leaf); the EKU must be on the leaf.
 */
export interface DidX509 {
  text: string;
  hash: 'sha256' | 'sha384' | 'sha512';
  /** The CA certificate's digest. */
  fingerprint: Buffer;
  eku: string;
}

const DIGEST_LENGTH = { sha256: 32, sha384: 48, sha512: 64 } as const;
const PATTERN = /^did:x509:0:(sha256|sha384|sha512):([A-Za-z0-9_-]+)::eku:([0-9]+(?:\.[0-9]+)+)$/;

export function parseDidX509(text: string): DidX509 {
  const match = PATTERN.exec(text);
  if (!match) throw new InvalidArgument(`"${text.slice(0, 200)}" is not a did:x509:0:<hash>:<fingerprint>::eku:<oid> identity`);
  const hash = match[1] as DidX509['hash'];
  const fingerprint = Buffer.from(match[2]!, 'base64url');
  if (fingerprint.length !== DIGEST_LENGTH[hash] || fingerprint.toString('base64url') !== match[2]) {
    throw new InvalidArgument(`the fingerprint of ${text.slice(0, 200)} is not an unpadded base64url ${hash} digest`);
  }
  return { text, hash, fingerprint, eku: match[3]! };
}

/** The did:x509 of a CA certificate with an EKU its leaves carry. */
export function didX509Of(ca: Uint8Array, eku: string): string {
  return `did:x509:0:sha256:${createHash('sha256').update(ca).digest('base64url')}::eku:${eku}`;
}

/**
 * Whether `chain` (leaf first, already checked to link) resolves to `did`: a CA certificate
 * after the leaf has the fingerprint, and the leaf has the EKU.
 */
export function chainMatchesDid(chain: X509Certificate[], did: DidX509): boolean {
  const anchored = chain.slice(1).some((cert) => createHash(did.hash).update(cert.raw).digest().equals(did.fingerprint));
  // node:crypto's keyUsage lists the extended key usages.
  const ekus = chain[0]?.keyUsage ?? [];
  return anchored && ekus.includes(did.eku);
}
