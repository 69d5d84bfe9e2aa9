import { CERT_GUIDS, certificatesOf, findCert, parseCertTable, serializeCertTable } from '../../../src/snp/abi';
import { fixture } from '../vectors';

describe('certificate table', () => {
  const vcek = fixture('snp', 'milan-v3-oak', 'vek.der');
  const ask = Buffer.from('ask-der');
  const ark = Buffer.from('ark-der');

  test('round-trips entries, GUIDs in RFC 4122 byte order', () => {
    const table = serializeCertTable([
      { guid: CERT_GUIDS.ark, data: ark },
      { guid: CERT_GUIDS.ask, data: ask },
      { guid: CERT_GUIDS.vcek, data: vcek },
    ]);
    expect(table.subarray(0, 6).toString('hex')).toBe('c0b406a4a803');
    expect(table.subarray(72, 96).every((b) => b === 0)).toBe(true);
    const entries = parseCertTable(table);
    expect(entries.map((e) => e.guid)).toEqual([CERT_GUIDS.ark, CERT_GUIDS.ask, CERT_GUIDS.vcek]);
    expect(findCert(entries, CERT_GUIDS.vcek)!.equals(vcek)).toBe(true);
    expect(findCert(entries, CERT_GUIDS.vlek)).toBeUndefined();
  });

  test("certificatesOf picks the signer's VEK, then ASK and ARK, whatever the entry order", () => {
    const vlek = Buffer.from('vlek-der');
    const table = serializeCertTable([
      { guid: CERT_GUIDS.ark, data: ark },
      { guid: CERT_GUIDS.vlek, data: vlek },
      { guid: CERT_GUIDS.ask, data: ask },
      { guid: CERT_GUIDS.vcek, data: vcek },
    ]);
    expect(certificatesOf(table, 'VCEK')).toEqual({ vek: vcek, chain: [ask, ark] });
    expect(certificatesOf(table, 'VLEK')).toEqual({ vek: vlek, chain: [ask, ark] });
    const noVlek = serializeCertTable([
      { guid: CERT_GUIDS.ark, data: ark },
      { guid: CERT_GUIDS.vcek, data: vcek },
    ]);
    expect(certificatesOf(noVlek, 'VLEK')).toEqual({ chain: [ark] });
    expect(certificatesOf(undefined, 'VCEK')).toEqual({ chain: [] });
    expect(certificatesOf(Buffer.alloc(0), 'VCEK')).toEqual({ chain: [] });
  });

  test('an empty buffer is an empty table (the host supplied nothing)', () => {
    expect(parseCertTable(Buffer.alloc(0))).toEqual([]);
  });

  test('refuses a table without terminator', () => {
    const table = serializeCertTable([{ guid: CERT_GUIDS.ark, data: ark }]);
    expect(() => parseCertTable(table.subarray(0, 30))).toThrow(expect.objectContaining({ code: 'evidence_malformed' }));
  });

  test('refuses offsets into the header or past the end', () => {
    const table = serializeCertTable([{ guid: CERT_GUIDS.ark, data: ark }]);
    const intoHeader = Buffer.from(table);
    intoHeader.writeUInt32LE(8, 16);
    expect(() => parseCertTable(intoHeader)).toThrow(expect.objectContaining({ code: 'evidence_malformed' }));
    const pastEnd = Buffer.from(table);
    pastEnd.writeUInt32LE(1000, 20);
    expect(() => parseCertTable(pastEnd)).toThrow(expect.objectContaining({ code: 'evidence_malformed' }));
  });

  test('refuses a GUID listed twice', () => {
    const table = serializeCertTable([
      { guid: CERT_GUIDS.vcek, data: vcek },
      { guid: CERT_GUIDS.vcek, data: ark },
    ]);
    expect(() => parseCertTable(table)).toThrow(expect.objectContaining({ code: 'evidence_malformed' }));
  });
});
