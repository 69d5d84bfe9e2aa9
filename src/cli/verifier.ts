import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { InvalidArgument } from '../errors';
import { checkStoreUrl, DEFAULT_CHALLENGE_OPTIONS, loadAppraisalPolicy, openVerifierStores, redactStoreUrl, verifierRevocation, type Revocation, startVerifier } from '../maa/service';
import { tlsFromPem, type TlsMaterial } from '../tls/certificates';
import { configuredRoot, type TrustedRoot, VIRTUAL_FILES, virtualUvmIssuer } from '../snp';
import { uvmIssuer, type UvmIssuer } from '../maa';
import { parseFlags, parseInteger, readInputFile } from './args';
import { privateStateDirFrom, stateDirFrom } from './state-dir';
import { untilSignal } from './signals';

const SERVE_FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  http: { type: 'boolean' },
  'state-dir': { type: 'string' },
  policy: { type: 'string' },
  issuer: { type: 'string' },
  'token-lifetime': { type: 'string' },
  'trust-root': { type: 'string', multiple: true },
  'trust-virtual': { type: 'boolean' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'crl-file': { type: 'string', multiple: true },
  'check-revocation': { type: 'string' },
  'kds-url': { type: 'string' },
  store: { type: 'string' },
} as const;

/**
 * `--store postgres://USER[:PASSWORD]@HOST:PORT/DB` (or SKR_VERIFIER_STORE): the challenge nonces
 * and reference values live in that database, shared by every verifier started with it.
 */
function storeFrom(flags: { store?: unknown }): string | undefined {
  const url = (flags.store as string | undefined) ?? (process.env.SKR_VERIFIER_STORE || undefined);
  return url === undefined ? undefined : checkStoreUrl(url);
}

/**
 * `--check-revocation on|off` (default on): see verifierRevocation for which chains are checked.
 * `--crl-file F` (repeatable, DER or PEM) makes the check offline; `--kds-url` names a KDS mirror.
 */
export async function revocationFrom(flags: { 'crl-file'?: unknown; 'check-revocation'?: unknown; 'kds-url'?: unknown }): Promise<Revocation | undefined> {
  const mode = (flags['check-revocation'] as string | undefined) ?? 'on';
  if (mode !== 'on' && mode !== 'off') throw new InvalidArgument('--check-revocation must be on or off', { field: 'check-revocation', actual: mode });
  const paths = (flags['crl-file'] as string[] | undefined) ?? [];
  const kdsUrl = flags['kds-url'] as string | undefined;
  if (mode === 'off') {
    if (paths.length > 0 || kdsUrl !== undefined) throw new InvalidArgument('--crl-file and --kds-url need --check-revocation on');
    return undefined;
  }
  if (kdsUrl !== undefined && !/^https:\/\/[^/]/.test(kdsUrl)) throw new InvalidArgument('--kds-url must be an https:// URL', { field: 'kds-url' });
  const crlFiles: Uint8Array[] = [];
  for (const path of paths) crlFiles.push(await readInputFile(path, 'crl-file'));
  try {
    return verifierRevocation({ crlFiles, ...(kdsUrl ? { kds: { baseUrl: kdsUrl } } : {}) });
  } catch (error) {
    throw new InvalidArgument(`--crl-file: ${(error as Error).message}`, { field: 'crl-file' });
  }
}

export async function trustedRoots(paths: string[], stateDir: string, trustVirtual: boolean): Promise<TrustedRoot[]> {
  const files = [...paths, ...(trustVirtual ? [join(stateDir, 'virtual', 'ark.pem')] : [])];
  const roots: TrustedRoot[] = [];
  for (const path of files) {
    const pem = await readInputFile(path, 'trust-root');
    try {
      roots.push(configuredRoot(pem));
    } catch (error) {
      throw new InvalidArgument(`--trust-root ${path}: ${(error as Error).message}`);
    }
  }
  return roots;
}

/** The did:x509 and feed of the virtual UVM root in `path`. */
async function virtualUvmIssuerAt(path: string, flag: string): Promise<UvmIssuer> {
  let root: X509Certificate;
  try {
    root = new X509Certificate(await readInputFile(path, flag));
  } catch (error) {
    throw new InvalidArgument(`--${flag}: ${path} is not the virtual UVM root (${(error as Error).message})`);
  }
  const { did, feed } = virtualUvmIssuer(root);
  return uvmIssuer(did, feed);
}

/**
 * The virtual UVM signers trusted with the virtual ARKs: a virtual state's ARK and its UVM
 * root are one trust decision (both vouch for that state's virtual TEE), so `--trust-root
 * <state>/virtual/ark.pem` trusts the `uvm-root.pem` beside it, and `--trust-virtual` the
 * state directory's own. A genuine AMD ARK has no UVM root beside it and adds none: Microsoft's
 * UVM signer is trusted by default.
 */
async function trustedUvmIssuers(rootPaths: string[], stateDir: string, trustVirtual: boolean): Promise<UvmIssuer[]> {
  const issuers: UvmIssuer[] = [];
  for (const path of rootPaths) {
    const beside = join(dirname(path), VIRTUAL_FILES.uvmRootCert);
    if (await isFile(beside)) issuers.push(await virtualUvmIssuerAt(beside, 'trust-root'));
  }
  if (trustVirtual) issuers.push(await virtualUvmIssuerAt(join(stateDir, 'virtual', VIRTUAL_FILES.uvmRootCert), 'trust-virtual'));
  return issuers;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

/** `--tls-cert` and `--tls-key` together serve a given certificate instead of a generated one. */
export async function givenTls(cert: string | undefined, key: string | undefined): Promise<TlsMaterial | undefined> {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) throw new InvalidArgument('--tls-cert and --tls-key go together');
  return tlsFromPem((await readInputFile(cert, 'tls-cert')).toString('utf8'), (await readInputFile(key, 'tls-key')).toString('utf8'));
}

/** `skr verifier`: the MAA-compatible attestation service, until SIGTERM/SIGINT. */
export async function verifierServe(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, SERVE_FLAGS);
  const stateDir = await privateStateDirFrom(flags['state-dir'] as string | undefined);
  const host = (flags.host as string | undefined) ?? '127.0.0.1';
  const rootPaths = (flags['trust-root'] as string[] | undefined) ?? [];
  const store = storeFrom(flags);
  const running = await startVerifier({
    stateDir,
    host,
    port: flags.port === undefined ? 0 : parseInteger(flags.port as string, 'port', 0, 65535),
    http: flags.http === true,
    tls: await givenTls(flags['tls-cert'] as string | undefined, flags['tls-key'] as string | undefined),
    // A group's public name is known to its template, not to the process: SKR_VERIFIER_ISSUER.
    issuer: (flags.issuer as string | undefined) ?? (process.env.SKR_VERIFIER_ISSUER || undefined),
    policy: await loadAppraisalPolicy(flags.policy as string | undefined),
    tokenLifetimeSeconds: flags['token-lifetime'] === undefined ? undefined : parseInteger(flags['token-lifetime'] as string, 'token-lifetime', 60, 7 * 86400),
    trustedRoots: await trustedRoots(rootPaths, stateDir, flags['trust-virtual'] === true),
    trustedUvmIssuers: await trustedUvmIssuers(rootPaths, stateDir, flags['trust-virtual'] === true),
    revocation: await revocationFrom(flags),
    ...(store !== undefined ? { store } : {}),
  });
  untilSignal(() => running.close());
  return {
    verifier: {
      url: running.url,
      issuer: running.issuer,
      stateDir,
      caFile: flags['tls-cert'] ? resolve(flags['tls-cert'] as string) : running.caPem ? join(stateDir, 'verifier', 'tls', 'ca.pem') : undefined,
      adminTokenFile: join(stateDir, 'verifier', 'admin-token'),
      ...(store !== undefined ? { store: redactStoreUrl(store) } : {}),
    },
  };
}

const REFS_FLAGS = {
  'state-dir': { type: 'string' },
  store: { type: 'string' },
  kind: { type: 'string' },
  value: { type: 'string' },
  note: { type: 'string' },
} as const;

/** `skr verifier refs list|add|remove`: edits the reference values running verifiers re-read (the file, or the --store database). */
export async function verifierRefs(argv: string[]): Promise<unknown> {
  const [action, ...rest] = argv;
  const flags = parseFlags(rest, REFS_FLAGS);
  const store = storeFrom(flags);
  const dir = join(stateDirFrom(flags['state-dir'] as string | undefined), 'verifier');
  const { references, close } = await openVerifierStores({ dir, ...(store !== undefined ? { url: store } : {}), challenges: DEFAULT_CHALLENGE_OPTIONS });
  try {
    switch (action) {
      case 'list':
        return { references: await references.list() };
      case 'add':
        return { added: await references.add(flags.kind ?? 'measurement', flags.value, flags.note as string | undefined) };
      case 'remove': {
        const removed = await references.remove(flags.kind ?? 'measurement', flags.value);
        if (!removed) throw new InvalidArgument('no such reference value', { kind: flags.kind ?? 'measurement' });
        return { removed: true };
      }
      default:
        throw new InvalidArgument('usage: skr verifier refs list|add|remove [--kind measurement|host-data] [--value HEX] [--state-dir D] [--store postgres://...]');
    }
  } finally {
    await close();
  }
}
