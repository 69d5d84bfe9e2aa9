/**
 * The data-plane permissions of the KMS and the three Key Vault / Managed HSM roles that
 * grant them. Anything not granted is denied.
 */
export const ACTIONS = [
  'keys/read',
  'keys/list',
  'keys/create',
  'keys/import',
  'keys/update',
  'keys/delete',
  'keys/backup',
  'keys/restore',
  'keys/rotate',
  'keys/rotationpolicy/read',
  'keys/rotationpolicy/write',
  'keys/encrypt',
  'keys/decrypt',
  'keys/wrap',
  'keys/unwrap',
  'keys/sign',
  'keys/verify',
  'keys/release',
  'deletedkeys/read',
  'deletedkeys/recover',
  'deletedkeys/purge',
  'rng',
] as const;

export type Action = (typeof ACTIONS)[number];

export interface RoleDefinition {
  id: string;
  displayName: string;
  actions: readonly Action[];
}

const CRYPTO: Action[] = ['keys/encrypt', 'keys/decrypt', 'keys/wrap', 'keys/unwrap', 'keys/sign', 'keys/verify'];

export const ROLES: readonly RoleDefinition[] = [
  // Manage keys and use them (Key Vault's Crypto Officer includes release).
  { id: 'crypto-officer', displayName: 'Key Vault Crypto Officer', actions: ACTIONS },
  { id: 'crypto-user', displayName: 'Key Vault Crypto User', actions: ['keys/read', 'keys/list', 'keys/rotationpolicy/read', 'rng', ...CRYPTO] },
  { id: 'crypto-service-release-user', displayName: 'Key Vault Crypto Service Release User', actions: ['keys/release'] },
];

/** A role by id or display name, case-insensitively; "Managed HSM" names are accepted too. */
export function findRole(name: string): RoleDefinition | undefined {
  const wanted = name.trim().toLowerCase().replace(/^managed hsm /, 'key vault ');
  return ROLES.find((r) => r.id === wanted || r.displayName.toLowerCase() === wanted);
}

/** Scopes are the vault ("/") or one key ("/keys/{name}"). */
export function normaliseScope(scope: string | undefined): string | undefined {
  const s = (scope ?? '/').trim();
  if (s === '/' || s === '') return '/';
  const match = /^\/?keys\/([0-9a-zA-Z-]{1,127})$/.exec(s);
  return match ? `/keys/${match[1]}` : undefined;
}
