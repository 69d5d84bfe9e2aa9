import { join, resolve } from 'node:path';
import { DefaultAzureCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { InvalidArgument } from '../errors';
import { DEFAULT_MAX_SESSIONS, DirectoryBackend, PostgresSessionStore, remoteAppraiser, SecretsBackend, startKbs, type ResourceBackend } from '../kbs';
import { isLoopback, normaliseEndpoint } from '../lib/endpoint';
import { checkStoreUrl, loadAppraisalPolicy, redactStoreUrl, VerifierDatabase } from '../maa/service';
import { loadOrCreateTls } from '../tls/certificates';
import { outboundTrust } from '../tls/trust';
import { parseFlags, parseInteger, readInputFile } from './args';
import { untilSignal } from './signals';
import { privateStateDirFrom } from './state-dir';
import { givenTls, revocationFrom, trustedRoots } from './verifier';

const SERVE_FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  http: { type: 'boolean' },
  'state-dir': { type: 'string' },
  issuer: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  policy: { type: 'string' },
  'trust-root': { type: 'string', multiple: true },
  'trust-virtual': { type: 'boolean' },
  'crl-file': { type: 'string', multiple: true },
  'check-revocation': { type: 'string' },
  'kds-url': { type: 'string' },
  'verifier-url': { type: 'string' },
  'verifier-issuer': { type: 'string' },
  'verifier-ca-file': { type: 'string', multiple: true },
  'vault-url': { type: 'string' },
  'vault-ca-file': { type: 'string', multiple: true },
  'admin-public-key': { type: 'string', multiple: true },
  'token-lifetime': { type: 'string' },
  'session-ttl': { type: 'string' },
  'auth-per-minute': { type: 'string' },
  store: { type: 'string' },
} as const;

/**
 * `--vault-url`: resources are Key Vault secrets there (Azure Key Vault, or `skr kms`), read with
 * `@azure/keyvault-secrets` under DefaultAzureCredential (managed or workload identity, the
 * environment, the Azure CLI). A loopback vault (the embedded KMS) relaxes only the SDK's
 * challenge-resource check and, over plain http, its https requirement. Without it, resources
 * are files in `<state-dir>/kbs/resources`.
 */
async function backendFrom(flags: { 'vault-url'?: unknown; 'vault-ca-file'?: unknown }, stateDir: string): Promise<{ backend: ResourceBackend; description: string }> {
  const vault = flags['vault-url'] as string | undefined;
  if (vault === undefined) {
    const dir = join(stateDir, 'kbs', 'resources');
    return { backend: new DirectoryBackend(dir), description: dir };
  }
  const origin = normaliseEndpoint(vault, 'vault-url');
  const url = new URL(origin);
  const loopback = isLoopback(url.hostname);
  const ca: string[] = [];
  for (const path of (flags['vault-ca-file'] as string[] | undefined) ?? []) ca.push((await readInputFile(path, 'vault-ca-file')).toString('utf8'));
  const client = new SecretClient(origin, new DefaultAzureCredential(), {
    disableChallengeResourceVerification: loopback,
    allowInsecureConnection: loopback && url.protocol === 'http:',
    ...(ca.length ? { tlsOptions: { ca: [...outboundTrust(ca).ca] } } : {}),
  });
  return { backend: new SecretsBackend(client), description: origin };
}

function seconds(value: unknown, flag: string, min: number, max: number): number | undefined {
  return value === undefined ? undefined : parseInteger(value as string, flag, min, max);
}

/** `skr kbs`: the trustee-compatible key broker, until SIGTERM/SIGINT. */
export async function kbsServe(argv: string[]): Promise<unknown> {
  const flags = parseFlags(argv, SERVE_FLAGS);
  const host = (flags.host as string | undefined) ?? '127.0.0.1';
  // Plain HTTP beyond this host would carry admin tokens in clear and let anyone on the path substitute resources.
  if (flags.http === true && !isLoopback(host)) throw new InvalidArgument(`--http serves loopback only (127.0.0.1, ::1, localhost), not --host ${host}: serve HTTPS on other addresses`);
  const stateDir = await privateStateDirFrom(flags['state-dir'] as string | undefined);
  const given = await givenTls(flags['tls-cert'] as string | undefined, flags['tls-key'] as string | undefined);
  if (given && flags.http === true) throw new InvalidArgument('--http and --tls-cert exclude each other');
  const tls = flags.http === true ? undefined : (given ?? (await loadOrCreateTls(join(stateDir, 'kbs', 'tls'), { name: 'skr kbs' })));
  const adminPublicKeys: Buffer[] = [];
  for (const path of (flags['admin-public-key'] as string[] | undefined) ?? []) adminPublicKeys.push(await readInputFile(path, 'admin-public-key'));
  const { backend, description } = await backendFrom(flags, stateDir);
  // --verifier-url: a remote skr verifier appraises (its own policy and roots); otherwise this process does.
  const verifierUrl = flags['verifier-url'] as string | undefined;
  const verifierCa: string[] = [];
  for (const path of (flags['verifier-ca-file'] as string[] | undefined) ?? []) verifierCa.push((await readInputFile(path, 'verifier-ca-file')).toString('utf8'));
  const appraiser = verifierUrl
    ? remoteAppraiser({
        url: normaliseEndpoint(verifierUrl, 'verifier-url'),
        ...(flags['verifier-issuer'] ? { issuer: flags['verifier-issuer'] as string } : {}),
        ...(verifierCa.length ? { ca: verifierCa } : {}),
      })
    : undefined;
  // Replicas share sessions through the verifier's PostgreSQL database (`--store`/SKR_KBS_STORE).
  const storeUrl = (flags.store as string | undefined) ?? (process.env.SKR_KBS_STORE || undefined);
  const sessionDb = storeUrl === undefined ? undefined : await VerifierDatabase.open(checkStoreUrl(storeUrl));
  const running = await startKbs({
    stateDir,
    ...(sessionDb ? { sessions: new PostgresSessionStore(sessionDb, DEFAULT_MAX_SESSIONS) } : {}),
    host,
    port: flags.port === undefined ? 0 : parseInteger(flags.port as string, 'port', 0, 65535),
    ...(tls ? { tls } : {}),
    issuer: (flags.issuer as string | undefined) ?? (process.env.SKR_KBS_ISSUER || undefined),
    ...(appraiser
      ? { appraiser }
      : {
          verifier: {
            policy: await loadAppraisalPolicy(flags.policy as string | undefined),
            trustedRoots: await trustedRoots((flags['trust-root'] as string[] | undefined) ?? [], stateDir, flags['trust-virtual'] === true),
            revocation: await revocationFrom(flags),
          },
        }),
    backend,
    adminPublicKeys,
    tokenLifetimeSeconds: seconds(flags['token-lifetime'], 'token-lifetime', 60, 86400),
    sessionTtlSeconds: seconds(flags['session-ttl'], 'session-ttl', 30, 3600),
    authPerMinute: seconds(flags['auth-per-minute'], 'auth-per-minute', 1, 1_000_000),
  });
  untilSignal(async () => {
    await running.close();
    await sessionDb?.close();
  });
  return {
    kbs: {
      url: running.url,
      issuer: running.issuer,
      stateDir,
      resources: description,
      sessions: storeUrl === undefined ? 'in memory' : redactStoreUrl(storeUrl),
      verifier: verifierUrl ?? 'in process',
      caFile: flags['tls-cert'] ? resolve(flags['tls-cert'] as string) : tls ? join(stateDir, 'kbs', 'tls', 'ca.pem') : undefined,
      adminKeyFile: running.adminKeyFile,
      auditFile: running.auditFile,
      jwks: `${running.issuer}/.well-known/jwks.json`,
    },
  };
}
