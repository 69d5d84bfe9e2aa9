import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { loadSidecarConfig, attestTeeKey, startSidecar, type RunningSidecar, type TeeKeyHolder } from '../sidecar';
import { startIdentity, type RunningIdentity } from '../identity';
import { ensurePrivateStateDir, writeFileAtomic } from '../lib/state-file';
import { startVerifier, type RunningVerifier, parseAppraisalPolicy } from '../maa/service';
import { uvmIssuer } from '../maa';
import { startKms, type RunningKms } from '../kms';
import { remoteAppraiser, startKbs, type RunningKbs } from '../kbs';
import { loadOrCreateVirtualPki } from '../snp';
import { loadOrCreateTls } from '../tls/certificates';
import { ensureDemoKeys } from './demo-keys';
import { ensureDemoResources, kmsSecretsBackend } from './demo-resources';
import { choosePorts, savePorts } from './ports';

function isService(value: unknown): value is { close(): Promise<void> } {
  return typeof value === 'object' && value !== null && typeof (value as { close?: unknown }).close === 'function';
}

export interface DevOptions {
  port?: number;
  stateDir?: string;
  host?: string;
  /** The sidecar's TEE key holder, when the caller started its keygen early. */
  teeKeys?: TeeKeyHolder;
}

export interface Endpoints {
  sidecar: string;
  verifier: string;
  kms: string;
  identity: string;
  /** The key broker (trustee's KBS protocol 0.4.0), with the KMS's secrets as its resources. */
  kbs: string;
  caCertFile: string;
  /** `IDENTITY_ENDPOINT` and the file holding `IDENTITY_HEADER` for a Crypto Officer token. */
  officer: { endpoint: string; headerFile: string };
}

export interface RunningStack {
  stateDir: string;
  endpoints: Endpoints;
  hostData: string;
  /** SHA-256 of the virtual ARK, which the demo keys' policies bind. */
  arkSha256: string;
  sidecar: RunningSidecar;
  verifier: RunningVerifier;
  kms: RunningKms;
  identity: RunningIdentity;
  kbs: RunningKbs;
  close(): Promise<void>;
}

/** `$XDG_DATA_HOME/skr/dev`, else `~/.local/share/skr/dev`. */
export function defaultDevStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'skr', 'dev');
}

/**
 * The whole system on one machine: the virtual SEV-SNP device, the verifier, the KMS and the
 * KBS over HTTPS under one generated CA, the identity endpoint, and the sidecar — the embedded
 * default behind `npm start`. Everything persists in the state directory.
 */
export async function startDevStack(options: DevOptions = {}): Promise<RunningStack> {
  const stateDir = resolve(options.stateDir ?? defaultDevStateDir());
  await ensurePrivateStateDir(stateDir);
  const host = options.host ?? '127.0.0.1';
  const sidecarPort = options.port ?? 8080;
  const tlsDir = join(stateDir, 'tls');
  const [tls, pki, ports] = await Promise.all([loadOrCreateTls(tlsDir, { name: 'skr dev' }), loadOrCreateVirtualPki(stateDir), choosePorts(stateDir, sidecarPort, host)]);
  const caCertFile = join(tlsDir, 'ca.pem');
  const started: { close(): Promise<void> }[] = [];
  // Services that do not need each other start side by side; each one that started is closed
  // if another fails.
  const together = async <T extends unknown[]>(...starting: { [K in keyof T]: Promise<T[K]> }): Promise<T> => {
    const settled = await Promise.allSettled(starting);
    for (const s of settled) if (s.status === 'fulfilled' && isService(s.value)) started.push(s.value);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
  };
  try {
    const [verifier, identity] = await together<[RunningVerifier, RunningIdentity]>(
      startVerifier({
        stateDir,
        host,
        port: ports.verifier,
        tls,
        policy: parseAppraisalPolicy('{}'),
        // The virtual device is trusted here, and only here: its ARK and its UVM signer.
        trustedRoots: [pki.root],
        trustedUvmIssuers: [uvmIssuer(pki.uvm.issuer.did, pki.uvm.issuer.feed)],
      }),
      startIdentity({ stateDir, host, port: ports.identity }),
    );
    const kms = await startKms({
      stateDir,
      host,
      port: ports.kms,
      tls,
      trustedIssuers: [],
      keyRingIssuers: [identity.verification],
      // Any local process gets the default principal's tokens, so it may only release; the
      // officer's need the identity header.
      roleAssignments: [
        { principal: identity.officerPrincipal.objectId, role: 'crypto-officer' },
        // The KBS holds the officer's credential: it reads and writes its resources as secrets.
        { principal: identity.officerPrincipal.objectId, role: 'secrets-officer' },
        { principal: identity.defaultPrincipal.objectId, role: 'crypto-service-release-user' },
      ],
      // State from before the officer principal gave the default one Crypto Officer: taken back.
      revokedRoleAssignments: [{ principal: identity.defaultPrincipal.objectId, role: 'crypto-officer' }],
      // Release as standalone `skr kms` does (signed with the TLS certificate and its CA), with
      // this stack's verifier as the only authority a policy may name.
      release: { trustedAuthorities: [verifier.issuer], authorityCa: [tls.caPem] },
    });
    started.push(kms);
    // The KBS appraises through the verifier over HTTPS (the same route as /attest/SevSnpVm) and
    // keeps its resources in the KMS's secrets, as it would in Azure Key Vault.
    const kbs = await startKbs({
      stateDir,
      host,
      port: ports.kbs,
      tls,
      appraiser: remoteAppraiser({ url: verifier.url, issuer: verifier.issuer, ca: [tls.caPem] }),
      backend: kmsSecretsBackend(kms.url, identity.officerCredential, tls.caPem),
    });
    started.push(kbs);

    // @azure/identity reaches the local identity endpoint the way pod identity does.
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = identity.url;
    const credential = new ManagedIdentityCredential();
    const hostData = pki.config.guest.hostData.toString('hex');
    const config = loadSidecarConfig({
      flags: { port: String(sidecarPort), host, device: 'virtual', 'state-dir': stateDir, 'maa-endpoint': verifier.url, 'akv-endpoint': kms.url, 'kbs-url': kbs.url },
      env: {},
    });
    config.caPems.push(tls.caPem);
    // The sidecar's TEE key is generated while the demo keys are being made.
    const [sidecar] = await together<[RunningSidecar, void, void]>(
      startSidecar(config, { credential, keepPrivileges: true, teeKeys: options.teeKeys }),
      ensureDemoKeys({ kmsUrl: kms.url, verifierIssuer: verifier.issuer, hostData, arkSha256: pki.arkSha256, credential: identity.officerCredential, caPem: tls.caPem }),
      ensureDemoResources({ broker: kbs.broker, kbsIssuer: kbs.issuer, hostData, arkSha256: pki.arkSha256 }),
    );

    // The first release need not wait for an attestation: the TEE key's token is fetched now
    // (a failure here is left for that release to report).
    attestTeeKey(sidecar.context, verifier.url).catch(() => undefined);
    const portOf = (url: string) => Number(new URL(url).port);
    await savePorts(stateDir, { verifier: portOf(verifier.url), kms: portOf(kms.url), identity: portOf(identity.url), kbs: portOf(kbs.url) });
    const endpoints: Endpoints = { sidecar: sidecar.url, verifier: verifier.url, kms: kms.url, identity: identity.url, kbs: kbs.url, caCertFile, officer: identity.officer };
    await writeFileAtomic(join(stateDir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`, 0o600);
    return {
      stateDir,
      endpoints,
      hostData,
      arkSha256: pki.arkSha256,
      sidecar,
      verifier,
      kms,
      identity,
      kbs,
      close: async () => {
        for (const service of started.reverse()) await service.close();
      },
    };
  } catch (error) {
    for (const service of started.reverse()) await service.close().catch(() => undefined);
    throw error;
  }
}
