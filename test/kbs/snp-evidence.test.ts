import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSnpEvidence, snpEvidenceOf } from '../../src/kbs/snp-evidence';
import { appraiseBoundEvidence, parseAppraisalPolicy, FileReferenceValueStore } from '../../src/maa/service';
import { parseReport } from '../../src/snp';

const FIXTURES = join(__dirname, '..', 'fixtures', 'snp');
/** The genuine Genoa report of trustee's deps/verifier/test_data/az-snp-vtpm/evidence-genoa.json (see fixtures/snp/README.md). */
const GENOA = { report: readFileSync(join(FIXTURES, 'genoa-v3-azure-hcl', 'report.bin')), vek: readFileSync(join(FIXTURES, 'genoa-v3-azure-hcl', 'vek.der')) };
const GENOA_V5 = readFileSync(join(FIXTURES, 'genoa-v5-oak', 'report.bin'));
/** Within the Genoa VCEK's validity (2025-01-24 .. 2032-01-24). */
const NOW = new Date('2026-06-01T00:00:00Z');

function context() {
  return {
    now: () => NOW,
    policy: parseAppraisalPolicy('{}'),
    references: new FileReferenceValueStore(join(mkdtempSync(join(tmpdir(), 'skr-kbs-refs-')), 'refs.json')),
    trustedRoots: [],
  };
}

/** guest-components' evidence for the genuine report, its VCEK in cert_chain as the attester sends it. */
function genoaEvidence(): Record<string, any> {
  return { ...snpEvidenceOf(GENOA.report), cert_chain: [{ cert_type: 'VCEK', data: [...GENOA.vek] }] };
}

describe("guest-components' SNP evidence", () => {
  test.each([
    ['genoa v3', GENOA.report],
    ['genoa v5', GENOA_V5],
  ])('the serde dump of a genuine %s report rebuilds the exact bytes AMD signed', (_name, raw) => {
    const { evidence, shape } = parseSnpEvidence(JSON.parse(JSON.stringify(snpEvidenceOf(raw))));
    expect(shape).toBe('guest-components');
    expect(Buffer.from(evidence.report)).toEqual(raw);
  });

  test("the field layout is the sev crate's: byte arrays, TCB structs, key_info, signature r/s of 72", () => {
    const report = genoaEvidence().attestation_report;
    expect(report.version).toBe(3);
    expect(report.cpuid_fam_id).toBe(0x19);
    expect(report.cpuid_mod_id).toBe(0x11);
    expect(report.current_tcb).toEqual({ fmc: null, bootloader: 10, tee: 0, snp: 23, microcode: 84 });
    expect(report.report_data).toHaveLength(64);
    expect(report.signature.r).toHaveLength(72);
    expect(report.policy).toBe(0x3001f);
  });

  test("the genuine Genoa evidence verifies through skr's verifier up to the binding, which it does not meet", async () => {
    const { evidence } = parseSnpEvidence(genoaEvidence());
    const actual = parseReport(GENOA.report).reportData;
    const { claims } = await appraiseBoundEvidence(evidence, actual, context());
    expect(claims['x-skr-sevsnpvm-genuine-amd']).toBe(true);
    expect(claims['x-skr-sevsnpvm-product']).toBe('Genoa');
    await expect(appraiseBoundEvidence(evidence, Buffer.alloc(64), context())).rejects.toMatchObject({ code: 'runtime_data_mismatch' });
  });

  test('a changed field fails the signature', async () => {
    const body = genoaEvidence();
    body.attestation_report.measurement[0] ^= 1;
    const { evidence } = parseSnpEvidence(body);
    await expect(appraiseBoundEvidence(evidence, parseReport(evidence.report).reportData, context())).rejects.toMatchObject({ code: 'report_signature_invalid' });
  });

  test.each([
    ['version 2', (r: any) => (r.version = 2)],
    ['a byte array of the wrong length', (r: any) => r.measurement.pop()],
    ['a value that is not a byte', (r: any) => (r.chip_id[0] = 256)],
    ['fmc on a Genoa TCB', (r: any) => (r.current_tcb.fmc = 1)],
    ['an unknown CPUID', (r: any) => (r.cpuid_fam_id = 0x17)],
  ])('%s is malformed evidence', (_name, mutate) => {
    const body = genoaEvidence();
    mutate(body.attestation_report);
    expect(() => parseSnpEvidence(body)).toThrow(expect.objectContaining({ status: 400 }));
  });
});
