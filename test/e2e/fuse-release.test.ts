import { ManagedIdentityCredential } from '@azure/identity';
import request from 'supertest';
import { loadSidecarConfig } from '../../src/sidecar/config';
import type { RunningStack } from '../../src/dev/stack';
import { startSidecar, type RunningSidecar } from '../../src/sidecar/server';
import { virtualSecurityContextDir } from '../../src/snp/virtual';
import { describeWithFuse, FUSE_SETUP_TIMEOUT_MS, startFuseSev, type FuseSev } from '../snp/native/fuse-harness';
import { startTestStack } from './stack';

/**
 * The hardware path end to end: the sidecar reads reports through the native addon, the kernel
 * and the FUSE /dev/sev-guest (signed with the stack's virtual VCEK), and releases a key from
 * the KMS through the verifier — the same code that runs on Azure Container Instances.
 */
describeWithFuse('end to end through the kernel: /dev/sev-guest (FUSE) → verifier → KMS', () => {
  let stack: RunningStack;
  let fuse: FuseSev;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    ({ stack } = await startTestStack());
    fuse = await startFuseSev(stack.stateDir);
    const config = loadSidecarConfig({
      flags: { port: '0', device: 'sev-guest', 'device-path': fuse.guestPath, 'state-dir': stack.stateDir, 'maa-endpoint': stack.endpoints.verifier, 'akv-endpoint': stack.endpoints.kms },
      // The UVM security context (with the endorsement) comes from the platform, as ACI mounts it.
      env: { UVM_SECURITY_CONTEXT_DIR: virtualSecurityContextDir(stack.stateDir) },
    });
    config.caPems.push(stack.kms.caPem);
    sidecar = await startSidecar(config, { keepPrivileges: true, credential: new ManagedIdentityCredential() }, {});
  }, FUSE_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await sidecar?.close();
    await fuse?.stop();
    await stack?.close();
  }, 60_000);

  test('/status says sev-guest, not virtual; /key/release returns the same demo key as the virtual device', async () => {
    const status = await request(sidecar.url).get('/status');
    expect(status.body).toMatchObject({ device: 'sev-guest', virtual: false, ready: true });
    const viaKernel = await request(sidecar.url).post('/key/release?format=object').send({ kid: 'demo' });
    expect(viaKernel.status).toBe(200);
    const viaVirtual = await request(stack.endpoints.sidecar).post('/key/release?format=object').send({ kid: 'demo' });
    expect(viaKernel.body.key.k).toBe(viaVirtual.body.key.k);
    expect((await fuse.stats()).requests).toBeGreaterThan(0);
  });

  test('a firmware error surfaces as its own code; the sidecar recovers without a restart', async () => {
    await fuse.control('fw_error=0x16');
    const failed = await request(sidecar.url).post('/attest/raw').send({ runtime_data: 'aGVsbG8=' });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.body.code).toBe('firmware_error');
    await fuse.control('clear');
    expect((await request(sidecar.url).post('/attest/raw').send({ runtime_data: 'aGVsbG8=' })).status).toBe(200);
  });
});
