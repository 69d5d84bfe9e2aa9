import type { TokenCredential } from '@azure/identity';
import type { KeyReleasePolicy, KeyVaultKey } from '@azure/keyvault-keys';
import { lintReleasePolicy } from '../deploy';
import { importMaterial, keyClientFor, keyShape, parseKeyName, parseKeyOps, parseKeyType, vaultError } from '../deploy/key';
import { ReleasePolicyWeak } from '../errors';
import { parseFlags, readInputFile, required } from './args';
import { readJsonFile } from './file-args';

const COMMON_FLAGS = {
  vault: { type: 'string' },
  name: { type: 'string' },
  kty: { type: 'string' },
  policy: { type: 'string' },
  exportable: { type: 'boolean' },
  'immutable-policy': { type: 'boolean' },
  'allow-weak-policy': { type: 'boolean' },
  'ca-file': { type: 'string', multiple: true },
} as const;

export const KEY_CREATE_FLAGS = { ...COMMON_FLAGS, size: { type: 'string' }, curve: { type: 'string' }, ops: { type: 'string' } } as const;
export const KEY_IMPORT_FLAGS = { ...COMMON_FLAGS, key: { type: 'string' } } as const;

/**
 * Tests pass a credential; the CLI uses DefaultAzureCredential (managed identity, az login,
 * env). Against `skr kms` / `skr dev`, creating keys needs the officer principal: set
 * IDENTITY_ENDPOINT and IDENTITY_HEADER from endpoints.json's `officer` (App Service's protocol,
 * which the managed-identity link of that chain speaks).
 */
export interface KeyCommandDeps {
  credential?: TokenCredential;
}

type CommonFlags = ReturnType<typeof parseFlags<typeof COMMON_FLAGS>>;

/**
 * --policy is linted first: a key whose release policy lacks host_data, VMPL 0 or debug=false
 * (or names an allow-all hash) is released too widely, so it is refused unless the caller says
 * so. Only an --exportable key can be released at all; Key Vault requires the policy for it.
 */
async function releaseOptions(flags: CommonFlags): Promise<{ exportable: boolean; releasePolicy: KeyReleasePolicy }> {
  const policy = await readJsonFile(required(flags.policy as string | undefined, 'policy'), '--policy');
  const lint = lintReleasePolicy(policy);
  if (!lint.ok && flags['allow-weak-policy'] !== true) throw new ReleasePolicyWeak(lint.findings.filter((f) => f.severity === 'error'));
  return {
    exportable: flags.exportable === true,
    releasePolicy: { encodedPolicy: Buffer.from(JSON.stringify(policy), 'utf8'), immutable: flags['immutable-policy'] === true },
  };
}

/** The --ca-file certificates, trusted for the vault's HTTPS besides the root store and NODE_EXTRA_CA_CERTS. */
async function caFiles(flags: CommonFlags): Promise<string[]> {
  const files = (flags['ca-file'] as string[] | undefined) ?? [];
  return Promise.all(files.map(async (file) => (await readInputFile(file, 'ca-file')).toString('utf8')));
}

/** What the vault stored, never key material. */
function describeKey(key: KeyVaultKey): unknown {
  const encoded = key.properties.releasePolicy?.encodedPolicy;
  let releasePolicy: unknown = null;
  if (encoded) {
    const text = Buffer.from(encoded).toString('utf8');
    try {
      releasePolicy = JSON.parse(text);
    } catch {
      releasePolicy = text;
    }
  }
  return {
    kid: key.id,
    name: key.name,
    version: key.properties.version,
    kty: key.keyType,
    keyOps: key.keyOperations ?? [],
    exportable: key.properties.exportable === true,
    immutablePolicy: key.properties.releasePolicy?.immutable === true,
    releasePolicy,
  };
}

/** `skr key create --vault URL --name N --kty oct-HSM|RSA-HSM|EC-HSM [--size N|--curve C] [--ops a,b] --policy F [--exportable]`. */
export async function keyCreate(argv: string[], deps: KeyCommandDeps = {}): Promise<unknown> {
  const flags = parseFlags(argv, KEY_CREATE_FLAGS);
  const vault = required(flags.vault as string | undefined, 'vault');
  const name = parseKeyName(flags.name as string | undefined);
  const kty = parseKeyType(flags.kty as string | undefined);
  const shape = keyShape(kty, flags.size as string | undefined, flags.curve as string | undefined);
  const keyOps = parseKeyOps(flags.ops as string | undefined);
  const release = await releaseOptions(flags);
  const client = keyClientFor(vault, deps.credential, await caFiles(flags));
  try {
    return describeKey(await client.createKey(name, kty, { ...shape, ...(keyOps ? { keyOps } : {}), ...release }));
  } catch (error) {
    throw vaultError(error);
  }
}

/** `skr key import --vault URL --name N --kty ... --key FILE (private JWK or PEM) --policy F [--exportable]`. */
export async function keyImport(argv: string[], deps: KeyCommandDeps = {}): Promise<unknown> {
  const flags = parseFlags(argv, KEY_IMPORT_FLAGS);
  const vault = required(flags.vault as string | undefined, 'vault');
  const name = parseKeyName(flags.name as string | undefined);
  const kty = parseKeyType(flags.kty as string | undefined);
  const key = importMaterial(await readInputFile(required(flags.key as string | undefined, 'key'), 'key'), kty);
  const release = await releaseOptions(flags);
  const client = keyClientFor(vault, deps.credential, await caFiles(flags));
  try {
    return describeKey(await client.importKey(name, key, { hardwareProtected: true, ...release }));
  } catch (error) {
    throw vaultError(error);
  }
}
