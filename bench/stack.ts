import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSidecarConfig } from '../src/config/sidecar';
import { parseAppraisalPolicy } from '../src/maa/service/appraisal-policy';
import { startVerifier } from '../src/maa/service/server';
import { startSidecar } from '../src/sidecar/server';
import { loadOrCreateVirtualPki } from '../src/snp/virtual';

/**
 * The services under measurement, run in a child process of the benchmark so the load
 * generator and the sidecar each get a core of their own, as a sibling container and the
 * sidecar would. Tells the parent its URLs over IPC; stops when the parent disconnects.
 */
export interface StackUrls {
  sidecar: string;
  verifier: string;
  stateDir: string;
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), 'skr-bench-'));
  const pki = await loadOrCreateVirtualPki(stateDir);
  const verifier = await startVerifier({ stateDir, policy: parseAppraisalPolicy('{}'), http: true, trustedRoots: [pki.root] });
  const config = loadSidecarConfig({ flags: { port: '0', device: 'virtual', 'state-dir': stateDir, 'maa-endpoint': verifier.url, kds: 'false' }, env: {} });
  const sidecar = await startSidecar(config, { keepPrivileges: true, credential: { getToken: async () => null } }, {});
  const urls: StackUrls = { sidecar: sidecar.url, verifier: verifier.url, stateDir };
  process.send!(urls);
  process.once('disconnect', () => {
    void Promise.all([sidecar.close(), verifier.close()])
      .then(() => rm(stateDir, { recursive: true, force: true }))
      .finally(() => process.exit(0));
  });
}

process.env.SKR_LOG_LEVEL ??= 'silent';
void main().catch((error) => {
  process.stderr.write(`bench stack failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
