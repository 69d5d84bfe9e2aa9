import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/kbs/canonical-json';
import { expectedReportData, runtimeDataDigest } from '../../src/kbs/report-data';
import type { TeePubkey } from '../../src/kbs/tee-pubkey';

describe('the REPORT_DATA binding', () => {
  test("trustee's runtime-data vector: JCS then SHA-384", () => {
    const canonical = canonicalJson({ b: 1, a: 'test', c: { d: 'e' } });
    expect(canonical).toBe('{"a":"test","b":1,"c":{"d":"e"}}');
    expect(createHash('sha384').update(canonical).digest('hex')).toBe('e71ce8e70d814ba6639c3612ebee0ff1f76f650f8dbb5e47157e0f3f525cd22c4597480a186427c813ca941da78870c3');
  });

  test('canonical JSON sorts by UTF-16 code units, escapes as JSON.stringify and writes numbers in ECMAScript form', () => {
    expect(canonicalJson({ '\u20ac': 1, '\ud83d\ude00': 2, a: [1e21, 0.1, -0, 'x\n"'] })).toBe('{"a":[1e+21,0.1,0,"x\\n\\""],"\u20ac":1,"\ud83d\ude00":2}');
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
    expect(() => canonicalJson({ a: undefined })).toThrow();
  });

  test("the hashed bytes are exactly the reference's for a P-256 key, and REPORT_DATA is the raw digest then 16 zeros", () => {
    const key: TeePubkey = { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: 'X', y: 'Y' };
    const bytes = '{"additional-evidence":"","nonce":"N=","tee-pubkey":{"alg":"ECDH-ES+A256KW","crv":"P-256","kty":"EC","x":"X","y":"Y"}}';
    const digest = createHash('sha384').update(bytes).digest();
    expect(runtimeDataDigest('N=', key, '')).toEqual(digest);
    expect(expectedReportData('N=', key, '')).toEqual(Buffer.concat([digest, Buffer.alloc(16)]));
  });
});
