import { constants, sign, type X509Certificate } from 'node:crypto';
import { derBitString, derContext, derInteger, derNull, derOid, derSequence, derUtcTime } from '../x509/der-writer';
import { subjectOf } from '../certs/crl';
import type { KeyedCertificate } from './types';

/** RSASSA-PSS with SHA-384, MGF1-SHA-384 and salt 48: how AMD's ARK signs its CRLs. */
function pssSha384(): Buffer {
  const sha384 = derSequence(derOid('2.16.840.1.101.3.4.2.2'), derNull());
  return derSequence(derOid('1.2.840.113549.1.1.10'), derSequence(derContext(0, sha384), derContext(1, derSequence(derOid('1.2.840.113549.1.1.8'), sha384)), derContext(2, derInteger(48))));
}

const serialBytes = (cert: X509Certificate) => Buffer.from(cert.serialNumber.length % 2 ? `0${cert.serialNumber}` : cert.serialNumber, 'hex');

export interface CrlSpec {
  /** Certificates to list (ASK, ASVK): their serial numbers go in. */
  revoked: X509Certificate[];
  thisUpdate: Date;
  nextUpdate: Date;
}

/**
 * A v2 CRL in AMD's shape, issued and signed by `issuer` (the virtual ARK): what KDS serves at
 * /vcek/v1/{product}/crl, for a virtual chain whose revocation check needs one.
 */
export function mintCrl(issuer: KeyedCertificate, spec: CrlSpec): Buffer {
  const entries = spec.revoked.map((cert) => derSequence(derInteger(serialBytes(cert)), derUtcTime(spec.thisUpdate)));
  const tbs = derSequence(derInteger(1), pssSha384(), subjectOf(issuer.cert), derUtcTime(spec.thisUpdate), derUtcTime(spec.nextUpdate), ...(entries.length ? [derSequence(...entries)] : []));
  const signature = sign('sha384', tbs, { key: issuer.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 });
  return derSequence(tbs, pssSha384(), derBitString(signature));
}
