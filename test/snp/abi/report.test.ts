import { createHash } from 'node:crypto';
import {
  decodeGuestPolicy,
  decodePlatformInfo,
  decodeTcb,
  encodeTcb,
  parseReport,
  productFromCpuid,
  REPORT_SIZE,
  serializeReport,
  signatureFromP1363,
  signatureToP1363,
  SigningKey,
} from '../../../src/snp/abi';
import { VECTOR_EXPECTATIONS } from '../vector-expectations';
import { loadVector, VECTOR_IDS } from '../vectors';

describe('parseReport on genuine vectors', () => {
  test.each(VECTOR_IDS)('%s parses to the values its README lists', (id) => {
    const expected = VECTOR_EXPECTATIONS[id]!;
    const { report: bytes } = loadVector(id);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(expected.sha256);
    const report = parseReport(bytes);
    expect(report.version).toBe(expected.version);
    expect(report.vmpl).toBe(expected.vmpl);
    expect(report.guestSvn).toBe(expected.guestSvn);
    expect(`0x${report.policy.toString(16)}`).toBe(expected.policy);
    expect(`0x${report.platformInfo.toString(16)}`).toBe(expected.platformInfo);
    expect(report.signerInfo.signingKey).toBe(expected.signer === 'VLEK' ? SigningKey.VLEK : SigningKey.VCEK);
    expect(report.measurement.toString('hex')).toBe(expected.measurement);
    expect(report.reportData.toString('hex')).toBe(expected.reportData);
    expect(report.hostData.toString('hex')).toBe(expected.hostData);
    expect(report.chipId.toString('hex')).toBe(expected.chipId);
    const fw = report.currentVersion;
    expect(`${fw.major}.${fw.minor}.${fw.build}`).toBe(expected.currentFirmware);
    const cfw = report.committedVersion;
    expect(`${cfw.major}.${cfw.minor}.${cfw.build}`).toBe(expected.committedFirmware);
    expect(decodeTcb(report.reportedTcb, expected.product)).toEqual(expected.reportedTcb);
    if (report.cpuid) expect(productFromCpuid(report.cpuid)).toBe(expected.product);
    else expect(expected.version).toBe(2);
    if (expected.launchMitVector) expect(`0x${report.launchMitVector!.toString(16)}`).toBe(expected.launchMitVector);
    else expect(report.launchMitVector).toBeUndefined();
  });

  test.each(VECTOR_IDS)('%s serialises back byte-exactly', (id) => {
    const { report } = loadVector(id);
    expect(serializeReport(parseReport(report)).equals(report)).toBe(true);
  });
});

describe('parseReport strictness', () => {
  const genuine = loadVector('milan-v3-oak').report;
  const mutate = (edit: (b: Buffer) => void) => {
    const copy = Buffer.from(genuine);
    edit(copy);
    return copy;
  };

  test.each([0, 1, REPORT_SIZE - 1, REPORT_SIZE + 1, 4000])('refuses %i bytes', (size) => {
    const bytes = Buffer.alloc(size);
    genuine.copy(bytes, 0, 0, Math.min(size, REPORT_SIZE));
    expect(() => parseReport(bytes)).toThrow(expect.objectContaining({ code: 'report_malformed' }));
  });

  test.each([0, 1, 4, 6, 0xffffffff])('refuses version %i', (version) => {
    expect(() => parseReport(mutate((b) => b.writeUInt32LE(version, 0)))).toThrow(expect.objectContaining({ code: 'report_version_unsupported' }));
  });

  test.each([
    ['reserved after signer info', 0x04c],
    ['reserved after CPUID', 0x18b],
    ['reserved after current build', 0x1eb],
    ['reserved after committed build', 0x1ef],
    ['reserved before signature (v3)', 0x1f8],
    ['reserved tail of the signed area', 0x29f],
    ['high bytes of R', 0x2a0 + 48],
    ['high bytes of S', 0x2e8 + 71],
    ['signature tail', 0x49f],
  ])('refuses a non-zero %s', (_name, offset) => {
    expect(() => parseReport(mutate((b) => (b[offset] = 1)))).toThrow(expect.objectContaining({ code: 'report_malformed', details: expect.objectContaining({ field: 'reserved', offset }) }));
  });

  test('refuses a v2 report with bytes where v3 keeps CPUID', () => {
    const v2 = Buffer.from(loadVector('milan-v2-gsg').report);
    v2[0x188] = 0x19;
    expect(() => parseReport(v2)).toThrow(expect.objectContaining({ code: 'report_malformed' }));
  });

  test('refuses a signature algorithm other than ECDSA P-384', () => {
    expect(() => parseReport(mutate((b) => b.writeUInt32LE(2, 0x34)))).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'signature_algo' }) }));
  });

  test.each([2, 3, 7])('refuses signing key %i', (key) => {
    expect(() => parseReport(mutate((b) => b.writeUInt32LE(key << 2, 0x48)))).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'signing_key' }) }));
  });

  test('refuses signer-info reserved bits', () => {
    expect(() => parseReport(mutate((b) => b.writeUInt32LE(1 << 5, 0x48)))).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'signer_info' }) }));
  });

  test('refuses a policy without reserved bit 17, or with bits 63:26 set', () => {
    expect(() => parseReport(mutate((b) => b.writeBigUInt64LE(0x10000n, 0x08)))).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'policy' }) }));
    expect(() => parseReport(mutate((b) => b.writeBigUInt64LE(0x30000n | (1n << 40n), 0x08)))).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'policy' }) }));
  });

  test('refuses VMPL above 3', () => {
    expect(() => parseReport(mutate((b) => b.writeUInt32LE(4, 0x30)))).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'vmpl' }) }));
  });

  test('copies its input, so later writes to the caller buffer do not change the parsed report', () => {
    const bytes = Buffer.from(genuine);
    const report = parseReport(bytes);
    bytes.fill(0xaa, 0x90, 0x90 + 48);
    expect(report.measurement.equals(genuine.subarray(0x90, 0xc0))).toBe(true);
  });
});

describe('report fields', () => {
  test('TCB layout follows the product: Milan bl/tee/snp/ucode at bytes 0,1,6,7; Turin fmc/bl/tee/snp/ucode at 0,1,2,3,7', () => {
    const milan = BigInt('0x' + Buffer.from('0400000000001bde', 'hex').reverse().toString('hex'));
    expect(decodeTcb(milan, 'Milan')).toEqual({ bootloader: 4, tee: 0, snp: 27, microcode: 222 });
    const turin = BigInt('0x' + Buffer.from('0001000200000047', 'hex').reverse().toString('hex'));
    expect(decodeTcb(turin, 'Turin')).toEqual({ fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 });
    expect(encodeTcb({ fmc: 0, bootloader: 1, tee: 0, snp: 2, microcode: 71 }, 'Turin')).toBe(turin);
    expect(encodeTcb({ bootloader: 4, tee: 0, snp: 27, microcode: 222 }, 'Genoa')).toBe(milan);
    expect(() => encodeTcb({ bootloader: 256, tee: 0, snp: 0, microcode: 0 }, 'Milan')).toThrow(RangeError);
  });

  test.each([
    [{ family: 0x19, model: 0x01, stepping: 1 }, 'Milan'],
    [{ family: 0x19, model: 0x11, stepping: 1 }, 'Genoa'],
    [{ family: 0x19, model: 0xa0, stepping: 2 }, 'Genoa'],
    [{ family: 0x1a, model: 0x02, stepping: 1 }, 'Turin'],
  ])('CPUID %o is %s', (cpuid, product) => {
    expect(productFromCpuid(cpuid)).toBe(product);
  });

  test.each([
    { family: 0x17, model: 0x31, stepping: 0 },
    { family: 0x19, model: 0x21, stepping: 0 },
    { family: 0x1a, model: 0x40, stepping: 0 },
  ])('CPUID %o is refused as unknown', (cpuid) => {
    expect(() => productFromCpuid(cpuid)).toThrow(expect.objectContaining({ code: 'product_unknown' }));
  });

  test('guest policy and platform info bits decode by name', () => {
    expect(decodeGuestPolicy(0xb0000n)).toMatchObject({ smt: true, debug: true, migrateMa: false, abiMajor: 0 });
    expect(decodeGuestPolicy(0x3001fn)).toMatchObject({ abiMinor: 0x1f, debug: false });
    expect(decodePlatformInfo(0x67n)).toEqual({
      smtEnabled: true,
      tsmeEnabled: true,
      eccEnabled: true,
      raplDisabled: false,
      ciphertextHidingEnabled: false,
      aliasCheckComplete: true,
      iommuWriteSafe: true,
      sevTioEnabled: false,
    });
  });

  test('signature fields convert to and from ieee-p1363 losslessly', () => {
    const report = parseReport(loadVector('genoa-v5-oak').report);
    const p1363 = signatureToP1363(report.signature);
    expect(p1363).toHaveLength(96);
    const back = signatureFromP1363(p1363);
    expect(back.r.equals(report.signature.r) && back.s.equals(report.signature.s)).toBe(true);
  });
});
