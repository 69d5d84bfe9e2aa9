import { X509Certificate } from 'node:crypto';
import { CertificateMalformed } from '../../errors';
import { productFromName, type Product } from '../abi/product';
import type { Tcb } from '../abi/tcb';
import { TAG, children, decodeOid, decodeSmallInteger, expectTag, readSingle, type Tlv } from './der';

/** AMD KDS extension OIDs on VCEK / VLEK certificates (KDS spec 57230). */
const AMD = '1.3.6.1.4.1.3704.1';
export const VEK_OIDS = {
  structVersion: `${AMD}.1`,
  productName: `${AMD}.2`,
  blSpl: `${AMD}.3.1`,
  teeSpl: `${AMD}.3.2`,
  snpSpl: `${AMD}.3.3`,
  ucodeSpl: `${AMD}.3.8`,
  fmcSpl: `${AMD}.3.9`,
  hwId: `${AMD}.4`,
  cspId: `${AMD}.5`,
} as const;

export type VekKind = 'VCEK' | 'VLEK';

export interface VekCertificate {
  cert: X509Certificate;
  der: Buffer;
  kind: VekKind;
  structVersion?: number;
  productName: string;
  product: Product;
  /** SPL extensions as a TCB (fmc only when present). */
  tcb: Tcb;
  /** VCEK: 64 bytes (Milan/Genoa) or 8 bytes (Turin). */
  hwId?: Buffer;
  /** VLEK: the cloud provider it was issued to. */
  cspId?: string;
}

/** Certificates arrive as DER or PEM; accept both. */
export function toDer(input: Uint8Array | string): Buffer {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('latin1');
  const match = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  if (match) return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
  if (typeof input === 'string') throw new CertificateMalformed('not a PEM certificate');
  return Buffer.from(input);
}

/** Splits a PEM bundle (e.g. KDS cert_chain: ASK then ARK) into DER certificates. */
export function splitPem(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    out.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  }
  return out;
}

export function loadCertificate(der: Buffer): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch {
    throw new CertificateMalformed('certificate cannot be parsed as X.509');
  }
}

/** The extensions of a certificate as OID → extnValue content. */
export function readExtensions(der: Buffer): Map<string, Buffer> {
  const cert = expectTag(readSingle(der), TAG.SEQUENCE, 'Certificate');
  const tbs = expectTag(children(cert)[0] ?? failMissing('tbsCertificate'), TAG.SEQUENCE, 'tbsCertificate');
  const wrapper = children(tbs).find((c) => c.tag === 0xa3);
  const out = new Map<string, Buffer>();
  if (!wrapper) return out;
  const list = expectTag(readSingle(wrapper.value), TAG.SEQUENCE, 'Extensions');
  for (const ext of children(list)) {
    const parts = children(expectTag(ext, TAG.SEQUENCE, 'Extension'));
    const oid = decodeOid(expectTag(parts[0] ?? failMissing('extnID'), TAG.OID, 'extnID').value);
    const value = expectTag(parts[parts.length - 1] ?? failMissing('extnValue'), TAG.OCTET_STRING, 'extnValue').value;
    if (out.has(oid)) throw new CertificateMalformed(`extension ${oid} appears twice`);
    out.set(oid, value);
  }
  return out;
}

function failMissing(what: string): never {
  throw new CertificateMalformed(`certificate lacks ${what}`);
}

function single(value: Buffer): Tlv {
  return readSingle(value);
}

function intExtension(exts: Map<string, Buffer>, oid: string, name: string, required: boolean): number | undefined {
  const value = exts.get(oid);
  if (!value) {
    if (required) throw new CertificateMalformed(`VEK lacks the ${name} extension`);
    return undefined;
  }
  return decodeSmallInteger(single(value));
}

function ia5Extension(exts: Map<string, Buffer>, oid: string): string | undefined {
  const value = exts.get(oid);
  if (!value) return undefined;
  return expectTag(single(value), TAG.IA5_STRING, 'IA5String').value.toString('latin1');
}

/**
 * hwID is raw bytes in every genuine KDS certificate; some simulators wrap it in an OCTET
 * STRING. A wrapped form is recognised only when it decodes exactly to 8 or 64 bytes.
 */
function decodeHwId(value: Buffer): Buffer {
  if (value.length === 64 || value.length === 8) return Buffer.from(value);
  try {
    const inner = readSingle(value);
    if (inner.tag === TAG.OCTET_STRING && (inner.value.length === 64 || inner.value.length === 8)) return Buffer.from(inner.value);
  } catch {
    // fall through to the error below
  }
  throw new CertificateMalformed(`hwID extension has ${value.length} bytes, expected 8 or 64`);
}

function commonName(dn: string): string | undefined {
  return /(?:^|\n)CN=([^\n]*)/.exec(dn)?.[1];
}

/** Parses a VCEK or VLEK certificate and its AMD extensions. */
export function parseVek(input: Uint8Array | string): VekCertificate {
  const der = toDer(input);
  const cert = loadCertificate(der);
  const cn = commonName(cert.subject);
  if (cn !== 'SEV-VCEK' && cn !== 'SEV-VLEK') {
    throw new CertificateMalformed(`certificate subject CN "${cn ?? ''}" is neither SEV-VCEK nor SEV-VLEK`);
  }
  const kind: VekKind = cn === 'SEV-VCEK' ? 'VCEK' : 'VLEK';
  const exts = readExtensions(der);
  const productName = ia5Extension(exts, VEK_OIDS.productName);
  if (productName === undefined) throw new CertificateMalformed('VEK lacks the productName extension');
  const tcb: Tcb = {
    bootloader: intExtension(exts, VEK_OIDS.blSpl, 'blSPL', true)!,
    tee: intExtension(exts, VEK_OIDS.teeSpl, 'teeSPL', true)!,
    snp: intExtension(exts, VEK_OIDS.snpSpl, 'snpSPL', true)!,
    microcode: intExtension(exts, VEK_OIDS.ucodeSpl, 'ucodeSPL', true)!,
  };
  const fmc = intExtension(exts, VEK_OIDS.fmcSpl, 'fmcSPL', false);
  if (fmc !== undefined) tcb.fmc = fmc;
  const hw = exts.get(VEK_OIDS.hwId);
  if (kind === 'VCEK' && !hw) throw new CertificateMalformed('VCEK lacks the hwID extension');
  return {
    cert,
    der,
    kind,
    structVersion: intExtension(exts, VEK_OIDS.structVersion, 'structVersion', false),
    productName,
    product: productFromName(productName),
    tcb,
    hwId: hw ? decodeHwId(hw) : undefined,
    cspId: ia5Extension(exts, VEK_OIDS.cspId),
  };
}
