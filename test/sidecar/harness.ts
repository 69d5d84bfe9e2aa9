import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenCredential } from '@azure/core-auth';
import { loadSidecarConfig, type SidecarConfig } from '../../src/sidecar/config';
import { startSidecar, type RunningSidecar } from '../../src/sidecar/server';
import { loadOrCreateVirtualPki } from '../../src/snp/virtual';

/** A virtual device state whose ARK a test verifier trusts. */
type Pki = Awaited<ReturnType<typeof loadOrCreateVirtualPki>>;

export async function virtualState(): Promise<{ stateDir: string; root: Pki['root']; uvm: Pki['uvm'] }> {
  const stateDir = mkdtempSync(join(tmpdir(), 'skr-sidecar-'));
  const pki = await loadOrCreateVirtualPki(stateDir);
  return { stateDir, root: pki.root, uvm: pki.uvm };
}

export async function startTestSidecar(flags: Record<string, string>, extra: { caPems?: string[]; credential?: TokenCredential; tweak?: (c: SidecarConfig) => void } = {}): Promise<RunningSidecar> {
  const config = loadSidecarConfig({ flags: { port: '0', device: 'virtual', ...flags }, env: {} });
  config.caPems.push(...(extra.caPems ?? []));
  extra.tweak?.(config);
  return startSidecar(config, { keepPrivileges: true, credential: extra.credential ?? { getToken: async () => null } }, {});
}
