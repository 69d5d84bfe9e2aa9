import { generateKeyPairSync } from 'node:crypto';
import { openVirtualDevice } from '../../src/snp/device/virtual';
import { verifyReport, type CrlGetter, type CrlRequest } from '../../src/snp/verify';
import { loadOrCreateVirtualPki, mintCrl, type VirtualPki } from '../../src/snp/virtual';
import { KEYGEN_TIMEOUT, useTempDirs } from './virtual/helpers';

/**
 * verifyReport's revocation step (checkRevocations): the CRL of the chain it actually built is
 * asked for, verified against that chain's ARK, and an ASK it lists refuses the report — a
 * virtual chain and a virtual CRL, minted the way AMD's ARK signs its own.
 */
const tempDir = useTempDirs();
let pki: VirtualPki;
let report: Buffer;
let certTable: Buffer;
const now = new Date();
const window = { thisUpdate: new Date(now.getTime() - 86400_000), nextUpdate: new Date(now.getTime() + 7 * 86400_000) };

beforeAll(async () => {
  pki = await loadOrCreateVirtualPki(await tempDir(), { product: 'Milan' });
  const device = await openVirtualDevice(pki.stateDir, {});
  ({ report, certTable } = (await device.getReport({ reportData: Buffer.alloc(64, 1), vmpl: 0, withCerts: true })) as { report: Buffer; certTable: Buffer });
}, KEYGEN_TIMEOUT);

const verify = (crls: CrlGetter | undefined, checkRevocations = true) => verifyReport({ report, certTable }, { now, trustedRoots: [pki.root], checkRevocations, ...(crls ? { crls } : {}) });

test('a CRL of the virtual ARK that lists no ASK lets the report through, and is asked for the chain built', async () => {
  const asked: CrlRequest[] = [];
  const crl = mintCrl(pki.ark, { revoked: [], ...window });
  await expect(verify(async (request) => (asked.push(request), crl))).resolves.toMatchObject({ genuine: false });
  expect(asked).toEqual([expect.objectContaining({ product: 'Milan', kind: 'VCEK', genuine: false })]);
  expect(asked[0]!.ark.raw.equals(pki.ark.cert.raw)).toBe(true);
});

test('a CRL that revokes the virtual ASK refuses the report with cert_revoked', async () => {
  const crl = mintCrl(pki.ark, { revoked: [pki.ask.cert], ...window });
  await expect(verify(async () => crl)).rejects.toMatchObject({ code: 'cert_revoked', details: { certificate: 'ASK' } });
  // Without the check the same evidence verifies: the refusal is the revocation step's.
  await expect(verify(async () => crl, false)).resolves.toBeDefined();
});

test('a CRL signed by another key is crl_invalid', async () => {
  const impostor = { ...pki.ark, key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey };
  await expect(verify(async () => mintCrl(impostor, { revoked: [], ...window }))).rejects.toMatchObject({ code: 'crl_invalid' });
});

test('no CRL to check against refuses: the check fails closed', async () => {
  await expect(verify(async () => undefined)).rejects.toMatchObject({ code: 'crl_unavailable' });
  await expect(verify(undefined)).rejects.toMatchObject({ code: 'crl_unavailable' });
});
