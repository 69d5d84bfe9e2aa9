import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import type { TeePubkey } from './tee-pubkey';

/**
 * The REPORT_DATA a guest-components client puts into its SNP report (trustee-kbs.md §3):
 * SHA-384 of the RFC 8785 canonical JSON of {nonce, tee-pubkey, additional-evidence}, the raw
 * 48-byte digest first, zero-padded to 64 bytes. The server rebuilds the object from the
 * parsed key and the session's nonce, never from the bytes the client sent.
 */
export function runtimeDataDigest(nonce: string, teePubkey: TeePubkey, additionalEvidence: string): Buffer {
  const input = canonicalJson({ 'tee-pubkey': teePubkey, nonce, 'additional-evidence': additionalEvidence });
  return createHash('sha384').update(input, 'utf8').digest();
}

export function expectedReportData(nonce: string, teePubkey: TeePubkey, additionalEvidence: string): Buffer {
  return Buffer.concat([runtimeDataDigest(nonce, teePubkey, additionalEvidence), Buffer.alloc(16)]);
}
