import { parseVek, readExtensions } from '../../../src/snp/x509';
import { VECTOR_EXPECTATIONS } from '../vector-expectations';
import { fixture, loadVector, VECTOR_IDS } from '../vectors';

describe('parseVek reads the AMD KDS extensions', () => {
  test.each(VECTOR_IDS)('%s: kind, productName, SPLs and hwID', (id) => {
    const expected = VECTOR_EXPECTATIONS[id]!;
    const vek = parseVek(loadVector(id).vek);
    expect(vek.kind).toBe(expected.signer);
    expect(vek.productName).toBe(expected.vekProductName);
    expect(vek.product).toBe(expected.product);
    expect(vek.tcb).toEqual(expected.reportedTcb);
    if (expected.signer === 'VCEK') {
      const significant = expected.product === 'Turin' ? 8 : 64;
      expect(vek.hwId!.toString('hex')).toBe(expected.chipId.slice(0, significant * 2));
    } else {
      expect(vek.hwId).toBeUndefined();
    }
  });

  test('Turin VCEK: structVersion 1, fmcSPL, 8-byte raw hwID', () => {
    const vek = parseVek(loadVector('turin-v5-oak').vek);
    expect(vek.structVersion).toBe(1);
    expect(vek.tcb.fmc).toBe(0);
    expect(vek.hwId).toHaveLength(8);
  });

  test('VLEK: csp_id names the cloud', () => {
    expect(parseVek(loadVector('milan-v3-vlek-aws').vek).cspId).toBe('CN=cc-us-east-2.amazonaws.com');
  });

  test('microcode SPLs of 128 and above decode from their two-byte INTEGER', () => {
    expect(parseVek(loadVector('milan-v5-gcp-vmpl1').vek).tcb.microcode).toBe(222);
  });

  test('extensions are listed by OID', () => {
    const exts = readExtensions(loadVector('genoa-v5-oak').vek);
    expect([...exts.keys()]).toEqual(expect.arrayContaining(['1.3.6.1.4.1.3704.1.2', '1.3.6.1.4.1.3704.1.3.8', '1.3.6.1.4.1.3704.1.4']));
  });

  test('a certificate that is not a VEK is refused', () => {
    expect(() => parseVek(fixture('amd-roots', 'milan_ask.pem').toString('latin1'))).toThrow(expect.objectContaining({ code: 'certificate_malformed' }));
  });

  test('truncated DER is refused with certificate_malformed', () => {
    const der = loadVector('milan-v3-oak').vek;
    expect(() => parseVek(der.subarray(0, der.length - 10))).toThrow(expect.objectContaining({ code: 'certificate_malformed' }));
  });
});
