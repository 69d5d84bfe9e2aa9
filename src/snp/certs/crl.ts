import { constants, verify as verifySignature, type X509Certificate } from 'node:crypto';
import { CertificateRevoked, CrlInvalid, CrlStale } from '../../errors';
import { TAG, children, decodeOid, decodeSmallInteger, readSingle, type Tlv } from '../x509/der';

/** An X.509 v2 CRL (RFC 5280 §5), reduced to what a revocation check of ASK/ASVK needs. */
export interface Crl {
  /** tbsCertList, exactly as signed. */
  tbs: Buffer;
  /** The issuer Name, DER. */
  issuer: Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Serial numbers of revoked certificates: lowercase hex without leading zeros. */
  revokedSerials: string[];
  signatureAlgorithm: Buffer;
  signature: Buffer;
}

const OID_RSASSA_PSS = '1.2.840.113549.1.1.10';
const OID_SHA384 = '2.16.840.1.101.3.4.2.2';

function fail(message: string): never {
  throw new CrlInvalid(message);
}

function take(tlv: Tlv | undefined, tag: number, what: string): Tlv {
  if (!tlv || tlv.tag !== tag) fail(`CRL ${what} is missing or malformed`);
  return tlv;
}

function decodeTime(tlv: Tlv): Date {
  const text = tlv.value.toString('latin1');
  const m =
    tlv.tag === TAG.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : tlv.tag === TAG.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : null;
  if (!m) fail('CRL time is malformed');
  let year = Number(m[1]);
  if (tlv.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

const isTime = (tlv: Tlv | undefined) => tlv?.tag === TAG.UTC_TIME || tlv?.tag === TAG.GENERALIZED_TIME;

/** Serial numbers compare as numbers: strip sign padding and leading zeros. */
function normaliseSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/** DER reader failures inside a CRL are reported as CrlInvalid, whatever part of it they hit. */
function asCrlInvalid<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof CrlInvalid) throw err;
    fail(`CRL is malformed: ${(err as Error).message}`);
  }
}

export function parseCrl(der: Uint8Array): Crl {
  return asCrlInvalid(() => decodeCrl(Buffer.from(der)));
}

function decodeCrl(der: Buffer): Crl {
  const outer = children(readSingle(der));
  const tbs = take(outer[0], TAG.SEQUENCE, 'tbsCertList');
  const signatureAlgorithm = take(outer[1], TAG.SEQUENCE, 'signatureAlgorithm');
  const signatureBits = take(outer[2], TAG.BIT_STRING, 'signatureValue');
  if (outer.length !== 3 || signatureBits.value[0] !== 0) fail('CRL structure is malformed');

  const fields = children(tbs);
  let i = 0;
  if (fields[i]?.tag === TAG.INTEGER) i++; // version (v2) is optional
  const innerAlgorithm = take(fields[i++], TAG.SEQUENCE, 'signature');
  if (!innerAlgorithm.raw.equals(signatureAlgorithm.raw)) fail('CRL signature algorithms inside and outside tbsCertList differ');
  const issuer = take(fields[i++], TAG.SEQUENCE, 'issuer');
  const thisUpdateTlv = fields[i++];
  if (!isTime(thisUpdateTlv)) fail('CRL thisUpdate is missing');
  const thisUpdate = decodeTime(thisUpdateTlv!);
  let nextUpdate: Date | undefined;
  if (isTime(fields[i])) nextUpdate = decodeTime(fields[i++]!);
  const revokedSerials: string[] = [];
  if (fields[i]?.tag === TAG.SEQUENCE) {
    for (const entry of children(fields[i++]!)) {
      const serial = take(children(take(entry, TAG.SEQUENCE, 'revoked entry'))[0], TAG.INTEGER, 'revoked serial');
      revokedSerials.push(normaliseSerial(serial.value.toString('hex')));
    }
  }
  return {
    tbs: tbs.raw,
    issuer: issuer.raw,
    thisUpdate,
    ...(nextUpdate ? { nextUpdate } : {}),
    revokedSerials,
    signatureAlgorithm: signatureAlgorithm.raw,
    signature: signatureBits.value.subarray(1),
  };
}

/** The salt length of RSASSA-PSS parameters that name SHA-384; AMD signs with salt 48. */
function pssSaltLength(algorithm: Buffer): number {
  const [oid, params] = children(readSingle(algorithm));
  if (!oid || oid.tag !== TAG.OID || decodeOid(oid.value) !== OID_RSASSA_PSS || params?.tag !== TAG.SEQUENCE) {
    fail('CRL is not signed with RSASSA-PSS');
  }
  let hash: string | undefined;
  let salt = 20; // the RFC 4055 default when the field is absent
  for (const field of children(params)) {
    if (field.tag === 0xa0) {
      const hashOid = children(readSingle(field.value))[0];
      if (hashOid?.tag === TAG.OID) hash = decodeOid(hashOid.value);
    } else if (field.tag === 0xa2) {
      salt = decodeSmallInteger(readSingle(field.value));
    }
  }
  if (hash !== OID_SHA384) fail('CRL RSASSA-PSS parameters do not name SHA-384');
  return salt;
}

/** The subject Name of a certificate, DER, for comparing with a CRL issuer byte for byte. */
export function subjectOf(cert: X509Certificate): Buffer {
  const tbs = children(children(readSingle(cert.raw))[0]!);
  return tbs[tbs[0]?.tag === 0xa0 ? 5 : 4]!.raw;
}

/** Refuses a CRL that is not issued and signed by `ark` (RSASSA-PSS, SHA-384). */
export function verifyCrl(crl: Crl, ark: X509Certificate): void {
  if (!crl.issuer.equals(subjectOf(ark))) fail('CRL issuer is not the ARK');
  const saltLength = asCrlInvalid(() => pssSaltLength(crl.signatureAlgorithm));
  const ok = verifySignature('sha384', crl.tbs, { key: ark.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, crl.signature);
  if (!ok) fail('CRL signature does not verify with the ARK');
}

/** Throws CertificateRevoked if the CRL lists `cert`'s serial. `name` (ASK, ASVK) goes into the error. */
export function assertNotRevoked(crl: Crl, cert: X509Certificate, name: string): void {
  const serial = normaliseSerial(cert.serialNumber);
  if (crl.revokedSerials.includes(serial)) throw new CertificateRevoked(name, serial);
}

/**
 * A CRL speaks for the interval thisUpdate..nextUpdate. Before it, the clock or the CRL is wrong
 * (crl_invalid); after it, the CRL is stale (crl_stale): revocation information past its promised
 * replacement is refused rather than trusted for a bounded grace, so an operator with offline
 * CRL files must refresh them (AMD publishes CRLs valid for about a year).
 */
export function assertCrlCurrent(crl: Crl, now: Date): void {
  if (now < crl.thisUpdate) fail(`CRL thisUpdate ${crl.thisUpdate.toISOString()} is after the verification time ${now.toISOString()}`);
  if (crl.nextUpdate && now > crl.nextUpdate) throw new CrlStale(crl.nextUpdate.toISOString(), now.toISOString());
}

const PEM_CRL = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+?)-----END X509 CRL-----/g;

/** The CRLs in a file: one DER CRL, or every X509 CRL block of a PEM file. */
export function crlsFromFile(bytes: Uint8Array): Buffer[] {
  const buffer = Buffer.from(bytes);
  if (buffer[0] === 0x30) return [buffer];
  const text = buffer.toString('latin1');
  const blocks = [...text.matchAll(PEM_CRL)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  if (blocks.length === 0) fail('the file holds neither a DER CRL nor a PEM "X509 CRL" block');
  return blocks;
}
