import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { MasterKeyMismatch } from '../errors';
import { DEFAULT_REFUSAL_LIMITS, RefusalGate, type RefusalLimits } from '../lib/refusal-gate';
import { loadOrCreateSecret } from '../lib/state-file';
import { TokenVerifier, trimSlash, type KeyRingIssuer, type TokenAlgorithm } from '../oidc';
import { loadOrCreateTls, tlsChain, type TlsMaterial } from '../tls/certificates';
import { createKmsApp } from './app';
import { AuditLog } from './audit';
import { DEFAULT_AUDIENCES } from './auth/bearer';
import { findRole, normaliseScope } from './auth/roles';
import { addRoleAudited, removeRoleAudited } from './auth/audited-roles';
import { RoleAssignments } from './auth/rbac';
import { purgeExpiredKeys } from './operations/lifecycle';
import { purgeExpiredSecrets } from './operations/secrets';
import type { KmsCore } from './operations/core';
import { rotateDueKeys } from './operations/rotation';
import { parseReleasePolicy } from './policy';
import { createRelease, releaseSignerFromPem, type ReleaseSigner } from './key-release';
import type { KeyStore } from './store/key-store';
import { openKmsStore } from './store/open';
import { SweepLock } from './store/postgres/sweep-lock';
import { parseStoreLocation } from './store/store-url';
import { kmsPaths } from './paths';
import { openMasterKey, type MasterKeyConfig } from './vault';
import { gracefulCloser } from '../lib/graceful-close';
import { answerUnparsableRequests } from '../lib/http-errors';
import { requestTimeouts } from '../lib/request-timeouts';

export interface KmsOptions {
  /** State lives in `<stateDir>/kms/`: keys.sqlite, audit.sqlite, master.key, tls/, admin-token. */
  stateDir: string;
  /**
   * Where keys live: `postgres://USER@HOST:PORT/DB` (replicas started with the same state
   * directory share it) or `sqlite:PATH`; `<stateDir>/kms/keys.sqlite` by default.
   */
  store?: string;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** A CA and server certificate to serve with (the embedded stack shares one CA); generated in `<stateDir>/kms/tls` otherwise. */
  tls?: TlsMaterial;
  /** Where the master key is held; a 0600 file in the state directory by default. */
  masterKey?: MasterKeyConfig;
  /** Issuers whose bearer tokens are accepted (OpenID discovery + JWKS); with no `keyRingIssuers` either, deny all when empty. */
  trustedIssuers: string[];
  /**
   * Issuers whose bearer tokens are checked against a signing-key ring this process holds: the
   * identity endpoint of the state directory, whose ring every replica started with it shares.
   */
  keyRingIssuers?: KeyRingIssuer[];
  /** Extra CA certificates (PEM) for fetching the issuers' discovery documents and keys. */
  issuerCa?: string[];
  /** Token audiences accepted; Key Vault's and Managed HSM's by default. */
  audiences?: string[];
  algorithms?: TokenAlgorithm[];
  /** The challenge's `authorization`; the first key-ring issuer, else the first trusted issuer, by default. */
  authority?: string;
  /** The challenge's `resource`; https://vault.azure.net by default (https://managedhsm.azure.net for an HSM-shaped KMS). */
  resource?: string;
  /** The base URL in key ids; the listening URL by default. */
  vaultUrl?: string;
  /** Soft-delete retention in days (7..90; 90 by default, as Key Vault). */
  recoverableDays?: number;
  /** Request body limit (Express syntax); 1mb by default. */
  bodyLimit?: string;
  /** Role assignments ensured at start (idempotent), e.g. the development identity's. */
  roleAssignments?: { principal: string; role: string; scope?: string }[];
  /** Role assignments taken back at start, when present (a grant an earlier version made). */
  revokedRoleAssignments?: { principal: string; role: string; scope?: string }[];
  /** Audit entries older than this many days are pruned (the chain kept verifiable); 365 by default. */
  auditRetentionDays?: number;
  /** The audit log to use instead of the store's (closed with the KMS): a failing one in tests. */
  auditLog?: AuditLog;
  /** Rate and recording bounds of refused requests per caller; DEFAULT_REFUSAL_LIMITS by default. */
  refusals?: Partial<RefusalLimits>;
  /**
   * Secure key release (`POST /keys/{name}[/{version}]/release`), always on. The authority a
   * key's policy names is reached as Key Vault reaches it: its OpenID discovery document, then
   * `jwks_uri`, over HTTPS with the outbound trust (system roots, NODE_EXTRA_CA_CERTS, `authorityCa`).
   */
  release?: KmsReleaseOptions;
  /** How often retention purges, audit pruning and rotation policies run (on PostgreSQL, at one replica: the sweep lock's holder); 60 s by default. */
  sweepIntervalMs?: number;
  now?: () => Date;
}

export interface KmsReleaseOptions {
  /** Signs the release JWS; the TLS certificate, its chain and its key by default (Key Vault signs with its own). */
  signer?: ReleaseSigner;
  /** The only authorities a release policy may name; any https authority when absent or empty. */
  trustedAuthorities?: string[];
  /** Extra CA certificates (PEM) trusted when fetching an authority's discovery document and keys. */
  authorityCa?: string[];
}

export interface RunningKms {
  url: string;
  /** PEM of the CA that issued the server certificate. */
  caPem: string;
  vaultUrl: string;
  adminToken: string;
  masterKeyId: string;
  core: KmsCore;
  store: KeyStore;
  roles: RoleAssignments;
  audit: AuditLog;
  close(): Promise<void>;
}

/** Key Vault's top-level error codes for what Node's parser refuses; skr's stable code is the innererror's. */
const KV_UNPARSABLE_CODES = { 400: 'BadParameter', 408: 'RequestTimeout', 431: 'RequestHeaderFieldsTooLarge' } as const;

/** Starts the Key Vault-compatible KMS over HTTPS. */
export async function startKms(options: KmsOptions): Promise<RunningKms> {
  const paths = kmsPaths(options.stateDir);
  const host = options.host ?? '127.0.0.1';
  const tls = options.tls ?? (await loadOrCreateTls(paths.tlsDir, { name: 'skr kms' }));
  const location = parseStoreLocation(options.store, paths.keys);
  const master = await openMasterKey(options.masterKey ?? { kind: 'file', path: paths.masterKey });
  let opened: Awaited<ReturnType<typeof openKmsStore>>;
  try {
    opened = await openKmsStore(location, master, paths);
  } catch (error) {
    await master.close();
    throw error;
  }
  const audit = options.auditLog ?? new AuditLog(opened.audit);
  const clock = options.now ?? (() => new Date());
  const recoverableDays = options.recoverableDays ?? 90;
  const core: KmsCore = {
    store: opened.keys,
    secrets: opened.secrets,
    master,
    now: () => Math.floor(clock().getTime() / 1000),
    recoverableDays,
    // Every policy stored is one release can evaluate: the same grammar, checked on create, import and update.
    validateReleasePolicy: (policy) => void parseReleasePolicy(policy as object),
  };
  // Material or secret values sealed under another master key would fail one by one at use: refuse at start.
  const foreign = [...new Set([...(await core.store.foreignMasterKeyIds()), ...(await core.secrets.foreignMasterKeyIds())])];
  if (foreign.length > 0) {
    await opened.close();
    await audit.close();
    await master.close();
    throw new MasterKeyMismatch(master.id, foreign);
  }
  const roles = new RoleAssignments(opened.roles);
  // Changes made at start are audited like any other, under the KMS's own name.
  const startup = { time: core.now(), principal: 'kms:startup' };
  for (const a of options.roleAssignments ?? []) {
    const present = (await roles.list(a.principal)).some((r) => r.role === findRole(a.role)?.id && r.scope === normaliseScope(a.scope));
    if (!present) await addRoleAudited(roles, audit, startup, a.principal, a.role, a.scope);
  }
  for (const a of options.revokedRoleAssignments ?? []) await removeRoleAudited(roles, audit, startup, a);

  const server = https.createServer({ cert: tls.certPem, key: tls.keyPem, ...requestTimeouts() });
  const closeServer = gracefulCloser(server);
  answerUnparsableRequests(server, (status, message, code) => ({
    error: { code: KV_UNPARSABLE_CODES[status], message, innererror: { code } },
  }));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (error) {
    await opened.close();
    await audit.close();
    await master.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  // The generated certificate names localhost; a loopback bind is reached by that name.
  const url = `https://${host === '127.0.0.1' || host === '0.0.0.0' ? 'localhost' : host}:${port}`;
  const vaultUrl = trimSlash(options.vaultUrl ?? url);
  const adminToken = await loadOrCreateSecret(paths.adminToken);
  const trustedIssuers = options.trustedIssuers.map(trimSlash);

  const refusalLimits = { ...DEFAULT_REFUSAL_LIMITS, ...options.refusals };
  const refusals = new RefusalGate(refusalLimits);
  /** The counted refusals, one summary entry per caller and status; a failure is reported, not thrown from a timer (the counts stay for the next try). */
  const writeSummaries = async () => {
    refusals.newInterval();
    try {
      await audit.summarizeCounts(core.now());
    } catch {
      process.stderr.write('skr kms: the summaries of counted refusals could not be audited\n');
    }
  };
  const summarizer = setInterval(() => void writeSummaries(), refusalLimits.intervalMs);
  summarizer.unref();

  server.on(
    'request',
    createKmsApp({
      core,
      rbac: roles,
      audit,
      refusals,
      verifier: new TokenVerifier({ trustedIssuers, keyRingIssuers: options.keyRingIssuers, ca: options.issuerCa, algorithms: options.algorithms, now: clock }),
      audiences: options.audiences ?? DEFAULT_AUDIENCES,
      authority: options.authority ?? options.keyRingIssuers?.[0]?.issuer ?? trustedIssuers[0] ?? url,
      resource: options.resource ?? DEFAULT_AUDIENCES[0]!,
      bundle: { vaultUrl, recoverableDays },
      adminToken,
      bodyLimit: options.bodyLimit ?? '1mb',
      release: createRelease({
        signer: options.release?.signer ?? releaseSignerFromPem(tls.keyPem, tlsChain(tls)),
        trustedAuthorities: options.release?.trustedAuthorities?.length ? options.release.trustedAuthorities : undefined,
        authorityCa: options.release?.authorityCa,
        now: options.now,
      }),
    }),
  );

  const auditRetentionDays = options.auditRetentionDays ?? 365;
  const pruneAudit = () => audit.prune(auditRetentionDays, core.now()).catch((error: Error) => void process.stderr.write(`skr kms: audit retention failed: ${error.message}\n`));
  // Replicas on one PostgreSQL database sweep one at a time: the holder of the sweep lock. SQLite is one process's: it always sweeps.
  const sweepLock = location.kind === 'postgres' ? new SweepLock(location.url) : undefined;
  let leading = false;
  const leads = async () => {
    const leadsNow = (await sweepLock?.lead()) ?? true;
    if (sweepLock && leadsNow !== leading) process.stderr.write(`skr kms: this replica ${leadsNow ? 'runs' : 'no longer runs'} the periodic sweeps\n`);
    leading = leadsNow;
    return leadsNow;
  };
  // The first replica to start leads from its start.
  await leads();
  /** Retention purges of deleted keys and secrets, audit pruning, due rotations. */
  const sweep = async () => {
    if (!(await leads())) return;
    await purgeExpiredKeys(core)
      .then(() => purgeExpiredSecrets(core))
      .catch((error) => process.stderr.write(`skr kms: retention purge failed: ${(error as Error).message}\n`));
    await pruneAudit();
    await rotateDueKeys(core).catch((error) => process.stderr.write(`skr kms: rotation sweep failed: ${(error as Error).message}\n`));
  };
  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void sweep().finally(() => {
      sweeping = false;
    });
  }, options.sweepIntervalMs ?? 60_000);
  sweeper.unref();

  return {
    url,
    caPem: tls.caPem,
    vaultUrl,
    adminToken,
    masterKeyId: master.id,
    core,
    store: core.store,
    roles,
    audit,
    close: async () => {
      clearInterval(sweeper);
      clearInterval(summarizer);
      await sweepLock?.close();
      await closeServer();
      await writeSummaries();
      await audit.close();
      await opened.close();
      await master.close();
    },
  };
}
