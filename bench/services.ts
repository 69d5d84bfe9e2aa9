import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken } from '@azure/identity';
import { ensureDemoKeys } from '../src/dev/demo-keys';
import { loadOrCreateVirtualPki } from '../src/snp';

/**
 * The services under measurement, each in a process of its own as users deploy them (README,
 * "Self-hosted verifier and KMS, as separate processes"): `skr verifier` trusting a virtual
 * TEE's ARK, `skr kms` with its identity endpoint, and `skr sidecar --device virtual` on that
 * TEE, plus a second sidecar in Microsoft's per-request mode (the reference pipeline). The
 * demo keys of `npm start` are made in the KMS as its officer. Each service gets its own event
 * loop; the load generator runs in the benchmark's process.
 */
export interface StackUrls {
  sidecar: string;
  /** The same sidecar code with `--fresh-per-release`: new TEE key, report and token per release. */
  reference: string;
  verifier: string;
  kms: string;
  identity: string;
  /** The App Service endpoint and header file that give a Crypto Officer token. */
  officer: { endpoint: string; headerFile: string };
  /** The verifier's CA and the KMS's, one PEM bundle. */
  caPem: string;
  /** The virtual TEE's state directory. */
  stateDir: string;
}

export interface Services {
  urls: StackUrls;
  /** The process ids, for a profiler or `ps`: verifier, kms, sidecar, reference. */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

const SKR = join(__dirname, 'skr.js');

/** Starts `skr ROLE ...` and resolves with the JSON document it prints once it serves (`{ROLE: {...}}`). */
function startService(children: ChildProcess[], nodeFlags: string[], args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, Record<string, string>>> {
  const child = spawn(process.execPath, [...nodeFlags, SKR, ...args], {
    env: { ...process.env, SKR_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  // Kept for the error when a service fails to start; its stop message is not worth printing.
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4_000)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      try {
        const document = JSON.parse(stdout);
        if (document && typeof document === 'object' && args[0]! in document) resolve(document);
      } catch {
        // not the whole document yet
      }
    });
    child.once('exit', (code) => reject(new Error(`skr ${args[0]} exited with ${code}: ${stderr}`)));
  });
}

function stopAll(children: ChildProcess[]): Promise<void> {
  return Promise.all(
    children.map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      return exited;
    }),
  ).then(() => undefined);
}

/** With `profileDir`, each service writes a V8 CPU profile there when it stops (`node --cpu-prof`). */
export async function startServices(options: { profileDir?: string } = {}): Promise<Services> {
  const work = await mkdtemp(join(tmpdir(), 'skr-bench-'));
  const tee = join(work, 'tee');
  const children: ChildProcess[] = [];
  const nodeFlags = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir] : [];
  const start = (args: string[], env: NodeJS.ProcessEnv = {}) => startService(children, nodeFlags, args, env);
  try {
    const pki = await loadOrCreateVirtualPki(tee);
    const { verifier } = await start(['verifier', '--port', '0', '--state-dir', join(work, 'verifier'), '--trust-root', join(tee, 'virtual', 'ark.pem')]);
    // The KMS fetches the verifier's keys over HTTPS, so it trusts the verifier's CA.
    const { kms } = await start(['kms', '--port', '0', '--state-dir', join(work, 'kms')], { NODE_EXTRA_CA_CERTS: verifier!.caFile });
    const endpoints = JSON.parse(await readFile(join(work, 'kms', 'endpoints.json'), 'utf8')) as { caCertFile: string; officer: StackUrls['officer'] };
    const caPem = `${await readFile(verifier!.caFile!, 'utf8')}\n${await readFile(endpoints.caCertFile, 'utf8')}`;
    const bundle = join(work, 'ca-bundle.pem');
    await writeFile(bundle, caPem);
    await ensureDemoKeys({
      kmsUrl: kms!.url!,
      verifierIssuer: verifier!.url!,
      hostData: pki.config.guest.hostData.toString('hex'),
      arkSha256: pki.arkSha256,
      credential: await officerCredential(endpoints.officer),
      caPem,
    });
    const sidecarArgs = ['sidecar', '--port', '0', '--device', 'virtual', '--state-dir', tee, '--maa-endpoint', verifier!.url!, '--akv-endpoint', kms!.url!, '--user', 'root'];
    const sidecarEnv = { NODE_EXTRA_CA_CERTS: bundle, AZURE_POD_IDENTITY_AUTHORITY_HOST: kms!.identity };
    const [{ sidecar }, { sidecar: reference }] = await Promise.all([start(sidecarArgs, sidecarEnv), start([...sidecarArgs, '--fresh-per-release', 'true'], sidecarEnv)]);
    const [verifierPid, kmsPid, sidecarPid, referencePid] = children.map((c) => c.pid!);
    return {
      urls: { sidecar: sidecar!.url!, reference: reference!.url!, verifier: verifier!.url!, kms: kms!.url!, identity: kms!.identity!, officer: endpoints.officer, caPem, stateDir: tee },
      pids: { verifier: verifierPid!, kms: kmsPid!, sidecar: sidecarPid!, reference: referencePid! },
      stop: () => stopAll(children).then(() => rm(work, { recursive: true, force: true })),
    };
  } catch (error) {
    await stopAll(children);
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}

/** The officer's access token for the vault (creates need Crypto Officer), fetched as App Service clients do. */
export async function officerCredential(officer: StackUrls['officer']) {
  const header = await readFile(officer.headerFile, 'utf8');
  const response = await fetch(`${officer.endpoint}?api-version=2019-08-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': header } });
  if (!response.ok) throw new Error(`officer token: HTTP ${response.status}`);
  const token = String(((await response.json()) as { access_token?: unknown }).access_token);
  return { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3_000_000 }) };
}
