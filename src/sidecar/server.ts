import http from 'node:http';
import type { JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
import type { SidecarConfig } from './config';
import { KbsClient } from '../kbs';
import { MaaClient } from '../maa';
import { TokenVerifier } from '../oidc';
import { ensurePrivateStateDir } from '../lib/state-file';
import { createHttpGetter } from '../lib/http-getter';
import { createCertSources, virtualSecurityContextDir, openDevice } from '../snp';
import { createSidecarApp, type SidecarContext } from './app';
import { EvidenceCollector, reportDevice } from './evidence';
import { KeyClients } from './key-clients';
import { createObservability } from './observability';
import { dropPrivileges, handOver, lookupAccount, runningAsRoot } from './privileges';
import { ReleaseJwsVerifier } from './release-jws';
import { UnwrappedKeys } from './unwrapped-keys';
import { SharedNextCall } from '../lib/shared-next-call';
import { TeeKeyHolder } from './tee-key';
import { gracefulCloser } from '../lib/graceful-close';
import { answerUnparsableRequests } from '../lib/http-errors';
import { requestTimeouts } from '../lib/request-timeouts';

export interface SidecarOverrides {
  /** The credential for the key service; managed or workload identity otherwise. */
  credential?: TokenCredential;
  /** Keep root (the embedded `skr dev` stack, tests). */
  keepPrivileges?: boolean;
  /** A holder whose first key is already being generated (`skr dev` starts it before loading the stack). */
  teeKeys?: TeeKeyHolder;
}

export interface RunningSidecar {
  url: string;
  context: SidecarContext;
  close(): Promise<void>;
}

/** Workload identity when its three variables are set (AKS), else the managed identity (ACI). */
function platformCredential(config: SidecarConfig, env: NodeJS.ProcessEnv): TokenCredential {
  if (env.AZURE_FEDERATED_TOKEN_FILE && env.AZURE_CLIENT_ID && env.AZURE_TENANT_ID) return new WorkloadIdentityCredential();
  return config.identityClientId ? new ManagedIdentityCredential({ clientId: config.identityClientId }) : new ManagedIdentityCredential();
}

export async function startSidecar(config: SidecarConfig, overrides: SidecarOverrides = {}, env: NodeJS.ProcessEnv = process.env): Promise<RunningSidecar> {
  // Resolved first, so an unknown user fails before anything is opened or written as root.
  const account = !overrides.keepPrivileges && config.user && runningAsRoot() ? await lookupAccount(config.user) : undefined;
  await ensurePrivateStateDir(config.stateDir);
  const cacheDir = join(config.stateDir, 'vcek-cache');
  // Identical report requests in flight together share the next report; distinct ones are bounded at the device (reportDevice).
  const device = reportDevice(await openDevice({ device: config.device, path: config.devicePath, stateDir: config.stateDir }), config.deviceConcurrency);
  const certs = createCertSources({
    // The virtual device's state holds a UVM security context of its own, as ACI mounts one.
    securityContext: { dir: config.securityContextDir ?? (device.virtual ? virtualSecurityContextDir(config.stateDir) : undefined), env },
    ...(config.thimUrl ? { thim: { url: config.thimUrl } } : {}),
    ...(config.useKds ? { kds: {} } : {}),
    cacheDir,
    http: createHttpGetter({ timeoutMs: config.timeoutMs }),
  });
  const teeKeys = overrides.teeKeys ?? new TeeKeyHolder({ modulusLength: config.teeKeyBits, ttlMs: config.teeKeyTtlSeconds * 1000, fresh: config.freshPerRelease });
  // The first key is generated while the rest starts (RSA key generation is slow); a release
  // that comes sooner waits for that same keygen. A failure is retried by the next get.
  if (!config.freshPerRelease) teeKeys.get().catch(() => undefined);
  const verifier = new TokenVerifier({ trustedIssuers: [...config.allowedEndpoints], ca: config.caPems, timeoutMs: config.timeoutMs });
  const evidence = new EvidenceCollector(device, certs, { defaultProduct: config.defaultProduct });
  const context: SidecarContext = {
    evidence,
    ...(config.kbsEndpoint ? { kbs: new KbsClient({ url: config.kbsEndpoint, device, ca: config.caPems, timeoutMs: config.timeoutMs }) } : {}),
    maa: new MaaClient({ verifier, ca: config.caPems, timeoutMs: config.timeoutMs, cacheTokens: !config.freshPerRelease }),
    teeKeys,
    keyClients: new KeyClients({ credential: overrides.credential ?? platformCredential(config, env), ca: config.caPems, maxRetries: 3 }),
    jws: new ReleaseJwsVerifier({ ca: config.caPems }),
    ...(config.freshPerRelease ? {} : { unwrapped: new UnwrappedKeys(), joined: new SharedNextCall<JsonWebKey>((key) => structuredClone(key)) }),
    timeoutMs: config.timeoutMs,
    observability: createObservability(),
    maaEndpoint: config.maaEndpoint,
    akvEndpoint: config.akvEndpoint,
    allowedEndpoints: config.allowedEndpoints,
    status: async () => {
      const checks: Record<string, unknown> = {
        device: { name: device.name, path: device.path, virtual: device.virtual },
        teeKey: (await teeKeys.get().then(
          () => 'ok',
          () => 'failed',
        )) as string,
        maaEndpoint: config.maaEndpoint ?? null,
        akvEndpoint: config.akvEndpoint ?? null,
        kbsEndpoint: config.kbsEndpoint ?? null,
        allowedEndpoints: [...config.allowedEndpoints],
      };
      return { ready: checks.teeKey === 'ok', checks };
    },
  };
  const server = http.createServer(requestTimeouts(), createSidecarApp(context));
  const closeServer = gracefulCloser(server);
  answerUnparsableRequests(server, (_status, message, code) => ({ error: message, code }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  if (account) {
    // Everything read from root-only state is read now: the device (opened above, keys in
    // memory) and the security context. The one thing written later, the VCEK cache, becomes
    // the account's, so nothing under the state directory is written by root after this.
    await certs.securityContext();
    await handOver(config.stateDir, cacheDir, account);
    dropPrivileges(account);
  }
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    context,
    close: async () => {
      await closeServer();
      await device.close();
    },
  };
}
