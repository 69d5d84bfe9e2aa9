import { createHash } from 'node:crypto';
import { parseHclReport, parseReport, type HclReport } from '../../../src/snp/abi';
import { fixture } from '../vectors';

/** Whether REPORT_DATA[0:32] of the wrapped report is the SHA-256 of the runtime data. */
const runtimeDataBound = (hcl: HclReport) => createHash('sha256').update(hcl.runtimeData).digest().equals(parseReport(hcl.report).reportData.subarray(0, 32));

describe('Azure HCL report wrapper', () => {
  const hcl = fixture('snp', 'genoa-v3-azure-hcl', 'hcl-report.bin');

  test('extracts the SNP report at 0x20, identical to the vector report', () => {
    const parsed = parseHclReport(hcl);
    expect(parsed.report.equals(fixture('snp', 'genoa-v3-azure-hcl', 'report.bin'))).toBe(true);
    expect(parsed.header).toMatchObject({ requestType: 2, status: 0 });
    expect(parsed.igvm).toMatchObject({ reportType: 2, hashType: 1 });
  });

  test('REPORT_DATA[0:32] is the SHA-256 of the runtime JSON, which holds the HCL attestation key', () => {
    const parsed = parseHclReport(hcl);
    expect(runtimeDataBound(parsed)).toBe(true);
    expect(JSON.stringify(parsed.runtimeClaims)).toContain('HCLAkPub');
    const tampered = { ...parsed, runtimeData: Buffer.concat([parsed.runtimeData, Buffer.from(' ')]) };
    expect(runtimeDataBound(tampered)).toBe(false);
  });

  test('refuses a wrong magic, a truncated buffer and runtime data past the end', () => {
    const badMagic = Buffer.from(hcl);
    badMagic.write('XXXX', 0, 'latin1');
    expect(() => parseHclReport(badMagic)).toThrow(expect.objectContaining({ code: 'evidence_malformed' }));
    expect(() => parseHclReport(hcl.subarray(0, 0x400))).toThrow(expect.objectContaining({ code: 'evidence_malformed' }));
    const long = Buffer.from(hcl);
    long.writeUInt32LE(100000, 0x4c0 + 16);
    expect(() => parseHclReport(long)).toThrow(expect.objectContaining({ code: 'evidence_malformed' }));
  });
});
