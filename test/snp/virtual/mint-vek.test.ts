import { generateKeyPairSync } from 'node:crypto';
import { VirtualDevice } from '../../../src/snp/device/virtual';
import { verifyReport } from '../../../src/snp/verify';
import { readExtensions, VEK_OIDS } from '../../../src/snp/x509';
import { loadOrCreateVirtualPki, mintVek, type VekOverrides, type VirtualPki } from '../../../src/snp/virtual';
import { KEYGEN_TIMEOUT, useTempDirs } from './helpers';

const tempDir = useTempDirs();
let pki: VirtualPki;
let report: Buffer;

beforeAll(async () => {
  pki = await loadOrCreateVirtualPki(await tempDir());
  ({ report } = await new VirtualDevice(pki).getReport({ reportData: Buffer.alloc(64, 3) }));
}, KEYGEN_TIMEOUT);

async function verifyWith(overrides: VekOverrides) {
  const vek = await mintVek(pki, overrides);
  return verifyReport({ report, vek: vek.der, chain: [pki.ask.pem, pki.ark.pem] }, { now: new Date(), trustedRoots: [pki.root] });
}

describe('mintVek: forged but well-formed VCEKs for negative tests', () => {
  test('without overrides it is as good as the PKI’s own VCEK', async () => {
    const vek = await mintVek(pki);
    expect(vek.cert.publicKey.export({ format: 'jwk' })).toEqual(pki.vcek.cert.publicKey.export({ format: 'jwk' }));
    await expect(verifyWith({})).resolves.toMatchObject({ signer: 'VCEK', genuine: false });
  });

  test('hwID wrapped in an OCTET STRING (go-sev-guest’s fakes) is still accepted', async () => {
    const vek = await mintVek(pki, { hwIdEncoding: 'octet-string' });
    expect(readExtensions(vek.der).get(VEK_OIDS.hwId)).toHaveLength(66);
    await expect(verifyWith({ hwIdEncoding: 'octet-string' })).resolves.toBeDefined();
  });

  const cases: [string, string, VekOverrides][] = [
    ['another key', 'report_signature_invalid', { key: 'generate' }],
    ['another TCB', 'vek_tcb_mismatch', { tcb: { bootloader: 4, tee: 0, snp: 25, microcode: 219 } }],
    ['another hwID', 'vek_chip_mismatch', { hwId: Buffer.alloc(64, 0x42) }],
    ['no hwID', 'certificate_malformed', { hwId: null }],
    ['no ucodeSPL', 'certificate_malformed', { omit: [VEK_OIDS.ucodeSpl] }],
    ['another productName', 'product_mismatch', { productName: 'Genoa' }],
    ['the VLEK name', 'vek_kind_mismatch', { subjectCommonName: 'SEV-VLEK' }],
    ['an expired validity', 'vek_expired', { notBefore: new Date('2015-01-01'), notAfter: new Date('2022-01-01') }],
    ['a future validity', 'vek_not_yet_valid', { notBefore: new Date(Date.now() + 86400e3) }],
    ['a forged ASK key under the ASK’s name', 'vek_signature_invalid', { issuer: { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey } }],
  ];
  test.each(cases)('with %s the verifier refuses it: %s', async (_, code, overrides) => {
    await expect(verifyWith(overrides)).rejects.toMatchObject({ code });
  });

  test('extensions can be replaced by OID', async () => {
    const vek = await mintVek(pki, { extensions: [{ oid: VEK_OIDS.structVersion, value: Buffer.from('020105', 'hex') }] });
    expect(readExtensions(vek.der).get(VEK_OIDS.structVersion)!.toString('hex')).toBe('020105');
  });
});
