import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { IdentityNotFound, InvalidArgument, InvalidRequest } from '../errors';
import { readIfExists, writeFileAtomic } from '../lib/state-file';

/**
 * The managed identities the endpoint issues tokens for: a default one (what an IMDS request
 * naming no identity gets, as a system-assigned identity) and an officer one (what an App
 * Service request naming none gets: the operator's, which holds Crypto Officer), both with ids
 * generated once and persisted so role assignments made to them survive restarts, plus named
 * ones from configuration (the user-assigned identities a caller selects by client, object or
 * resource id).
 */
export interface PrincipalConfig {
  name: string;
  objectId: string;
  clientId: string;
  /** ARM resource id, matched by `msi_res_id` / `mi_res_id`; derived from the name when absent. */
  resourceId?: string;
}

export interface Principal {
  name: string;
  objectId: string;
  clientId: string;
  resourceId: string;
}

export interface PrincipalDirectory {
  tenantId: string;
  defaultPrincipal: Principal;
  /** Only ever issued on the App Service route, behind the identity header. */
  officer: Principal;
  all: Principal[];
}

interface StoredIds {
  objectId: string;
  clientId: string;
}

interface StoredIdentity {
  tenantId: string;
  defaultPrincipal: StoredIds;
  /** Absent in state written before the officer principal existed; added on the next start. */
  officerPrincipal?: StoredIds;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_NAME = 'default';
const OFFICER_NAME = 'officer';
const newIds = (): StoredIds => ({ objectId: randomUUID(), clientId: randomUUID() });

/** Resource ids have the shape of Azure's, under a subscription that is visibly not a real one. */
const resourceIdFor = (name: string) => `/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/skr-local/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

function validate(config: PrincipalConfig): Principal {
  if (typeof config.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(config.name)) {
    throw new InvalidArgument('a principal name must be 1-128 letters, digits, "_", "." or "-"', { field: 'name' });
  }
  for (const field of ['objectId', 'clientId'] as const) {
    if (typeof config[field] !== 'string' || !GUID.test(config[field])) {
      throw new InvalidArgument(`principal ${config.name}: ${field} must be a GUID`, { field, principal: config.name });
    }
  }
  return {
    name: config.name,
    objectId: config.objectId.toLowerCase(),
    clientId: config.clientId.toLowerCase(),
    resourceId: config.resourceId ?? resourceIdFor(config.name),
  };
}

/** Loads (or creates, on first start) `<dir>/identity.json` and joins the named principals to it. */
export async function loadPrincipals(dir: string, named: PrincipalConfig[] = []): Promise<PrincipalDirectory> {
  const path = join(dir, 'identity.json');
  const raw = await readIfExists(path);
  const stored: StoredIdentity = raw ? (JSON.parse(raw.toString('utf8')) as StoredIdentity) : { tenantId: randomUUID(), defaultPrincipal: newIds() };
  if (!stored.officerPrincipal) {
    stored.officerPrincipal = newIds();
    await writeFileAtomic(path, JSON.stringify(stored, null, 2), 0o600);
  }
  const defaultPrincipal = validate({ name: DEFAULT_NAME, ...stored.defaultPrincipal });
  const officer = validate({ name: OFFICER_NAME, ...stored.officerPrincipal });
  const all = [defaultPrincipal, officer, ...named.map(validate)];
  for (const field of ['name', 'objectId', 'clientId'] as const) {
    const seen = new Set<string>();
    for (const p of all) {
      if (seen.has(p[field])) throw new InvalidArgument(`two principals share the ${field} ${p[field]}`, { field });
      seen.add(p[field]);
    }
  }
  return { tenantId: stored.tenantId, defaultPrincipal, officer, all };
}

/** How a request names an identity: IMDS's `client_id` / `object_id` / `msi_res_id`, App Service's `principal_id` / `mi_res_id`. */
export interface PrincipalSelector {
  client_id?: string;
  object_id?: string;
  principal_id?: string;
  msi_res_id?: string;
  mi_res_id?: string;
}

const SELECTORS: { key: keyof PrincipalSelector; matches: (p: Principal, v: string) => boolean }[] = [
  { key: 'client_id', matches: (p, v) => p.clientId === v.toLowerCase() },
  { key: 'object_id', matches: (p, v) => p.objectId === v.toLowerCase() },
  { key: 'principal_id', matches: (p, v) => p.objectId === v.toLowerCase() },
  // ARM resource ids compare case-insensitively.
  { key: 'msi_res_id', matches: (p, v) => p.resourceId.toLowerCase() === v.toLowerCase() },
  { key: 'mi_res_id', matches: (p, v) => p.resourceId.toLowerCase() === v.toLowerCase() },
];

/** The principal a request selects; `unnamed` when it names none. */
export function selectPrincipal(directory: PrincipalDirectory, selector: PrincipalSelector, unnamed: Principal): Principal {
  const given = SELECTORS.filter((s) => selector[s.key] !== undefined);
  if (given.length === 0) return unnamed;
  if (given.length > 1) throw new InvalidRequest(`only one of ${given.map((s) => s.key).join(', ')} may be given`);
  const { key, matches } = given[0]!;
  const value = selector[key]!;
  const found = directory.all.find((p) => matches(p, value));
  if (!found) throw new IdentityNotFound(key, value);
  return found;
}
