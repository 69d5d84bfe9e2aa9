import { constants, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { InvalidArgument } from '../../errors';
import { derBitString, derBoolean, derContext, derInteger, derNull, derOctetString, derOid, derPrintableString, derSequence, derSet, derTime, derUtf8String } from './der-writer';

/**
 * Mints X.509 v3 certificates signed RSASSA-PSS SHA-384 (MGF1-SHA-384, salt 48), the one
 * algorithm AMD signs ARK, ASK, ASVK and VEK certificates with. node:crypto parses such
 * certificates but cannot create them, hence this builder.
 */

const NAME_OIDS = {
  CN: '2.5.4.3',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  O: '2.5.4.10',
  OU: '2.5.4.11',
} as const;

export type NameAttributeType = keyof typeof NAME_OIDS;

/** One RDN per attribute, kept in the order given (AMD's order is OU, C, L, ST, O, CN). */
export type DistinguishedName = [NameAttributeType, string][];

export interface CertificateExtension {
  oid: string;
  critical?: boolean;
  /** The extnValue content: normally a DER value, but AMD's hwID is raw bytes, so anything goes. */
  value: Buffer;
}

export interface CertificateSpec {
  /** A non-negative serial; a Buffer is an unsigned big-endian magnitude. */
  serial: number | bigint | Buffer;
  issuer: DistinguishedName;
  subject: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  /** The subject's public key (a private key's public half is used when given a private key). */
  publicKey: KeyObject;
  extensions?: CertificateExtension[];
  /**
   * Write the PSS trailerField although it is the DEFAULT (1): AMD's 2020 ARKs and ASKs and
   * older VCEKs carry it, current KDS VCEKs follow DER and omit it. Default false.
   */
  explicitTrailerField?: boolean;
}

const OID = {
  rsassaPss: '1.2.840.113549.1.1.10',
  sha384: '2.16.840.1.101.3.4.2.2',
  mgf1: '1.2.840.113549.1.1.8',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
};
const PSS_SALT_LENGTH = 48;

/** AlgorithmIdentifier for RSASSA-PSS SHA-384, MGF1-SHA-384, salt 48, spelled out as AMD does. */
function pssSha384AlgorithmIdentifier(explicitTrailerField: boolean): Buffer {
  const sha384 = derSequence(derOid(OID.sha384), derNull());
  const params = [derContext(0, sha384), derContext(1, derSequence(derOid(OID.mgf1), sha384)), derContext(2, derInteger(PSS_SALT_LENGTH))];
  if (explicitTrailerField) params.push(derContext(3, derInteger(1)));
  return derSequence(derOid(OID.rsassaPss), derSequence(...params));
}

export function encodeName(name: DistinguishedName): Buffer {
  return derSequence(
    ...name.map(([type, value]) => {
      const oid = NAME_OIDS[type];
      if (!oid) throw new InvalidArgument(`unknown name attribute ${type}`);
      // AMD writes countryName as PrintableString (its ASN.1 type) and the rest as UTF8String.
      return derSet(derSequence(derOid(oid), type === 'C' ? derPrintableString(value) : derUtf8String(value)));
    }),
  );
}

export function basicConstraintsExtension(ca: boolean, pathLength?: number): CertificateExtension {
  const fields = ca ? [derBoolean(true)] : [];
  if (pathLength !== undefined) fields.push(derInteger(pathLength));
  return { oid: OID.basicConstraints, critical: true, value: derSequence(...fields) };
}

const KEY_USAGE_BITS = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
} as const;
export type KeyUsage = keyof typeof KEY_USAGE_BITS;

/** keyUsage as a DER named-bit list: trailing zero bits are dropped and counted as unused. */
export function keyUsageExtension(usages: KeyUsage[]): CertificateExtension {
  if (usages.length === 0) throw new InvalidArgument('keyUsage needs at least one usage');
  const highest = Math.max(...usages.map((u) => KEY_USAGE_BITS[u]));
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const usage of usages) {
    const bit = KEY_USAGE_BITS[usage];
    bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  }
  return { oid: OID.keyUsage, critical: true, value: derBitString(bytes, 7 - (highest & 7)) };
}

function encodeExtensions(extensions: CertificateExtension[]): Buffer {
  const seen = new Set<string>();
  const encoded = extensions.map((ext) => {
    if (seen.has(ext.oid)) throw new InvalidArgument(`extension ${ext.oid} given twice`);
    seen.add(ext.oid);
    const fields = [derOid(ext.oid)];
    // DER omits DEFAULT values, and critical defaults to FALSE.
    if (ext.critical) fields.push(derBoolean(true));
    fields.push(derOctetString(ext.value));
    return derSequence(...fields);
  });
  return derContext(3, derSequence(...encoded));
}

function serialBytes(serial: CertificateSpec['serial']): Buffer {
  if (Buffer.isBuffer(serial)) return derInteger(serial);
  if (BigInt(serial) < 0n) throw new InvalidArgument('certificate serial must not be negative');
  return derInteger(serial);
}

/** The DER TBSCertificate for `spec`, signed with RSASSA-PSS SHA-384. */
export function encodeTbsCertificate(spec: CertificateSpec): Buffer {
  if (!(spec.notBefore < spec.notAfter)) throw new InvalidArgument('certificate notBefore must precede notAfter');
  const publicKey = spec.publicKey.type === 'private' ? createPublicKey(spec.publicKey) : spec.publicKey;
  const fields = [
    derContext(0, derInteger(2)), // v3
    serialBytes(spec.serial),
    pssSha384AlgorithmIdentifier(spec.explicitTrailerField ?? false),
    encodeName(spec.issuer),
    derSequence(derTime(spec.notBefore), derTime(spec.notAfter)),
    encodeName(spec.subject),
    publicKey.export({ type: 'spki', format: 'der' }),
  ];
  if (spec.extensions && spec.extensions.length > 0) fields.push(encodeExtensions(spec.extensions));
  return derSequence(...fields);
}

function signPss(data: Buffer, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    sign('sha384', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT_LENGTH }, (error, signature) => (error ? reject(error) : resolve(signature)));
  });
}

/** Builds and signs a certificate; returns its DER. The issuer key must be an RSA private key. */
export async function buildCertificate(spec: CertificateSpec, issuerKey: KeyObject): Promise<Buffer> {
  if (issuerKey.type !== 'private' || issuerKey.asymmetricKeyType !== 'rsa') {
    throw new InvalidArgument('the issuer key must be an RSA private key (AMD chains are RSASSA-PSS)');
  }
  const tbs = encodeTbsCertificate(spec);
  const signature = await signPss(tbs, issuerKey);
  return derSequence(tbs, pssSha384AlgorithmIdentifier(spec.explicitTrailerField ?? false), derBitString(signature));
}
