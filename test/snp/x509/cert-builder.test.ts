import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import {
  basicConstraintsExtension,
  buildCertificate,
  children,
  derOctetString,
  encodeTbsCertificate,
  keyUsageExtension,
  parseVek,
  readExtensions,
  readSingle,
  type DistinguishedName,
} from '../../../src/snp/x509';
import { amdName, vcekExtensions } from '../../../src/snp/virtual';
import { fixture, loadVector } from '../vectors';

// RSA-2048 keeps these tests fast; the signature algorithm does not depend on the modulus size.
const issuer = generateKeyPairSync('rsa', { modulusLength: 2048 });
const subjectKey = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rootName: DistinguishedName = amdName('ARK-Test');
const notBefore = new Date('2024-01-01T00:00:00Z');
const notAfter = new Date('2051-01-01T00:00:00Z');

const tbsOf = (der: Buffer) => children(readSingle(der))[0]!.raw;
const signatureAlgorithmOf = (der: Buffer) => children(readSingle(der))[1]!.raw;

describe('certificate builder', () => {
  test('a self-signed CA parses with node and verifies with its own key', async () => {
    const der = await buildCertificate(
      {
        serial: 0x010000,
        issuer: rootName,
        subject: rootName,
        notBefore,
        notAfter,
        publicKey: issuer.publicKey,
        extensions: [keyUsageExtension(['keyCertSign', 'cRLSign']), basicConstraintsExtension(true)],
      },
      issuer.privateKey,
    );
    const cert = new X509Certificate(der);
    expect(cert.verify(issuer.publicKey)).toBe(true);
    expect(cert.ca).toBe(true);
    expect(cert.serialNumber).toBe('010000');
    expect(cert.subject).toBe('OU=Engineering\nC=US\nL=Santa Clara\nST=CA\nO=Advanced Micro Devices\nCN=ARK-Test');
    expect(new Date(cert.validFrom)).toEqual(notBefore);
    expect(new Date(cert.validTo)).toEqual(notAfter); // 2051: GeneralizedTime
    const exts = readExtensions(der);
    // The exact bytes AMD's ARK carries for keyUsage and basicConstraints.
    expect(exts.get('2.5.29.15')!.toString('hex')).toBe('03020106');
    expect(exts.get('2.5.29.19')!.toString('hex')).toBe('30030101ff');
  });

  test('signature AlgorithmIdentifier is RSASSA-PSS SHA-384 byte for byte as on AMD’s ARK', async () => {
    const spec = { serial: 1, issuer: rootName, subject: rootName, notBefore, notAfter, publicKey: issuer.publicKey };
    const withTrailer = await buildCertificate({ ...spec, explicitTrailerField: true }, issuer.privateKey);
    const amdArk = new X509Certificate(fixture('amd-roots', 'milan_ark.pem')).raw;
    expect(signatureAlgorithmOf(withTrailer).equals(signatureAlgorithmOf(amdArk))).toBe(true);
    // Current KDS VCEKs omit the DEFAULT trailerField, as DER requires.
    const plain = await buildCertificate(spec, issuer.privateKey);
    expect(signatureAlgorithmOf(plain).equals(signatureAlgorithmOf(loadVector('milan-v3-oak').vek))).toBe(true);
    expect(new X509Certificate(plain).verify(issuer.publicKey)).toBe(true);
  });

  test('ASK shape: CA with pathLen 0, signed by the ARK, verified by node', async () => {
    const ask = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const der = await buildCertificate(
      {
        serial: 2,
        issuer: rootName,
        subject: amdName('SEV-Test'),
        notBefore,
        notAfter,
        publicKey: ask.privateKey, // a private key contributes its public half
        extensions: [basicConstraintsExtension(true, 0), keyUsageExtension(['keyCertSign'])],
      },
      issuer.privateKey,
    );
    const cert = new X509Certificate(der);
    expect(cert.verify(issuer.publicKey)).toBe(true);
    expect(cert.verify(ask.publicKey)).toBe(false);
    expect(cert.issuer).toContain('CN=ARK-Test');
    expect(readExtensions(der).get('2.5.29.19')!.toString('hex')).toBe('30060101ff020100');
    expect(cert.publicKey.export({ type: 'spki', format: 'der' }).equals(ask.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
  });

  test('arbitrary extensions keep their bytes, raw or DER, and critical is written only when set', async () => {
    const raw = Buffer.from('00112233445566778899', 'hex');
    const der = await buildCertificate(
      {
        serial: Buffer.from('00ff', 'hex'),
        issuer: rootName,
        subject: amdName('SEV-VCEK'),
        notBefore,
        notAfter,
        publicKey: subjectKey.publicKey,
        extensions: [
          { oid: '1.3.6.1.4.1.3704.1.4', value: raw },
          { oid: '1.2.3.4', critical: true, value: derOctetString(Buffer.from('x')) },
        ],
      },
      issuer.privateKey,
    );
    const exts = readExtensions(der);
    expect(exts.get('1.3.6.1.4.1.3704.1.4')!.equals(raw)).toBe(true);
    expect(exts.get('1.2.3.4')!.toString('hex')).toBe('040178');
    expect(new X509Certificate(der).serialNumber).toBe('FF');
  });

  // Older KDS VCEKs spell out the PSS trailerField, newer ones omit it; everything else must match.
  test.each(['milan-v2-gsg', 'milan-v2-aci-thim', 'genoa-v3-azure-hcl', 'milan-v3-oak', 'milan-v5-gcp-vmpl1', 'genoa-v5-oak', 'turin-v5-oak'])(
    'rebuilding the %s VCEK’s TBSCertificate reproduces AMD’s bytes exactly',
    (id) => {
      const der = loadVector(id).vek;
      const vek = parseVek(der);
      const tbs = encodeTbsCertificate({
        explicitTrailerField: signatureAlgorithmOf(der).toString('hex').endsWith('a303020101'),
        serial: 0,
        issuer: amdName(`SEV-${vek.product}`),
        subject: amdName('SEV-VCEK'),
        notBefore: new Date(vek.cert.validFrom),
        notAfter: new Date(vek.cert.validTo),
        publicKey: vek.cert.publicKey,
        extensions: vcekExtensions({ product: vek.product, productName: vek.productName, structVersion: vek.structVersion, tcb: vek.tcb, hwId: vek.hwId }),
      });
      expect(tbs.toString('hex')).toBe(tbsOf(der).toString('hex'));
    },
  );

  test('refuses a non-RSA issuer key and an empty validity period', async () => {
    const spec = { serial: 1, issuer: rootName, subject: rootName, notBefore, notAfter, publicKey: subjectKey.publicKey };
    await expect(buildCertificate(spec, subjectKey.privateKey)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(buildCertificate(spec, issuer.publicKey)).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(buildCertificate({ ...spec, notAfter: notBefore }, issuer.privateKey)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(() => keyUsageExtension([])).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
