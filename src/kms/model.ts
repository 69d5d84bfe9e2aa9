/** What the key store holds, in Key Vault's vocabulary (times are unix seconds). */

export type KeyFamily = 'RSA' | 'EC' | 'oct';

export interface KeyAttributes {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  exportable: boolean;
  created: number;
  updated: number;
}

/** Key Vault's KeyReleasePolicy; `data` is base64url (no padding) of the policy JSON. */
export interface ReleasePolicy {
  contentType: string;
  data: string;
  immutable: boolean;
}

/** The public part of a key as a JWK: `n`/`e` (RSA), `crv`/`x`/`y` (EC), nothing (oct). */
export type PublicJwk = Record<string, string>;

export interface KeyVersion {
  name: string;
  version: string;
  /** As created or imported: RSA, RSA-HSM, EC, EC-HSM, oct, oct-HSM. */
  kty: string;
  keyOps: string[];
  publicJwk: PublicJwk;
  attributes: KeyAttributes;
  tags: Record<string, string>;
  releasePolicy?: ReleasePolicy;
  managed: boolean;
}

export interface DeletedInfo {
  deletedDate: number;
  scheduledPurgeDate: number;
}

/** Private key material: raw bytes (oct) or PKCS#8 DER (RSA, EC) — the encodings a release wraps. */
export type KeyMaterial = { kind: 'oct'; raw: Buffer } | { kind: 'RSA' | 'EC'; pkcs8: Buffer };

export interface RotationLifetimeAction {
  trigger: { timeAfterCreate?: string; timeBeforeExpiry?: string };
  action: { type: 'Rotate' | 'Notify' };
}

export interface RotationPolicy {
  lifetimeActions: RotationLifetimeAction[];
  expiryTime?: string;
  created: number;
  updated: number;
}

/** A new version as the operations layer hands it to the store. */
export interface NewKeyVersion {
  name: string;
  kty: string;
  keyOps: string[];
  publicJwk: PublicJwk;
  material: KeyMaterial;
  attributes: KeyAttributes;
  tags: Record<string, string>;
  releasePolicy?: ReleasePolicy;
}

export interface Page<T> {
  items: T[];
  /** Opaque continuation token; absent on the last page. */
  next?: string;
}

export function familyOf(kty: string): KeyFamily {
  const base = kty.replace(/-HSM$/, '');
  if (base === 'RSA' || base === 'EC' || base === 'oct') return base;
  throw new Error(`unknown kty ${kty}`);
}

/** A secret's attributes: Key Vault's SecretAttributes (no exportable; times are unix seconds). */
export interface SecretAttributes {
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
}

/** One version of a secret without its value: what lists, audit and metadata reads see. */
export interface SecretVersion {
  name: string;
  version: string;
  contentType?: string;
  attributes: SecretAttributes;
  tags: Record<string, string>;
}

/** A new version as the operations layer hands it to the secret store; the store seals `value`. */
export interface NewSecretVersion {
  name: string;
  value: string;
  contentType?: string;
  attributes: SecretAttributes;
  tags: Record<string, string>;
}
