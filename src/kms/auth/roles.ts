/**
 * The data-plane permissions of the KMS and the Key Vault / Managed HSM built-in roles that
 * grant them. Anything not granted is denied. Keys and secrets are apart, as in Key Vault:
 * no crypto role grants a secret, no secrets role a key.
 */
const KEY_ACTIONS = [
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

/** Key Vault's secrets data actions (`Microsoft.KeyVault/vaults/secrets/{action}`); the deleted-secret operations are among them. */
const SECRET_ACTIONS = [
  'secrets/getSecret',
  'secrets/readMetadata',
  'secrets/setSecret',
  'secrets/update',
  'secrets/delete',
  'secrets/backup',
  'secrets/restore',
  'secrets/recover',
  'secrets/purge',
] as const;

export const ACTIONS = [...KEY_ACTIONS, ...SECRET_ACTIONS] as const;

export type Action = (typeof ACTIONS)[number];

export interface RoleDefinition {
  /** What assignments store. */
  id: string;
  /** Azure's role-definition id of the built-in role. */
  definitionId: string;
  displayName: string;
  actions: readonly Action[];
}

const CRYPTO: Action[] = ['keys/encrypt', 'keys/decrypt', 'keys/wrap', 'keys/unwrap', 'keys/sign', 'keys/verify'];

export const ROLES: readonly RoleDefinition[] = [
  // Manage keys and use them (Key Vault's Crypto Officer includes release): Microsoft.KeyVault/vaults/keys/*.
  { id: 'crypto-officer', definitionId: '14b46e9e-c2b7-41b4-b07b-48a6ebf60603', displayName: 'Key Vault Crypto Officer', actions: KEY_ACTIONS },
  { id: 'crypto-user', definitionId: '12338af0-0e69-4776-bea7-57ae8d297424', displayName: 'Key Vault Crypto User', actions: ['keys/read', 'keys/list', 'keys/rotationpolicy/read', 'rng', ...CRYPTO] },
  { id: 'crypto-service-release-user', definitionId: '08bbd89e-9f13-488c-ac41-acfcb10c90ab', displayName: 'Key Vault Crypto Service Release User', actions: ['keys/release'] },
  // Manage secrets and read their values: Microsoft.KeyVault/vaults/secrets/*.
  { id: 'secrets-officer', definitionId: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7', displayName: 'Key Vault Secrets Officer', actions: SECRET_ACTIONS },
  // Read secret values (and their properties): secrets/getSecret/action and secrets/readMetadata/action.
  { id: 'secrets-user', definitionId: '4633458b-17de-408a-b874-0445c86b69e6', displayName: 'Key Vault Secrets User', actions: ['secrets/getSecret', 'secrets/readMetadata'] },
];

/** A role by id, Azure role-definition id or display name, case-insensitively; "Managed HSM" names are accepted too. */
export function findRole(name: string): RoleDefinition | undefined {
  const wanted = name
    .trim()
    .toLowerCase()
    .replace(/^managed hsm /, 'key vault ');
  return ROLES.find((r) => r.id === wanted || r.definitionId === wanted || r.displayName.toLowerCase() === wanted);
}

/** Scopes are the vault ("/"), one key ("/keys/{name}") or one secret ("/secrets/{name}"). */
export function normaliseScope(scope: string | undefined): string | undefined {
  const s = (scope ?? '/').trim();
  if (s === '/' || s === '') return '/';
  const match = /^\/?(keys|secrets)\/([0-9a-zA-Z-]{1,127})$/.exec(s);
  return match ? `/${match[1]}/${match[2]}` : undefined;
}

/** The scope of one named object an action is on: a secret for the secrets actions, a key otherwise. */
export function objectScope(action: Action, name: string): string {
  return `/${action.startsWith('secrets/') ? 'secrets' : 'keys'}/${name.toLowerCase()}`;
}
