import {
  children,
  decodeOid,
  derBitString,
  derBoolean,
  derContext,
  derGeneralizedTime,
  derIa5String,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derPrintableString,
  derSequence,
  derSet,
  derTime,
  derUtcTime,
  derUtf8String,
  readSingle,
} from '../../../src/snp/x509';

const hex = (b: Buffer) => b.toString('hex');

describe('DER writer', () => {
  test.each([
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [256, '02020100'],
    [-1, '0201ff'],
    [-128, '020180'],
    [-129, '0202ff7f'],
    [0xdb, '020200db'], // ucodeSPL ≥ 128 encodes as 02 02 00 xx, as in genuine VCEKs
  ])('INTEGER %d is minimal two’s complement (%s)', (value, expected) => {
    expect(hex(derInteger(value))).toBe(expected);
  });

  test('INTEGER from a big bigint and from an unsigned magnitude', () => {
    expect(hex(derInteger(2n ** 64n))).toBe('0209010000000000000000');
    expect(hex(derInteger(Buffer.from('0000ff01', 'hex')))).toBe('020300ff01');
    expect(hex(derInteger(Buffer.from('000001', 'hex')))).toBe('020101');
    expect(hex(derInteger(Buffer.alloc(0)))).toBe('020100');
    expect(() => derInteger(2 ** 60)).toThrow(RangeError);
  });

  test('OIDs encode base-128 and read back', () => {
    expect(hex(derOid('1.2.840.113549.1.1.10'))).toBe('06092a864886f70d01010a');
    for (const oid of ['1.3.6.1.4.1.3704.1.3.9', '2.16.840.1.101.3.4.2.2', '2.999.1']) {
      expect(decodeOid(readSingle(derOid(oid)).value)).toBe(oid);
    }
    expect(() => derOid('1.40')).toThrow(RangeError);
    expect(() => derOid('1')).toThrow(RangeError);
    expect(() => derOid('1.2.x')).toThrow(RangeError);
  });

  test('long lengths use the long form', () => {
    expect(hex(derOctetString(Buffer.alloc(200))).slice(0, 6)).toBe('0481c8');
    expect(hex(derOctetString(Buffer.alloc(300))).slice(0, 8)).toBe('0482012c');
    expect(hex(derOctetString(Buffer.alloc(70000))).slice(0, 10)).toBe('0483011170');
  });

  test('strings carry their types and refuse characters outside them', () => {
    expect(hex(derIa5String('Milan-B0'))).toBe('16084d696c616e2d4230');
    expect(hex(derPrintableString('US'))).toBe('13025553');
    expect(hex(derUtf8String('é'))).toBe('0c02c3a9');
    expect(() => derIa5String('é')).toThrow(RangeError);
    expect(() => derPrintableString('a@b')).toThrow(RangeError);
  });

  test('times: UTCTime to 2049, GeneralizedTime from 2050, seconds precision', () => {
    const t2022 = new Date('2022-11-29T01:55:56.789Z');
    expect(derUtcTime(t2022).subarray(2).toString()).toBe('221129015556Z');
    expect(derTime(t2022)[0]).toBe(0x17);
    const t2050 = new Date('2050-01-02T03:04:05Z');
    expect(derTime(t2050)[0]).toBe(0x18);
    expect(derGeneralizedTime(t2050).subarray(2).toString()).toBe('20500102030405Z');
    expect(() => derUtcTime(t2050)).toThrow(RangeError);
    expect(() => derTime(new Date(NaN))).toThrow(RangeError);
  });

  test('BIT STRING, NULL, BOOLEAN', () => {
    expect(hex(derBitString(Buffer.from([0x06]), 1))).toBe('03020106');
    expect(hex(derBitString(Buffer.alloc(0)))).toBe('030100');
    expect(() => derBitString(Buffer.alloc(1), 8)).toThrow(RangeError);
    expect(hex(derNull())).toBe('0500');
    expect(hex(derBoolean(true))).toBe('0101ff');
    expect(hex(derBoolean(false))).toBe('010100');
  });

  test('SET OF sorts its elements; SEQUENCE keeps their order', () => {
    const a = derInteger(2);
    const b = derInteger(1);
    expect(hex(derSet(a, b))).toBe('3106020101020102');
    expect(hex(derSequence(a, b))).toBe('3006020102020101');
  });

  test('context tags: explicit wraps, implicit retags', () => {
    expect(hex(derContext(0, derInteger(2)))).toBe('a003020102');
    expect(hex(derContext(3, derInteger(1), 'implicit'))).toBe('830101');
    expect(hex(derContext(1, derSequence(), 'implicit'))).toBe('a100');
    expect(() => derContext(31, derNull())).toThrow(RangeError);
  });

  test('nested output reads back with the DER reader', () => {
    const encoded = derSequence(derOid('2.5.4.3'), derContext(0, derSequence(derInteger(5), derOctetString(Buffer.from('x')))));
    const top = readSingle(encoded);
    const [oid, tagged] = children(top);
    expect(decodeOid(oid!.value)).toBe('2.5.4.3');
    const inner = children(readSingle(tagged!.value));
    expect(inner.map((t) => t.tag)).toEqual([0x02, 0x04]);
  });
});
