import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManagedIdentityCredential } from '@azure/identity';
import { loadSidecarConfig } from '../src/sidecar/config';
import { startDevStack } from '../src/dev/stack';
import { startSidecar } from '../src/sidecar/server';

/**
 * The services under measurement, run in a child process of the benchmark so the load
 * generator and the services each get a core of their own, as a sibling container and the
 * sidecar would: the embedded `npm start` stack, plus a second sidecar on the same verifier and
 * KMS in Microsoft's per-request mode (the reference pipeline). Tells the parent its URLs over
 * IPC; stops when the parent disconnects.
 */
export interface StackUrls {
  sidecar: string;
  /** The same sidecar code with `freshPerRelease`: new TEE key, report and token per release. */
  reference: string;
  verifier: string;
  kms: string;
  identity: string;
  /** The App Service endpoint and header file that give a Crypto Officer token. */
  officer: { endpoint: string; headerFile: string };
  caPem: string;
  stateDir: string;
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'skr-bench-'));
  const stack = await startDevStack({ stateDir, port: 0 });
  const config = loadSidecarConfig({
    flags: {
      port: '0',
      device: 'virtual',
      'state-dir': stateDir,
      'maa-endpoint': stack.endpoints.verifier,
      'akv-endpoint': stack.endpoints.kms,
      'fresh-per-release': 'true',
    },
    env: {},
  });
  const caPem = readFileSync(stack.endpoints.caCertFile, 'utf8');
  config.caPems.push(caPem);
  // startDevStack pointed @azure/identity at its identity endpoint.
  const reference = await startSidecar(config, { credential: new ManagedIdentityCredential(), keepPrivileges: true });
  const urls: StackUrls = { ...stack.endpoints, reference: reference.url, caPem, stateDir };
  process.send!(urls);
  process.once('disconnect', () => {
    void Promise.all([reference.close(), stack.close()])
      .then(() => rm(stateDir, { recursive: true, force: true }))
      .finally(() => process.exit(0));
  });
}

process.env.SKR_LOG_LEVEL ??= 'silent';
void main().catch((error) => {
  process.stderr.write(`bench stack failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
