import { X509Certificate } from 'node:crypto';
import { decodeCbor, encodeCbor, type CborTagged, type CborValue } from '../../../src/lib/cbor';
import { ACI_UVM_ISSUER, uvmIssuer, verifyUvmEndorsement, type UvmEndorsementOptions } from '../../../src/maa/uvm';
import { uvmEndorsementClaims } from '../../../src/maa/service/uvm-claims';
import { parseAppraisalPolicy } from '../../../src/maa/service/appraisal-policy';
import { parseReport } from '../../../src/snp/abi';
import { verifyReport } from '../../../src/snp/verify';
import { splitPem } from '../../../src/snp/x509/vek';
import { mintUvmSigner, signUvmEndorsement } from '../../../src/snp/virtual';
import { fixture } from '../../snp/vectors';

/**
 * Genuine UVM endorsements signed by Microsoft's ContainerPlat identity (test/fixtures/uvm,
 * see its README): the KMS sample with the report it endorses, and the sidecar's two samples.
 */
const kms = JSON.parse(fixture('uvm', 'kms-snp.json').toString('utf8')) as Record<string, string>;
const kmsEndorsement = Buffer.from(kms.uvm_endorsements!, 'base64');
const kmsReport = Buffer.from(kms.evidence!, 'base64');
const kmsMeasurement = parseReport(kmsReport).measurement;
const cscReferenceInfo = Buffer.from(fixture('uvm', 'csc-reference-info-base64').toString('utf8').trim(), 'base64');
const cscSvn22 = fixture('uvm', 'csc-body-uvm-reference-info.cose');
const cscSvn22Report = fixture('snp', 'milan-v2-aci-thim', 'report.bin');
/** Inside the KMS sample's VCEK validity (2023-01-15 .. 2030-01-15) and after its endorsement was signed. */
const KMS_TIME = new Date('2024-06-01T00:00:00Z');

const ACI = uvmIssuer(ACI_UVM_ISSUER.did, ACI_UVM_ISSUER.feed);
const options = (overrides: Partial<UvmEndorsementOptions> = {}): UvmEndorsementOptions => ({
  trusted: [ACI],
  measurement: kmsMeasurement,
  minimumSvn: 100,
  now: new Date(),
  ...overrides,
});
const codeOf = (bytes: Buffer, o: UvmEndorsementOptions) => {
  try {
    verifyUvmEndorsement(bytes, o);
    return 'accepted';
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

/** The message with its protected header rewritten (the signature then no longer covers it). */
function withProtected(bytes: Buffer, edit: (header: Map<CborValue, CborValue>) => void): Buffer {
  const message = decodeCbor(bytes) as CborTagged;
  const [protectedBytes, unprotected, payload, signature] = message.value as CborValue[];
  const header = decodeCbor(protectedBytes as Buffer) as Map<CborValue, CborValue>;
  edit(header);
  return encodeCbor({ tag: 18, value: [encodeCbor(header), unprotected!, payload!, signature!] });
}

function leafOf(bytes: Buffer): X509Certificate {
  const message = decodeCbor(bytes) as CborTagged;
  const header = decodeCbor((message.value as CborValue[])[0] as Buffer) as Map<CborValue, CborValue>;
  return new X509Certificate((header.get(33) as Buffer[])[0]!);
}

function payloadOf(bytes: Buffer): Record<string, string> {
  const message = decodeCbor(bytes) as CborTagged;
  return JSON.parse(((message.value as CborValue[])[2] as Buffer).toString('utf8'));
}

describe('UVM endorsement verification on genuine Microsoft endorsements', () => {
  test('the KMS sample endorses its report: accepted with the payload as MAA repeats it', () => {
    expect(verifyUvmEndorsement(kmsEndorsement, options())).toEqual({
      issuer: ACI,
      svn: 100,
      claim: { 'x-ms-sevsnpvm-guestsvn': '100', 'x-ms-sevsnpvm-launchmeasurement': kmsMeasurement.toString('hex') },
    });
  });

  test('the sidecar security-context sample verifies for its own measurement and no other', () => {
    const measurement = Buffer.from(payloadOf(cscReferenceInfo)['x-ms-sevsnpvm-launchmeasurement']!, 'hex');
    expect(codeOf(cscReferenceInfo, options({ measurement }))).toBe('accepted');
    expect(codeOf(cscReferenceInfo, options())).toBe('uvm_endorsement_measurement_mismatch');
  });

  test('the pre-production sample (svn "22", a string that sorts after "100") is below the minimum, though otherwise genuine', () => {
    const measurement = parseReport(cscSvn22Report).measurement;
    expect(codeOf(cscSvn22, options({ measurement }))).toBe('uvm_endorsement_svn_too_low');
    expect(codeOf(cscSvn22, options({ measurement, minimumSvn: 22 }))).toBe('accepted');
  });

  test('the signer chain is checked at the signing time: genuine leaves expired long ago, yet a later signing time is refused', () => {
    expect(new Date(leafOf(kmsEndorsement).validTo) < new Date()).toBe(true);
    const later = withProtected(kmsEndorsement, (h) => h.set('signingtime', { tag: 1, value: Math.floor(Date.parse('2030-01-01') / 1000) }));
    expect(codeOf(later, options())).toBe('uvm_endorsement_chain_invalid');
  });

  const mutations: [string, () => Buffer, Partial<UvmEndorsementOptions>, string][] = [
    ['a payload byte', () => Buffer.from(kmsEndorsement.toString('latin1').replace('"100"', '"900"'), 'latin1'), {}, 'uvm_endorsement_signature_invalid'],
    [
      'a signature byte',
      () => {
        const b = Buffer.from(kmsEndorsement);
        b[b.length - 10]! ^= 1;
        return b;
      },
      {},
      'uvm_endorsement_signature_invalid',
    ],
    ['the feed', () => withProtected(kmsEndorsement, (h) => h.set('feed', 'ConfAKS-AMD-UVM')), {}, 'uvm_endorsement_untrusted_issuer'],
    ['the DID', () => withProtected(kmsEndorsement, (h) => h.set('iss', ACI_UVM_ISSUER.did.replace('59.1.2', '59.1.5'))), {}, 'uvm_endorsement_untrusted_issuer'],
    ['only another identity trusted', () => kmsEndorsement, { trusted: [uvmIssuer(ACI_UVM_ISSUER.did, 'ConfAKS-AMD-UVM')] }, 'uvm_endorsement_untrusted_issuer'],
    ['nobody trusted', () => kmsEndorsement, { trusted: [] }, 'uvm_endorsement_untrusted_issuer'],
    ['the measurement', () => kmsEndorsement, { measurement: Buffer.alloc(48, 1) }, 'uvm_endorsement_measurement_mismatch'],
    ['the algorithm', () => withProtected(kmsEndorsement, (h) => h.set(1, -37)), {}, 'uvm_endorsement_signature_invalid'],
    [
      'the transparent format',
      () =>
        withProtected(kmsEndorsement, (h) => {
          h.delete('iss');
          h.delete('feed');
          h.set(15, new Map([[1, ACI_UVM_ISSUER.did]]));
        }),
      {},
      'uvm_endorsement_unsupported',
    ],
    ['trailing bytes', () => Buffer.concat([kmsEndorsement, Buffer.from([0])]), {}, 'uvm_endorsement_malformed'],
    ['truncation', () => kmsEndorsement.subarray(0, 500), {}, 'uvm_endorsement_malformed'],
  ];
  test.each(mutations)('refused when %s changes', (_what, make, overrides, code) => {
    expect(codeOf(make(), options(overrides))).toBe(code);
  });

  test("a chain of our own that claims Microsoft's DID and feed is refused: the root fingerprint is pinned, not resolved", async () => {
    const signer = await mintUvmSigner(new Date());
    const forged = withProtected(signUvmEndorsement(signer, kmsMeasurement, new Date()), (h) => {
      h.set('iss', ACI_UVM_ISSUER.did);
      h.set('feed', ACI_UVM_ISSUER.feed);
    });
    expect(codeOf(forged, options())).toBe('uvm_endorsement_chain_invalid');
  });
});

describe('verifier claims for the KMS sample (report, VCEK chain and endorsement from one genuine ACI instance)', () => {
  const certs = splitPem(Buffer.from(kms.endorsements!, 'base64').toString('latin1'));
  const verified = () => verifyReport({ report: kmsReport, vek: certs[0]!, chain: certs.slice(1) }, { now: KMS_TIME, trustedRoots: [] });

  test('the genuine report with its endorsement is azure-compliant-uvm under the default policy', async () => {
    const result = uvmEndorsementClaims([kmsEndorsement], await verified(), parseAppraisalPolicy('{}'), [], KMS_TIME);
    expect(result).toEqual({
      endorsed: true,
      claims: { 'x-ms-sevsnpvm-uvm-endorsement': { 'x-ms-sevsnpvm-guestsvn': '100', 'x-ms-sevsnpvm-launchmeasurement': kmsMeasurement.toString('hex') } },
    });
  });

  test('another genuine endorsement (a different UVM) is refused for this report; a raised minimum refuses this one', async () => {
    expect(uvmEndorsementClaims([cscReferenceInfo], await verified(), parseAppraisalPolicy('{}'), [], KMS_TIME)).toEqual({
      endorsed: false,
      claims: { 'x-skr-uvm-endorsement-refused': ['uvm_endorsement_measurement_mismatch'] },
    });
    expect(uvmEndorsementClaims([kmsEndorsement], await verified(), parseAppraisalPolicy('{"minimumUvmSvn":104}'), [], KMS_TIME).endorsed).toBe(false);
  });
});
