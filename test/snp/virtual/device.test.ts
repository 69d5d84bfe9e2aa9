import { createPrivateKey, createHash, sign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeTcb, parseCertTable, parseReport, PRODUCTS, SIGNATURE_OFFSET, signatureFromP1363, type Product } from '../../../src/snp/abi';
import { openVirtualDevice, VirtualDevice } from '../../../src/snp/device/virtual';
import { verifyReport } from '../../../src/snp/verify';
import { loadOrCreateVirtualPki, PRODUCT_PROFILES, VIRTUAL_FILES, type ReportVersion, type VirtualPki } from '../../../src/snp/virtual';
import { KEYGEN_TIMEOUT, useTempDirs } from './helpers';

const tempDir = useTempDirs();
const pkis = {} as Record<Product, VirtualPki>;
const now = () => new Date();
const bytes = (size: number, seed: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + seed) & 0xff));

beforeAll(async () => {
  const made = await Promise.all(PRODUCTS.map(async (product) => loadOrCreateVirtualPki(await tempDir(), { product })));
  for (const pki of made) pkis[pki.product] = pki;
}, KEYGEN_TIMEOUT);

const matrix = PRODUCTS.flatMap((product) => ([2, 3, 5] as ReportVersion[]).map((version) => [product, version] as const));

describe.each(matrix)('%s v%d report from the virtual device', (product, version) => {
  const guest = {
    version,
    measurement: bytes(48, 1),
    hostData: bytes(32, 2),
    familyId: bytes(16, 3),
    imageId: bytes(16, 4),
    idKeyDigest: bytes(48, 5),
    authorKeyDigest: bytes(48, 6),
    guestSvn: 7,
    policy: 0x3001fn,
    mitigationVector: 0xbn,
  };
  let device: VirtualDevice;
  let report: Buffer;
  let certTable: Buffer;
  const reportData = bytes(64, 9);

  beforeAll(async () => {
    device = await openVirtualDevice(pkis[product].stateDir, guest);
    ({ report, certTable } = (await device.getReport({ reportData, vmpl: 2, withCerts: true })) as { report: Buffer; certTable: Buffer });
  });

  test('verifies with the virtual ARK trusted, and says it is not genuine', async () => {
    const verified = await verifyReport({ report, certTable }, { now: now(), trustedRoots: [device.pki.root] });
    expect(verified.product).toBe(product);
    expect(verified.signer).toBe('VCEK');
    expect(verified.genuine).toBe(false);
    expect(verified.reportedTcb).toEqual(device.pki.config.tcb);
  });

  test('is refused without the virtual ARK: ark_not_trusted with its chain, vek_signature_invalid without', async () => {
    await expect(verifyReport({ report, certTable }, { now: now() })).rejects.toMatchObject({ code: 'ark_not_trusted' });
    await expect(verifyReport({ report, vek: device.pki.vcek.der }, { now: now() })).rejects.toMatchObject({ code: 'vek_signature_invalid' });
    // Another virtual machine's ARK is no better.
    const other = pkis[product === 'Milan' ? 'Genoa' : 'Milan'];
    await expect(verifyReport({ report, certTable }, { now: now(), trustedRoots: [other.root] })).rejects.toMatchObject({ code: 'ark_not_trusted' });
  });

  test('every configured field round-trips through the parser', () => {
    const r = parseReport(report);
    const config = device.pki.config;
    expect(r.version).toBe(version);
    expect(r.reportData).toEqual(reportData);
    expect(r.vmpl).toBe(2);
    expect(r.measurement).toEqual(guest.measurement);
    expect(r.hostData).toEqual(guest.hostData);
    expect(r.familyId).toEqual(guest.familyId);
    expect(r.imageId).toEqual(guest.imageId);
    expect(r.idKeyDigest).toEqual(guest.idKeyDigest);
    expect(r.authorKeyDigest).toEqual(guest.authorKeyDigest);
    expect(r.signerInfo).toEqual({ authorKeyEn: true, maskChipKey: false, signingKey: 0 });
    expect(r.guestSvn).toBe(7);
    expect(r.policy).toBe(0x3001fn);
    expect(r.chipId).toEqual(config.chipId);
    expect(r.reportId).toEqual(config.reportId);
    expect(r.platformInfo).toBe(PRODUCT_PROFILES[product].platformInfo);
    for (const tcb of [r.currentTcb, r.reportedTcb, r.committedTcb, r.launchTcb]) expect(decodeTcb(tcb, product)).toEqual(config.tcb);
    expect(r.currentVersion).toEqual(PRODUCT_PROFILES[product].firmware);
    expect(r.committedVersion).toEqual(PRODUCT_PROFILES[product].firmware);
    expect(r.cpuid).toEqual(version >= 3 ? PRODUCT_PROFILES[product].cpuid : undefined);
    expect(r.launchMitVector).toBe(version === 5 ? 0xbn : undefined);
    expect(r.currentMitVector).toBe(version === 5 ? 0xbn : undefined);
    expect(parseCertTable(certTable)).toHaveLength(3);
  });
});

describe('virtual device', () => {
  test('names itself virtual and lives in its state directory', async () => {
    const device = new VirtualDevice(pkis.Milan);
    expect([device.name, device.virtual, device.path]).toEqual(['virtual', true, pkis.Milan.stateDir]);
    const { report, certTable } = await device.getReport({ reportData: Buffer.alloc(64) });
    expect(certTable).toBeUndefined();
    expect(parseReport(report).vmpl).toBe(0);
    await device.close();
  });

  test.each([
    [{ reportData: Buffer.alloc(63) }, 'reportData'],
    [{ reportData: 'x'.repeat(64) }, 'reportData'],
    [{}, 'reportData'],
    [{ reportData: Buffer.alloc(64), vmpl: 4 }, 'vmpl'],
    [{ reportData: Buffer.alloc(64), vmpl: 1.5 }, 'vmpl'],
  ])('refuses %o with invalid_argument on %s', async (request, field) => {
    const device = new VirtualDevice(pkis.Genoa);
    await expect(device.getReport(request as never)).rejects.toMatchObject({ code: 'invalid_argument', details: expect.objectContaining({ field }) });
  });

  test('a guest at VMPL 2 gets VMPL 2 by default and cannot ask for a more privileged level', async () => {
    const device = await openVirtualDevice(pkis.Turin.stateDir, { vmpl: 2 });
    expect(parseReport((await device.getReport({ reportData: Buffer.alloc(64) })).report).vmpl).toBe(2);
    expect(parseReport((await device.getReport({ reportData: Buffer.alloc(64), vmpl: 3 })).report).vmpl).toBe(3);
    await expect(device.getReport({ reportData: Buffer.alloc(64), vmpl: 1 })).rejects.toMatchObject({ code: 'invalid_argument' });
    await openVirtualDevice(pkis.Turin.stateDir, { vmpl: 0 });
  });

  test.each(PRODUCTS)('%s: FILE CONTRACT — template + vcek-key.pem + cert-table.bin make a report the verifier accepts', async (product) => {
    const pki = pkis[product];
    const device = await openVirtualDevice(pki.stateDir, { measurement: bytes(48, 11) });
    const dir = join(pki.stateDir, 'virtual');
    const template = await readFile(join(dir, VIRTUAL_FILES.reportTemplate));
    // The template is what the device signs for zero REPORT_DATA at VMPL 0.
    const fromDevice = (await device.getReport({ reportData: Buffer.alloc(64), vmpl: 0 })).report;
    expect(template.equals(Buffer.concat([fromDevice.subarray(0, SIGNATURE_OFFSET), Buffer.alloc(template.length - SIGNATURE_OFFSET)]))).toBe(true);

    // What the FUSE daemon does: fill REPORT_DATA and VMPL, sign 0x000–0x29F with the VCEK key.
    const report = Buffer.from(template);
    const reportData = createHash('sha512').update('nonce').digest();
    reportData.copy(report, 0x50);
    report.writeUInt32LE(1, 0x30);
    const key = createPrivateKey(await readFile(join(dir, VIRTUAL_FILES.vcekKey)));
    const { r, s } = signatureFromP1363(sign('sha384', report.subarray(0, SIGNATURE_OFFSET), { key, dsaEncoding: 'ieee-p1363' }));
    r.copy(report, SIGNATURE_OFFSET);
    s.copy(report, SIGNATURE_OFFSET + 72);
    const certTable = await readFile(join(dir, VIRTUAL_FILES.certTable));
    const verified = await verifyReport({ report, certTable }, { now: now(), trustedRoots: [pki.root] });
    expect(verified.report.reportData).toEqual(reportData);
    expect(verified.report.vmpl).toBe(1);
    expect(verified.report.measurement).toEqual(bytes(48, 11));
  });
});
