import { constants, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { parseCrl, verifyCrl, assertNotRevoked } from '../../../src/snp/certs';
import { buildCertificate, encodeName, type DistinguishedName } from '../../../src/snp/x509/cert-builder';
import { derBitString, derContext, derInteger, derNull, derOid, derSequence, derUtcTime } from '../../../src/snp/x509/der-writer';
import { amdRootFile } from './fixtures';

/** RSASSA-PSS SHA-384, MGF1-SHA-384, salt 48: how AMD signs its CRLs. */
function pssSha384(salt = 48): Buffer {
  const sha384 = derSequence(derOid('2.16.840.1.101.3.4.2.2'), derNull());
  return derSequence(derOid('1.2.840.113549.1.1.10'), derSequence(derContext(0, sha384), derContext(1, derSequence(derOid('1.2.840.113549.1.1.8'), sha384)), derContext(2, derInteger(salt))));
}

/** A v2 CRL in AMD's shape, written by hand: the builder mints certificates only. */
function buildCrl(issuer: Buffer, key: KeyObject, revoked: number[], thisUpdate = new Date('2025-01-01T00:00:00Z')): Buffer {
  const nextUpdate = new Date(thisUpdate.getTime() + 7 * 86400_000);
  const entries = revoked.map((serial) => derSequence(derInteger(serial), derUtcTime(thisUpdate)));
  const tbs = derSequence(derInteger(1), pssSha384(), issuer, derUtcTime(thisUpdate), derUtcTime(nextUpdate), ...(entries.length ? [derSequence(...entries)] : []));
  const signature = sign('sha384', tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
  return derSequence(tbs, pssSha384(), derBitString(signature));
}

const amd = (cn: string): DistinguishedName => [
  ['OU', 'Engineering'],
  ['C', 'US'],
  ['L', 'Santa Clara'],
  ['ST', 'CA'],
  ['O', 'Advanced Micro Devices'],
  ['CN', cn],
];
const ASK_SERIAL = 0x010001;

describe('ARK-signed CRL', () => {
  let arkKey: KeyObject;
  let otherKey: KeyObject;
  let ark: X509Certificate;
  let ask: X509Certificate;

  beforeAll(async () => {
    arkKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const askKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const validity = { notBefore: new Date('2024-01-01'), notAfter: new Date('2049-01-01') };
    ark = new X509Certificate(await buildCertificate({ serial: 0x010000, issuer: amd('ARK-Milan'), subject: amd('ARK-Milan'), publicKey: arkKey, ...validity }, arkKey));
    ask = new X509Certificate(await buildCertificate({ serial: ASK_SERIAL, issuer: amd('ARK-Milan'), subject: amd('SEV-Milan'), publicKey: askKey, ...validity }, arkKey));
  });

  const issuerName = () => encodeName(amd('ARK-Milan'));

  it('parses the fields a revocation check needs', () => {
    const crl = parseCrl(buildCrl(issuerName(), arkKey, [0x0abc, 0x80]));
    expect(crl.revokedSerials).toEqual(['abc', '80']);
    expect(crl.thisUpdate.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(crl.nextUpdate?.toISOString()).toBe('2025-01-08T00:00:00.000Z');
    expect(crl.issuer).toEqual(issuerName());
  });

  it('accepts a CRL signed by the ARK and refuses the revoked ASK', () => {
    const crl = parseCrl(buildCrl(issuerName(), arkKey, [ASK_SERIAL]));
    expect(() => verifyCrl(crl, ark)).not.toThrow();
    expect(() => assertNotRevoked(crl, ask, 'ASK')).toThrow(expect.objectContaining({ code: 'cert_revoked', details: { certificate: 'ASK', serial: '10001' } }));
    expect(() => assertNotRevoked(parseCrl(buildCrl(issuerName(), arkKey, [7])), ask, 'ASK')).not.toThrow();
  });

  it('refuses a CRL signed by another key, even one naming the genuine ARK-Milan', () => {
    const forged = parseCrl(buildCrl(issuerName(), otherKey, []));
    expect(() => verifyCrl(forged, ark)).toThrow(expect.objectContaining({ code: 'crl_invalid', message: expect.stringMatching(/signature/) }));
    const genuineArk = new X509Certificate(amdRootFile('milan_ark.pem'));
    expect(() => verifyCrl(forged, genuineArk)).toThrow(/signature does not verify/);
  });

  it('refuses a CRL whose issuer is not the ARK', () => {
    const crl = parseCrl(buildCrl(encodeName(amd('ARK-Genoa')), arkKey, []));
    expect(() => verifyCrl(crl, ark)).toThrow(/issuer is not the ARK/);
  });

  it.each([
    ['not DER', Buffer.from('nope')],
    ['a sequence of garbage', derSequence(Buffer.from([0x30, 0x05, 0x01]))],
    ['an empty sequence', derSequence()],
  ])('refuses a CRL that is %s', (_name, der) => {
    expect(() => parseCrl(der)).toThrow(expect.objectContaining({ code: 'crl_invalid' }));
  });
});
