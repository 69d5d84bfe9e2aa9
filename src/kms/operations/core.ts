import type { KeyStore } from '../store/key-store';
import type { SecretStore } from '../store/secret-store';
import type { MasterKey } from '../vault';

/** What every KMS operation needs; no HTTP, no principal (authorization happens before). */
export interface KmsCore {
  store: KeyStore;
  secrets: SecretStore;
  master: MasterKey;
  /** Unix seconds. */
  now(): number;
  /** Soft-delete retention (Key Vault's recoverableDays, 7..90). */
  recoverableDays: number;
  /**
   * Validates a release policy's JSON when it is set; throws KmsBadParameter with the reason.
   * The default accepts any JSON object; the release-policy engine plugs in its grammar check.
   */
  validateReleasePolicy(policy: unknown): void;
}
