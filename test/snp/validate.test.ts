import { parseReport } from '../../src/snp/abi';
import { checkReport, validateReport, type ValidateOptions } from '../../src/snp/validate';
import { VECTOR_EXPECTATIONS } from './vector-expectations';
import { loadVector } from './vectors';

function subject(id: string) {
  return { report: parseReport(loadVector(id).report), product: VECTOR_EXPECTATIONS[id]!.product };
}

const codes = (id: string, options: ValidateOptions) => checkReport(subject(id), options).map((f) => f.code);

describe('validateReport', () => {
  test('no options: every genuine report is acceptable', () => {
    expect(codes('milan-v2-gsg', {})).toEqual([]);
  });

  test('debug forbidden: the go-sev-guest report (policy 0xb0000) is refused, naming the field', () => {
    expect(() => validateReport(subject('milan-v2-gsg'), { forbidDebug: true })).toThrow(
      expect.objectContaining({ code: 'policy_debug_allowed', status: 403, details: { expected: false, actual: true } }),
    );
    expect(codes('milan-v3-oak', { forbidDebug: true })).toEqual([]);
  });

  test('VMPL must match exactly', () => {
    expect(codes('milan-v5-gcp-vmpl1', { vmpl: 0 })).toEqual(['vmpl_mismatch']);
    expect(codes('milan-v5-gcp-vmpl1', { vmpl: 1 })).toEqual([]);
  });

  test('byte fields compare exactly, with expected and actual in the error', () => {
    const s = subject('milan-v2-aci-thim');
    const host = Buffer.from(s.report.hostData);
    expect(codes('milan-v2-aci-thim', { hostData: host, measurement: s.report.measurement, reportData: s.report.reportData })).toEqual([]);
    host[0]! ^= 1;
    const [failure] = checkReport(s, { hostData: host });
    expect(failure).toMatchObject({ code: 'host_data_mismatch', details: { expected: host.toString('hex'), actual: s.report.hostData.toString('hex') } });
    expect(codes('milan-v2-aci-thim', { imageId: Buffer.alloc(16, 1), familyId: Buffer.alloc(16, 2), chipId: Buffer.alloc(64) })).toEqual([
      'image_id_mismatch',
      'family_id_mismatch',
      'chip_id_mismatch',
    ]);
  });

  test('measurement allow-list', () => {
    const m = subject('genoa-v5-oak').report.measurement;
    expect(codes('genoa-v5-oak', { measurements: [Buffer.alloc(48), m] })).toEqual([]);
    expect(codes('genoa-v5-oak', { measurements: [Buffer.alloc(48)] })).toEqual(['measurement_not_allowed']);
  });

  test('minimum TCB is component-wise on reported and current TCB', () => {
    // milan-v3-oak: bl=4 tee=0 snp=24 ucode=219
    expect(codes('milan-v3-oak', { minimumTcb: { bootloader: 4, tee: 0, snp: 24, microcode: 219 } })).toEqual([]);
    // a higher microcode but a lower SNP is still too low: never compared as integers
    expect(codes('milan-v3-oak', { minimumTcb: { snp: 25, microcode: 1 } })).toEqual(['reported_tcb_too_low', 'current_tcb_too_low']);
    const [failure] = checkReport(subject('milan-v3-oak'), { minimumTcb: { snp: 25 } });
    expect(failure!.message).toContain('reported_tcb.snp');
  });

  test('minimum launch TCB, and Turin FMC', () => {
    expect(codes('turin-v5-oak', { minimumLaunchTcb: { fmc: 1 } })).toEqual(['launch_tcb_too_low']);
    expect(codes('turin-v5-oak', { minimumLaunchTcb: { fmc: 0, snp: 2 } })).toEqual([]);
  });

  test('committed vs current TCB: the AWS report runs provisional firmware', () => {
    expect(codes('milan-v3-vlek-aws', { requireCommittedTcb: true })).toEqual(['committed_tcb_mismatch']);
    expect(codes('milan-v3-oak', { requireCommittedTcb: true })).toEqual([]);
  });

  test('minimum firmware build and version', () => {
    // genoa-v5-oak runs 1.55.43
    expect(codes('genoa-v5-oak', { minimumBuild: 43, minimumVersion: { major: 1, minor: 55 } })).toEqual([]);
    expect(codes('genoa-v5-oak', { minimumBuild: 44 })).toEqual(['firmware_build_too_low']);
    expect(codes('genoa-v5-oak', { minimumVersion: { major: 1, minor: 56 } })).toEqual(['firmware_version_too_low']);
  });

  test('guest policy requirements', () => {
    expect(codes('milan-v3-oak', { guestPolicy: { allowSmt: false, requireSingleSocket: true, minAbiMajor: 1 } })).toEqual([
      'policy_abi_too_low',
      'policy_smt_allowed',
      'policy_single_socket_required',
    ]);
    expect(codes('milan-v2-aci-thim', { guestPolicy: { minAbiMajor: 0, minAbiMinor: 31, allowMigrateMa: false } })).toEqual([]);
  });

  test('platform info flags', () => {
    // turin: 0x67 = SMT, TSME, ECC, alias check, IOMMU write safe
    expect(codes('turin-v5-oak', { platformInfoForbidden: ['smtEnabled'], platformInfoRequired: ['ciphertextHidingEnabled', 'tsmeEnabled'] })).toEqual([
      'platform_info_ciphertext_hiding_enabled_required',
      'platform_info_smt_enabled_forbidden',
    ]);
  });

  test('mitigation vectors must include the required bits; absent on v3', () => {
    // milan-v5-gcp-vmpl1 has 0xb
    expect(codes('milan-v5-gcp-vmpl1', { minimumLaunchMitVector: 0x3n, minimumCurrentMitVector: 0xbn })).toEqual([]);
    expect(codes('milan-v5-gcp-vmpl1', { minimumCurrentMitVector: 0x4n })).toEqual(['current_mit_vector_insufficient']);
    expect(codes('milan-v3-oak', { minimumLaunchMitVector: 0x1n })).toEqual(['launch_mit_vector_insufficient']);
  });

  test('guest SVN minimum', () => {
    expect(codes('genoa-v3-azure-hcl', { minimumGuestSvn: 65547 })).toEqual([]);
    expect(codes('genoa-v3-azure-hcl', { minimumGuestSvn: 65548 })).toEqual(['guest_svn_too_low']);
  });
});
