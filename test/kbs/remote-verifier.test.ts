import { KbsClient, remoteAppraiser, type RunningKbs } from '../../src/kbs';
import { configuredRoot } from '../../src/snp';
import type { VirtualDevice } from '../../src/snp/device/virtual';
import type { RunningVerifier } from '../../src/maa/service/server';
import { startTestVerifier } from '../maa/verifier-harness';
import { handshake, startTestKbs, virtualGuest, virtualTeePolicy } from './harness';

/** The KBS appraising through a remote `skr verifier` over HTTPS instead of in process. */
let device: VirtualDevice;
let verifier: RunningVerifier;
let kbs: RunningKbs;

beforeAll(async () => {
  device = await virtualGuest();
  verifier = await startTestVerifier({ http: false, trustedRoots: [configuredRoot(device.pki.ark.pem)] });
  kbs = await startTestKbs(device, { appraiser: remoteAppraiser({ url: verifier.url, ca: [verifier.caPem!] }) });
  await kbs.broker.setResource(['default', 'remote', 'secret'], Buffer.from('via the verifier'), 'test');
  await kbs.broker.setPolicy('default', JSON.parse(virtualTeePolicy(kbs)), 'test');
}, 60_000);

afterAll(async () => {
  await kbs?.close();
  await verifier?.close();
});

test.each(['guest-components', 'skr'] as const)("a resource is released on the remote verifier's appraisal of %s evidence", async (evidence) => {
  expect((await new KbsClient({ url: kbs.url, device, evidence }).getResource('default/remote/secret')).toString()).toBe('via the verifier');
});

test('the remote verifier refuses evidence bound to another key, and the KBS says why', async () => {
  const other = await handshake(kbs, device);
  const { attest } = await handshake(kbs, device, { bindKey: other.teePubkey });
  const response = await attest();
  expect(response.status).toBe(401);
  expect(await response.json()).toMatchObject({ code: 'kbs_attestation_refused', details: { cause: 'runtime_data_mismatch' } });
});
