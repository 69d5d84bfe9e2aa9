import { resolve } from 'node:path';
import { InvalidArgument } from '../errors';
import { startIdentity } from '../identity';
import { canonicalAuthority } from '../kms/policy';
import {
  addRoleAudited,
  AuditLog,
  findRole,
  kmsPaths,
  openAuditStore,
  openRoleStore,
  parseStoreLocation,
  releaseSignerFromPem,
  removeRoleAudited,
  RoleAssignments,
  startKms,
  type Decision,
  type MasterKeyConfig,
  type ReleaseSigner,
  type StoreLocation,
} from '../kms';
import { tlsChain, tlsFromPem, type TlsMaterial } from '../tls/certificates';
import { writeFileAtomic } from '../lib/state-file';
import { withStartLock } from '../lib/state-dir-lock';
import { parseFlags, parseInstant, parseInteger, readInputFile } from './args';
import { withExitCode } from './exit-code';
import { untilSignal } from './signals';
import { privateStateDirFrom } from './state-dir';

const SERVE_FLAGS = {
  store: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'state-dir': { type: 'string' },
  'identity-port': { type: 'string' },
  'master-key-file': { type: 'string' },
  'pkcs11-module': { type: 'string' },
  'pkcs11-token': { type: 'string' },
  'pkcs11-pin-file': { type: 'string' },
  'pkcs11-key-label': { type: 'string' },
  'master-key-release': { type: 'string' },
  'master-key-sidecar': { type: 'string' },
  'master-key-maa': { type: 'string' },
  'trusted-issuer': { type: 'string', multiple: true },
  'ca-file': { type: 'string', multiple: true },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'release-cert': { type: 'string' },
  'release-key': { type: 'string' },
  'trusted-authority': { type: 'string', multiple: true },
  'default-roles': { type: 'string' },
  'recoverable-days': { type: 'string' },
  'audit-retention-days': { type: 'string' },
} as const;

/**
 * The default principal's roles: release only. Any local process gets its tokens (IMDS asks
 * nothing but `Metadata: true`), so administering keys takes the officer principal, whose
 * tokens need the identity header.
 */
const DEFAULT_ROLES = 'crypto-service-release-user';
/** The officer principal's: what `skr key create` and role-free administration need. */
const OFFICER_ROLE = 'crypto-officer';

type ServeFlags = ReturnType<typeof parseFlags<typeof SERVE_FLAGS>>;

/**
 * `--store postgres://USER@HOST:PORT/DB | sqlite:PATH`, else $SKR_STORE, else the state
 * directory's SQLite files. A password in the URL is better given as $PGPASSWORD (node-postgres
 * reads it) than on a command line other users can list; either way it is never printed.
 */
function storeLocation(flag: string | undefined, stateDir: string): StoreLocation {
  return parseStoreLocation(flag ?? process.env.SKR_STORE, kmsPaths(stateDir).keys);
}

/**
 * Released at start through the group's sidecar when --master-key-release is given; a PKCS#11
 * token when --pkcs11-module is (PIN from a file or $SKR_PKCS11_PIN, never argv); else a 0600 file.
 */
async function masterKeyConfig(flags: ServeFlags, stateDir: string): Promise<MasterKeyConfig> {
  const module = flags['pkcs11-module'] as string | undefined;
  const keyUrl = flags['master-key-release'] as string | undefined;
  if (keyUrl !== undefined) {
    if (module !== undefined || flags['master-key-file'] !== undefined) throw new InvalidArgument('--master-key-release excludes --master-key-file and --pkcs11-module');
    return { kind: 'released', keyUrl, sidecarUrl: flags['master-key-sidecar'] as string | undefined, maaEndpoint: flags['master-key-maa'] as string | undefined };
  }
  if (flags['master-key-sidecar'] !== undefined || flags['master-key-maa'] !== undefined) {
    throw new InvalidArgument('--master-key-sidecar and --master-key-maa go with --master-key-release <vault>/keys/<name>');
  }
  if (!module) return { kind: 'file', path: resolve((flags['master-key-file'] as string | undefined) ?? kmsPaths(stateDir).masterKey) };
  const tokenLabel = flags['pkcs11-token'] as string | undefined;
  if (!tokenLabel) throw new InvalidArgument('--pkcs11-token (the token label) is required with --pkcs11-module');
  const pinFile = flags['pkcs11-pin-file'] as string | undefined;
  const pin = pinFile ? (await readInputFile(pinFile, 'pkcs11-pin-file')).toString('utf8').trim() : process.env.SKR_PKCS11_PIN;
  if (!pin) throw new InvalidArgument('the token PIN is required: --pkcs11-pin-file F or $SKR_PKCS11_PIN');
  return { kind: 'pkcs11', module, tokenLabel, pin, keyLabel: flags['pkcs11-key-label'] as string | undefined };
}

/** `--tls-cert` (the server certificate, then its intermediates) and `--tls-key` go together. */
async function givenTls(cert: string | undefined, key: string | undefined): Promise<TlsMaterial | undefined> {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new InvalidArgument('--tls-cert and --tls-key go together');
  return tlsFromPem((await readInputFile(cert, 'tls-cert')).toString('utf8'), (await readInputFile(key, 'tls-key')).toString('utf8'));
}

/** `--release-cert` (signing certificate, then its chain) and `--release-key`: the release JWS's signer; the TLS certificate's when absent. */
async function givenReleaseSigner(cert: string | undefined, key: string | undefined): Promise<ReleaseSigner | undefined> {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new InvalidArgument('--release-cert and --release-key go together');
  // The same checks as a TLS certificate: parses, the key is its own, valid now.
  const material = tlsFromPem((await readInputFile(cert, 'release-cert')).toString('utf8'), (await readInputFile(key, 'release-key')).toString('utf8'));
  return releaseSignerFromPem(material.keyPem, tlsChain(material));
}

/** An authority a release policy may name: an https URL without a query (as Key Vault requires), in the form release compares. */
function authorityUrl(value: string): string {
  const canonical = canonicalAuthority(value.includes('://') ? value : `https://${value}`);
  if (!canonical?.startsWith('https://') || canonical.includes('?')) throw new InvalidArgument(`--trusted-authority ${value} must be an https URL`);
  return canonical;
}

/**
 * `skr kms`: the Key Vault-compatible KMS and the local identity endpoint, until SIGTERM/SIGINT.
 * Once both listen, `<state-dir>/endpoints.json` = {kms, identity, caCertFile, officer:
 * {endpoint, headerFile}} is written atomically, 0600: `IDENTITY_ENDPOINT=officer.endpoint` and
 * `IDENTITY_HEADER=<headerFile's contents>` give a Crypto Officer token.
 */
export async function kmsServe(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, SERVE_FLAGS);
  const stateDir = await privateStateDirFrom(flags['state-dir'] as string | undefined);
  const host = (flags.host as string | undefined) ?? '127.0.0.1';
  const roles = ((flags['default-roles'] as string | undefined) ?? DEFAULT_ROLES)
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r && r !== 'none');
  const location = storeLocation(flags.store as string | undefined, stateDir);
  const masterKey = await masterKeyConfig(flags, stateDir);
  const caFile = await Promise.all(((flags['ca-file'] as string[] | undefined) ?? []).map(async (f) => (await readInputFile(f, 'ca-file')).toString('utf8')));
  const tls = await givenTls(flags['tls-cert'] as string | undefined, flags['tls-key'] as string | undefined);
  const releaseSigner = await givenReleaseSigner(flags['release-cert'] as string | undefined, flags['release-key'] as string | undefined);
  const trustedAuthorities = ((flags['trusted-authority'] as string[] | undefined) ?? []).map(authorityUrl);

  // Replicas share the state directory: one at a time loads or creates its material (withStartLock).
  const { identity, kms } = await withStartLock(stateDir, async () => {
    const identity = await startIdentity({
      stateDir,
      port: flags['identity-port'] === undefined ? 0 : parseInteger(flags['identity-port'] as string, 'identity-port', 0, 65535),
    });
    try {
      const kms = await startKms({
        stateDir,
        store: location.kind === 'postgres' ? location.url : `sqlite:${location.path}`,
        host,
        port: flags.port === undefined ? 0 : parseInteger(flags.port as string, 'port', 0, 65535),
        tls,
        // Key ids name the vault as clients reach it (the group's public name), SKR_KMS_VAULT_URL; the listening URL otherwise.
        vaultUrl: process.env.SKR_KMS_VAULT_URL || undefined,
        masterKey,
        // The identity of this state directory, whichever replica issued the token; external issuers by --trusted-issuer.
        keyRingIssuers: [identity.verification],
        trustedIssuers: (flags['trusted-issuer'] as string[] | undefined) ?? [],
        issuerCa: caFile,
        release: { signer: releaseSigner, trustedAuthorities, authorityCa: caFile },
        recoverableDays: flags['recoverable-days'] === undefined ? undefined : parseInteger(flags['recoverable-days'] as string, 'recoverable-days', 7, 90),
        // Audit entries are kept a year by default.
        auditRetentionDays: flags['audit-retention-days'] === undefined ? undefined : parseInteger(flags['audit-retention-days'] as string, 'audit-retention-days', 1, 36_500),
        roleAssignments: [{ principal: identity.officerPrincipal.objectId, role: OFFICER_ROLE }, ...roles.map((role) => ({ principal: identity.defaultPrincipal.objectId, role }))],
        // State from before the officer principal gave the default one Crypto Officer by default:
        // taken back unless --default-roles asks for it.
        revokedRoleAssignments: roles.some((role) => findRole(role)?.id === OFFICER_ROLE) ? [] : [{ principal: identity.defaultPrincipal.objectId, role: OFFICER_ROLE }],
      });
      return { identity, kms };
    } catch (error) {
      await identity.close();
      throw error;
    }
  });
  const paths = kmsPaths(stateDir);
  // With an operator's certificate, clients trust what issued it: the chain file names it last.
  const caCertFile = resolve((flags['tls-cert'] as string | undefined) ?? paths.caCert);
  const endpoints = { kms: kms.url, identity: identity.url, caCertFile, officer: identity.officer };
  await writeFileAtomic(resolve(stateDir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`, 0o600);
  const running = kms;
  untilSignal(async () => {
    await running.close();
    await identity.close();
  });
  return {
    kms: {
      url: kms.url,
      identity: identity.url,
      caCertFile,
      stateDir,
      store: location.kind === 'postgres' ? location.display : `sqlite:${location.path}`,
      masterKey: kms.masterKeyId,
      adminTokenFile: paths.adminToken,
      defaultPrincipal: { objectId: identity.defaultPrincipal.objectId, roles },
      officer: { objectId: identity.officerPrincipal.objectId, roles: [OFFICER_ROLE], ...identity.officer },
    },
  };
}

const ROLE_FLAGS = {
  'state-dir': { type: 'string' },
  store: { type: 'string' },
  principal: { type: 'string' },
  role: { type: 'string' },
  scope: { type: 'string' },
  id: { type: 'string' },
} as const;

/** The operator running the CLI, as the audit log names them. */
const operator = () => `operator:${process.getuid?.() ?? 'unknown'}`;

/**
 * `skr kms role add|list|remove`: edits the role assignments a running KMS reads on every
 * request. Each change is on the KMS's audit log (principal `operator:<uid>`, in the store
 * `--store` names), committed before the change is made: a change that cannot be audited is not made.
 */
export async function kmsRole(argv: string[]): Promise<unknown> {
  const [action, ...rest] = argv;
  const flags = parseFlags(rest, ROLE_FLAGS);
  const stateDir = await privateStateDirFrom(flags['state-dir'] as string | undefined);
  const location = storeLocation(flags.store as string | undefined, stateDir);
  const store = await openRoleStore(location);
  let audit: AuditLog | undefined;
  try {
    const roles = new RoleAssignments(store.roles);
    const log = async () => (audit ??= new AuditLog(await openAuditStore(location, kmsPaths(stateDir))));
    const who = { time: Math.floor(Date.now() / 1000), principal: operator(), route: 'skr kms role' };
    switch (action) {
      case 'add': {
        if (!flags.principal || !flags.role) throw new InvalidArgument('usage: skr kms role add --principal ID --role ROLE [--scope /|/keys/NAME|/secrets/NAME]');
        return { added: await addRoleAudited(roles, await log(), who, flags.principal as string, flags.role as string, flags.scope as string | undefined) };
      }
      case 'list':
        return { assignments: await roles.list(flags.principal as string | undefined) };
      case 'remove': {
        const selector = flags.id
          ? { id: flags.id as string }
          : flags.principal && flags.role
            ? { principal: flags.principal as string, role: flags.role as string, scope: flags.scope as string | undefined }
            : undefined;
        if (selector === undefined) throw new InvalidArgument('usage: skr kms role remove --id ID | --principal ID --role ROLE [--scope S]');
        if (!(await removeRoleAudited(roles, await log(), who, selector))) throw new InvalidArgument('no such role assignment');
        return { removed: true };
      }
      default:
        throw new InvalidArgument('usage: skr kms role add|list|remove [--principal ID] [--role ROLE] [--scope /|/keys/NAME|/secrets/NAME] [--id ID] [--state-dir D]');
    }
  } finally {
    await store.close();
    await audit?.close();
  }
}

const AUDIT_FLAGS = {
  'state-dir': { type: 'string' },
  store: { type: 'string' },
  key: { type: 'string' },
  principal: { type: 'string' },
  decision: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  checkpoint: { type: 'string' },
} as const;

/** `ID:HASH`, as an earlier verify printed its head. */
function parseCheckpoint(text: string): { id: number; hash: string } {
  const match = /^(\d{1,15}):([0-9a-fA-F]{64})$/.exec(text);
  if (!match) throw new InvalidArgument('--checkpoint must be ID:HASH (the "head" an earlier `skr kms audit verify` printed)');
  return { id: Number(match[1]), hash: match[2]!.toLowerCase() };
}

/**
 * `skr kms audit [verify]`: the newest audit entries, filtered by key, principal, decision and
 * time; `verify [--checkpoint ID:HASH]` walks the hash chain and reports `{ok:true,entries,head}`
 * or the first broken link (`{ok:false,brokenAt,…}`, exit 1); with a checkpoint (an earlier
 * head, kept outside the state directory) a cut or rewritten log is a broken link too.
 */
export async function kmsAudit(argv: string[]): Promise<unknown> {
  const verify = argv[0] === 'verify';
  const flags = parseFlags(verify ? argv.slice(1) : argv, AUDIT_FLAGS);
  const decision = flags.decision as string | undefined;
  if (decision !== undefined && !['allow', 'deny', 'error', 'intent'].includes(decision)) throw new InvalidArgument('--decision must be allow, deny, error or intent');
  const stateDir = await privateStateDirFrom(flags['state-dir'] as string | undefined);
  const log = new AuditLog(await openAuditStore(storeLocation(flags.store as string | undefined, stateDir), kmsPaths(stateDir)));
  try {
    if (verify) {
      const verdict = await log.verify(flags.checkpoint === undefined ? undefined : parseCheckpoint(flags.checkpoint as string));
      return verdict.ok ? verdict : withExitCode(verdict, 1);
    }
    return {
      entries: await log.query({
        key: flags.key as string | undefined,
        principal: flags.principal as string | undefined,
        decision: decision as Decision | undefined,
        since: flags.since === undefined ? undefined : Math.floor(parseInstant(flags.since as string, 'since').getTime() / 1000),
        limit: flags.limit === undefined ? 100 : parseInteger(flags.limit as string, 'limit', 1, 10_000),
      }),
    };
  } finally {
    await log.close();
  }
}
