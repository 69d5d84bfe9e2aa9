import type { KeyWrapAlgorithm } from '../keywrap';
import { BoundedMap } from '../lib/bounded-map';

/**
 * Key material the sidecar has unwrapped, by the TEE key, the algorithm and the exact
 * ciphertext. The same ciphertext opens to the same bytes (its RSA-OAEP padding and RFC 5649
 * integrity check passed the first time), so only the first opening costs an RSA private
 * operation. Every release still asks the key service and verifies its signed answer first.
 * Azure Key Vault wraps afresh for each release, so against it nothing is ever found here;
 * skr's KMS repeats its answer to a repeated release for a minute.
 */
const MAX_ENTRIES = 64;

export class UnwrappedKeys {
  private readonly entries = new BoundedMap<string, Buffer>(MAX_ENTRIES);

  /** The material for this ciphertext, unwrapping it with `unwrap` the first time. */
  async open(teeKid: string, enc: KeyWrapAlgorithm, ciphertext: string, unwrap: () => Promise<Buffer>): Promise<Buffer> {
    const id = `${teeKid}.${enc}.${ciphertext}`;
    let material = this.entries.get(id);
    if (!material) {
      material = await unwrap();
      this.entries.set(id, Buffer.from(material));
    }
    return Buffer.from(material);
  }
}
