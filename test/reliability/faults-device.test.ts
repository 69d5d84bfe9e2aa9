import type { RunningVerifier } from '../../src/maa/service/server';
import type { RunningSidecar } from '../../src/sidecar/server';
import { startTestVerifier } from '../maa/verifier-harness';
import { startTestSidecar } from '../sidecar/harness';
import { describeWithFuse, FUSE_SETUP_TIMEOUT_MS, startFuseSev, type FuseSev } from '../snp/native/fuse-harness';
import { errorCode, postToSidecar, send } from './harness';

/**
 * Device faults through the kernel: the sidecar on a FUSE-served /dev/sev-guest whose firmware
 * errors the test injects. A firmware refusal is 502 firmware_error, a host that stays BUSY is
 * 503 device_busy, a BUSY that clears is retried unseen, and the same sidecar recovers. Identical
 * requests in flight together share a report (CoalescingDevice), so a failure is only its own caller's.
 */
const body = { runtime_data: Buffer.from('{"app":"reliability"}').toString('base64') };

describeWithFuse('sidecar on a FUSE /dev/sev-guest with injected firmware errors', () => {
  let fuse: FuseSev;
  let verifier: RunningVerifier;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    fuse = await startFuseSev();
    verifier = await startTestVerifier({ trustedRoots: [fuse.pki.root] });
    sidecar = await startTestSidecar({ device: 'sev-guest', 'device-path': fuse.guestPath, 'state-dir': fuse.stateDir, 'maa-endpoint': verifier.url, kds: 'false' });
  }, FUSE_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await sidecar?.close();
    await verifier?.close();
    await fuse?.stop();
  });
  beforeEach(() => fuse.control('clear'));

  const requests = async () => (await fuse.stats()).requests;

  test('the device works and the sidecar says it is not virtual', async () => {
    const status = await send(sidecar.url, { path: '/status' });
    expect(JSON.parse(status.text)).toMatchObject({ ready: true, device: 'sev-guest', virtual: false });
    expect((await postToSidecar(sidecar.url, '/attest/raw', body)).status).toBe(200);
  });

  test.each(['/attest/raw', '/attest/combined', '/attest/maa'])('%s: fw_error=0x16 is 502 firmware_error, not retried; the next call succeeds', async (path) => {
    await postToSidecar(sidecar.url, '/attest/raw', body);
    const before = await requests();
    await fuse.control('fw_error=0x16');
    const res = await postToSidecar(sidecar.url, path, body);
    expect(res.status).toBe(502);
    expect(errorCode(res, 'sidecar')).toBe('firmware_error');
    expect((await requests()) - before).toBe(1);
    expect((await postToSidecar(sidecar.url, path, body)).status).toBe(200);
  });

  test('vmm_error=2 (BUSY) three times: retried with backoff, the caller sees a 200', async () => {
    const before = await requests();
    await fuse.control('vmm_error=2 count=3');
    expect((await postToSidecar(sidecar.url, '/attest/raw', body)).status).toBe(200);
    expect((await requests()) - before).toBe(4);
  });

  test('BUSY through every retry: 503 device_busy; once the host stops, the same sidecar answers 200', async () => {
    await fuse.control('vmm_error=2 count=4');
    const res = await postToSidecar(sidecar.url, '/attest/raw', body);
    expect(res.status).toBe(503);
    expect(errorCode(res, 'sidecar')).toBe('device_busy');
    expect((await postToSidecar(sidecar.url, '/attest/raw', body)).status).toBe(200);
  });

  test('the device daemon restarts (the open descriptor dies): the sidecar reopens it, no restart of its own', async () => {
    await fuse.restart();
    expect((await postToSidecar(sidecar.url, '/attest/raw', body)).status).toBe(200);
    expect((await postToSidecar(sidecar.url, '/attest/maa', body)).status).toBe(200);
  });

  test('concurrent callers during a fault, each with runtime data of its own: five 502 firmware_error, fifteen 200, never a 500', async () => {
    await fuse.control('fw_error=0x16 count=5');
    const own = (i: number) => ({ runtime_data: Buffer.from(JSON.stringify({ app: 'reliability', caller: i })).toString('base64') });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => postToSidecar(sidecar.url, '/attest/raw', own(i))));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 502)).toHaveLength(5);
    expect(statuses.filter((s) => s === 200)).toHaveLength(15);
  });

  test('identical concurrent callers during a fault: only the caller whose report failed sees the 502; the rest share the next report', async () => {
    await fuse.control('fw_error=0x16 count=1');
    const before = await requests();
    const results = await Promise.all(Array.from({ length: 20 }, () => postToSidecar(sidecar.url, '/attest/raw', body)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 502)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    expect((await requests()) - before).toBeGreaterThanOrEqual(2);
    expect((await requests()) - before).toBeLessThanOrEqual(20);
  });
});
