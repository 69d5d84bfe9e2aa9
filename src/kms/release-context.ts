import type { Caller } from './auth/bearer';
import type { KeyStore } from './store/key-store';

/**
 * The seam between the keys API and secure key release (`POST /keys/{name}[/{version}]/release`).
 * The route authenticates the caller, checks the Crypto Service Release User (or Officer)
 * role and parses the body; the release function does the rest — verify the attestation
 * token, evaluate the version's release policy, wrap the material — reading the key through
 * `store.get` and its material, when it wraps, through `store.getWithMaterial`. A refusal is an SkrError (403 with its explanation
 * in `details`); the route maps it to Key Vault's envelope and audits it.
 */
export interface KeyReleaseRequest {
  name: string;
  /** Absent: the latest version. */
  version?: string;
  /** The attestation token (`target`). */
  target: string;
  nonce?: string;
  /** CKM_RSA_AES_KEY_WRAP (Key Vault's default when absent), RSA_AES_KEY_WRAP_256 or RSA_AES_KEY_WRAP_384. */
  enc?: string;
  /** The api-version the caller used (echoed in the JWS payload's `request`). */
  apiVersion: string;
}

export interface ReleaseContext {
  store: KeyStore;
  /** Base URL of the vault, for key ids (`{vaultUrl}/keys/{name}/{version}`). */
  vaultUrl: string;
  caller: Caller;
  /** Unix seconds. */
  now(): number;
}

export interface ReleaseResult {
  /** The compact JWS Key Vault answers with (`{"value": jws}`). */
  value: string;
  /** The version released, for the audit log. */
  version: string;
}

export type ReleaseFunction = (request: KeyReleaseRequest, context: ReleaseContext) => Promise<ReleaseResult>;
