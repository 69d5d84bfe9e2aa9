import { randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { InvalidArgument } from '../../errors';
import type { Product } from '../abi/product';
import type { Tcb } from '../abi/tcb';
import { buildCertificate, type CertificateExtension, type DistinguishedName } from '../x509/cert-builder';
import { derIa5String, derInteger, derOctetString } from '../x509/der-writer';
import { VEK_OIDS } from '../x509/vek';
import { generateP384Key } from './keys';
import { amdName, PRODUCT_PROFILES } from './profiles';
import type { KeyedCertificate, VirtualDeviceConfig } from './types';

const AMD = '1.3.6.1.4.1.3704.1';
/** KDS issues VCEKs for 7 years from the moment it generates them. */
export const VEK_VALIDITY_YEARS = 7;

/** The same instant `years` calendar years later (validity periods run date to date, as AMD's do). */
export function addYears(date: Date, years: number): Date {
  const out = new Date(date);
  out.setUTCFullYear(out.getUTCFullYear() + years);
  return out;
}

export interface VcekFields {
  product: Product;
  productName: string;
  structVersion?: number;
  tcb: Tcb;
  /** Raw bytes, as every genuine KDS certificate carries them. */
  hwId?: Buffer;
}

/**
 * The AMD extensions in the order KDS writes them (SPL 3.3 after 3.4–3.7 on Milan/Genoa;
 * Turin leads with fmc 3.9 and has no 3.4), so minted VCEKs mirror genuine ones byte for byte.
 */
export function vcekExtensions(fields: VcekFields): CertificateExtension[] {
  const int = (oid: string, value: number): CertificateExtension => ({ oid, value: derInteger(value) });
  const turin = fields.product === 'Turin';
  const spls = turin
    ? [
        int(VEK_OIDS.fmcSpl, fields.tcb.fmc ?? 0),
        int(VEK_OIDS.blSpl, fields.tcb.bootloader),
        int(VEK_OIDS.teeSpl, fields.tcb.tee),
        int(VEK_OIDS.snpSpl, fields.tcb.snp),
        ...[5, 6, 7].map((n) => int(`${AMD}.3.${n}`, 0)),
      ]
    : [int(VEK_OIDS.blSpl, fields.tcb.bootloader), int(VEK_OIDS.teeSpl, fields.tcb.tee), ...[4, 5, 6, 7].map((n) => int(`${AMD}.3.${n}`, 0)), int(VEK_OIDS.snpSpl, fields.tcb.snp)];
  const out: CertificateExtension[] = [];
  if (fields.structVersion !== undefined) out.push(int(VEK_OIDS.structVersion, fields.structVersion));
  out.push({ oid: VEK_OIDS.productName, value: derIa5String(fields.productName) }, ...spls, int(VEK_OIDS.ucodeSpl, fields.tcb.microcode));
  if (fields.hwId) out.push({ oid: VEK_OIDS.hwId, value: fields.hwId });
  return out;
}

/** The hwID of a chip: all 64 CHIP_ID bytes, or the 8 significant ones on Turin. */
export function hwIdOf(product: Product, chipId: Buffer): Buffer {
  return Buffer.from(chipId.subarray(0, PRODUCT_PROFILES[product].chipIdLength));
}

/** Fields of a VCEK to change, for negative tests: each yields a forged but well-formed certificate. */
export interface VekOverrides {
  /** The VEK's private key: another one, or 'generate' for a fresh P-384 key (default: the PKI's VCEK key). */
  key?: KeyObject | 'generate';
  tcb?: Tcb;
  /** Another hwID, or null to leave the extension out. */
  hwId?: Buffer | null;
  /** Wrap hwID in an OCTET STRING, as go-sev-guest's fakes do, instead of KDS's raw bytes. */
  hwIdEncoding?: 'raw' | 'octet-string';
  productName?: string;
  /** Another structVersion, or null to leave it out. */
  structVersion?: number | null;
  notBefore?: Date;
  notAfter?: Date;
  /** Sign with another key (a forged ASK), optionally under another issuer name. */
  issuer?: { key: KeyObject; name?: DistinguishedName };
  /** E.g. 'SEV-VLEK' to claim the other kind. */
  subjectCommonName?: string;
  serial?: number | bigint;
  /** Extensions added after the AMD ones (an OID already present replaces it). */
  extensions?: CertificateExtension[];
  /** Extension OIDs to drop. */
  omit?: string[];
}

/** What minting a VCEK needs: a `VirtualPki` is one. */
export interface VekIssuer {
  product: Product;
  config: Pick<VirtualDeviceConfig, 'chipId' | 'tcb'>;
  ask: Pick<KeyedCertificate, 'key'>;
  /** The default VEK key. */
  vcek: Pick<KeyedCertificate, 'key'>;
}

/**
 * Mints a VCEK for the PKI's chip, issued by its ASK, with any field overridden. With no
 * overrides it equals the PKI's own VCEK in every field but validity, so a test changes
 * exactly what it names.
 */
export async function mintVek(pki: VekIssuer, overrides: VekOverrides = {}): Promise<KeyedCertificate> {
  const profile = PRODUCT_PROFILES[pki.product];
  const key = overrides.key === 'generate' ? await generateP384Key() : (overrides.key ?? pki.vcek.key);
  if (key.type !== 'private') throw new InvalidArgument('the VEK key override must be a private key');
  const hwId = overrides.hwId === null ? undefined : (overrides.hwId ?? hwIdOf(pki.product, pki.config.chipId));
  let extensions = vcekExtensions({
    product: pki.product,
    productName: overrides.productName ?? profile.productName,
    structVersion: overrides.structVersion === null ? undefined : (overrides.structVersion ?? profile.structVersion),
    tcb: overrides.tcb ?? pki.config.tcb,
    hwId: hwId && overrides.hwIdEncoding === 'octet-string' ? derOctetString(hwId) : hwId,
  });
  for (const extra of overrides.extensions ?? []) {
    const at = extensions.findIndex((e) => e.oid === extra.oid);
    if (at >= 0) extensions[at] = extra;
    else extensions.push(extra);
  }
  if (overrides.omit) extensions = extensions.filter((e) => !overrides.omit!.includes(e.oid));

  const notBefore = overrides.notBefore ?? new Date(Date.now() - 24 * 3600 * 1000);
  const der = await buildCertificate(
    {
      // KDS gives every VCEK serial 0.
      serial: overrides.serial ?? 0,
      issuer: overrides.issuer?.name ?? amdName(`SEV-${pki.product}`),
      subject: amdName(overrides.subjectCommonName ?? 'SEV-VCEK'),
      notBefore,
      notAfter: overrides.notAfter ?? addYears(notBefore, VEK_VALIDITY_YEARS),
      publicKey: key,
      extensions,
    },
    overrides.issuer?.key ?? pki.ask.key,
  );
  const cert = new X509Certificate(der);
  return { der, pem: cert.toString(), cert, key };
}

/** A random serial for the virtual CAs: positive, and never one of AMD's, so caches keyed by issuer and serial cannot confuse them. */
export function randomSerial(): Buffer {
  const serial = randomBytes(9);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  return serial;
}
