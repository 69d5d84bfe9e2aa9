import { createHash } from 'node:crypto';
import { REPORT_DATA_SIZE } from './report';

/**
 * REPORT_DATA bound to runtime data the way Microsoft's sidecar and MAA bind it: SHA-256 of the
 * runtime data bytes, then zeros to 64 bytes. The attester asks for a report with it and the
 * verifier requires it, so both use this one function.
 */
export function reportDataFor(runtimeData: Uint8Array): Buffer {
  const digest = createHash('sha256').update(runtimeData).digest();
  return Buffer.concat([digest, Buffer.alloc(REPORT_DATA_SIZE - digest.length)]);
}
