import type { Product } from '../abi/product';
import { loadOrCreateVirtualPki } from './pki';
import type { VirtualPkiOptions } from './types';

export interface VirtualInitResult {
  stateDir: string;
  product: Product;
  /** SHA-256 of the virtual ARK (DER), hex: what a verifier configured to trust it pins. */
  arkSha256: string;
  /** The virtual UVM signer's did:x509 and feed: what a verifier pins to trust its endorsements. */
  uvmIssuer: { did: string; feed: string };
}

/** `skr virtual init --state-dir D [--product P]`: creates (or checks) the state and says what it holds. */
export async function virtualInit(stateDir: string, options: VirtualPkiOptions = {}): Promise<VirtualInitResult> {
  const pki = await loadOrCreateVirtualPki(stateDir, options);
  return { stateDir: pki.stateDir, product: pki.product, arkSha256: pki.arkSha256, uvmIssuer: pki.uvm.issuer };
}
