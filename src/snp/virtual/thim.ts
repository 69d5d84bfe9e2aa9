import { encodeTcb } from '../abi/tcb';
import type { VirtualPki } from './types';

/**
 * The body Azure's THIM endpoint (169.254.169.254/metadata/THIM/amd/certification) returns
 * to a confidential container: the VCEK, the chain ASK then ARK, and the TCB the VCEK is for.
 */
export interface ThimCertification {
  vcekCert: string;
  /** The 8 TCB bytes as a u64 in hex, most-significant byte first ("7308000000000003"). */
  tcbm: string;
  certificateChain: string;
  /** Seconds, as a string, as THIM sends it. */
  cacheControl: string;
}

export function thimCertification(pki: Pick<VirtualPki, 'product' | 'config' | 'vcek' | 'ask' | 'ark'>): ThimCertification {
  return {
    vcekCert: pki.vcek.pem,
    tcbm: encodeTcb(pki.config.tcb, pki.product).toString(16).padStart(16, '0'),
    certificateChain: pki.ask.pem + pki.ark.pem,
    cacheControl: '86400',
  };
}
