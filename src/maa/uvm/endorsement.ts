import { constants, verify, type KeyObject } from 'node:crypto';
import {
  UvmEndorsementChainInvalid,
  UvmEndorsementMalformed,
  UvmEndorsementMeasurementMismatch,
  UvmEndorsementSignatureInvalid,
  UvmEndorsementSvnTooLow,
  UvmEndorsementUnsupported,
  UvmEndorsementUntrustedIssuer,
  type UvmEndorsementRefusal,
} from '../../errors';
import { isCborTagged, type CborValue } from '../../lib/cbor';
import { decodeCoseSign1, sign1ToBeSigned, type CoseSign1 } from './cose-sign1';
import { chainMatchesDid } from './did-x509';
import type { UvmIssuer } from './issuers';
import { checkChainAt, parseChain } from './x5chain';

/**
 * Verifies one UVM endorsement in the legacy reference-info format (COSE_Sign1 with text
 * `iss`/`feed` headers and a JSON payload) as the ACI relying-party scheme asks: the issuer
 * and feed are a pinned pair, the x5chain resolves to that did:x509 at the signing time, the
 * leaf signed the message, the endorsed launch measurement is the report's, and the UVM SVN
 * is at least the minimum. The first failed check is thrown.
 */
export interface UvmEndorsementOptions {
  trusted: UvmIssuer[];
  /** MEASUREMENT of the verified report. */
  measurement: Buffer;
  minimumSvn: number;
  /** Used only when the endorsement carries no signing time. */
  now: Date;
}

export interface VerifiedUvmEndorsement {
  issuer: UvmIssuer;
  svn: number;
  /** `x-ms-sevsnpvm-uvm-endorsement`: the payload's fields as MAA repeats them. */
  claim: Record<string, string | number>;
}

const HEADER = { alg: 1, contentType: 3, cwtClaims: 15, x5chain: 33 } as const;
const JSON_CONTENT_TYPE = 'application/json';
const CLAIM_SVN = 'x-ms-sevsnpvm-guestsvn';
const CLAIM_SVN_INT = 'x-ms-sevsnpvm-guestsvn-int';
const CLAIM_MEASUREMENT = 'x-ms-sevsnpvm-launchmeasurement';
const EPOCH_TAG = 1;

/** COSE algorithms (RFC 9053, RFC 8230) a UVM signer may use, as node:crypto verify options. */
const ALGORITHMS: Record<number, { hash: string; kind: 'rsa-pss' | 'ecdsa'; saltLength?: number; curve?: string }> = {
  [-37]: { hash: 'sha256', kind: 'rsa-pss', saltLength: 32 },
  [-38]: { hash: 'sha384', kind: 'rsa-pss', saltLength: 48 },
  [-39]: { hash: 'sha512', kind: 'rsa-pss', saltLength: 64 },
  [-7]: { hash: 'sha256', kind: 'ecdsa', curve: 'prime256v1' },
  [-35]: { hash: 'sha384', kind: 'ecdsa', curve: 'secp384r1' },
  [-36]: { hash: 'sha512', kind: 'ecdsa', curve: 'secp521r1' },
};

function refuse(Refusal: UvmEndorsementRefusal, message: string, details?: Record<string, unknown>): never {
  throw new Refusal(message, details);
}

function textHeader(message: CoseSign1, label: string): string | undefined {
  const value = message.protectedHeader.get(label);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') refuse(UvmEndorsementMalformed, `the protected header "${label}" is not text`);
  return value;
}

function signingTime(message: CoseSign1, now: Date): Date {
  const value: CborValue = message.protectedHeader.get('signingtime');
  if (value === undefined) return now;
  const seconds = isCborTagged(value) && value.tag === EPOCH_TAG ? value.value : value;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) refuse(UvmEndorsementMalformed, 'signingtime is not an epoch time');
  return new Date(seconds * 1000);
}

function chainEntries(message: CoseSign1): Buffer[] {
  const value = message.protectedHeader.get(HEADER.x5chain);
  if (Buffer.isBuffer(value)) return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => Buffer.isBuffer(v))) return value as Buffer[];
  return refuse(UvmEndorsementMalformed, 'the protected header has no x5chain (33) of certificates');
}

function signatureValid(message: CoseSign1, alg: number, key: KeyObject): boolean {
  const spec = ALGORITHMS[alg];
  if (!spec) return refuse(UvmEndorsementUnsupported, `COSE algorithm ${alg} is not accepted`, { alg });
  const data = sign1ToBeSigned(message.protectedBytes, message.payload);
  if (spec.kind === 'rsa-pss') {
    if (key.asymmetricKeyType !== 'rsa') return false;
    return verify(spec.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.saltLength }, message.signature);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== spec.curve) return false;
  return verify(spec.hash, data, { key, dsaEncoding: 'ieee-p1363' }, message.signature);
}

/** The payload's SVN as an integer: a decimal string (and the integer twin when both are present). */
function svnOf(payload: Record<string, unknown>): number {
  const text = payload[CLAIM_SVN];
  const int = payload[CLAIM_SVN_INT];
  if (typeof text !== 'string' || !/^[0-9]{1,9}$/.test(text)) refuse(UvmEndorsementMalformed, `${CLAIM_SVN} is not a decimal string`);
  const svn = Number(text);
  if (int !== undefined && int !== svn) refuse(UvmEndorsementMalformed, `${CLAIM_SVN_INT} disagrees with ${CLAIM_SVN}`);
  return svn;
}

export function verifyUvmEndorsement(bytes: Uint8Array, options: UvmEndorsementOptions): VerifiedUvmEndorsement {
  const message = decodeCoseSign1(bytes);
  const iss = textHeader(message, 'iss');
  const feed = textHeader(message, 'feed');
  if (iss === undefined || feed === undefined) {
    // The transparent format names its issuer in CWT claims and endorses raw bytes: not verified yet.
    if (message.protectedHeader.has(HEADER.cwtClaims)) refuse(UvmEndorsementUnsupported, 'the transparent (CWT claims) endorsement format is not supported');
    refuse(UvmEndorsementMalformed, 'the protected header lacks iss or feed');
  }
  if (message.protectedHeader.get(HEADER.contentType) !== JSON_CONTENT_TYPE) refuse(UvmEndorsementUnsupported, `the payload content type is not ${JSON_CONTENT_TYPE}`);
  const alg = message.protectedHeader.get(HEADER.alg);
  if (typeof alg !== 'number') refuse(UvmEndorsementMalformed, 'the protected header has no integer alg (1)');

  // Resolving the DID the message names would prove only self-consistency: pin it.
  const issuer = options.trusted.find((t) => t.did.text === iss && t.feed === feed);
  if (!issuer) refuse(UvmEndorsementUntrustedIssuer, 'the endorsement issuer and feed are not a trusted pair', { iss: iss.slice(0, 200), feed: feed.slice(0, 200) });

  const chain = parseChain(chainEntries(message));
  checkChainAt(chain, signingTime(message, options.now));
  if (!chainMatchesDid(chain, issuer.did)) refuse(UvmEndorsementChainInvalid, 'the x5chain does not resolve to the issuer did:x509 (CA fingerprint or leaf EKU)');
  if (!signatureValid(message, alg, chain[0]!.publicKey)) refuse(UvmEndorsementSignatureInvalid, 'the COSE signature does not verify with the x5chain leaf');

  let payload: unknown;
  try {
    payload = JSON.parse(message.payload.toString('utf8'));
  } catch {
    refuse(UvmEndorsementMalformed, 'the payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) refuse(UvmEndorsementMalformed, 'the payload is not a JSON object');
  const fields = payload as Record<string, unknown>;
  const measurement = fields[CLAIM_MEASUREMENT];
  if (typeof measurement !== 'string' || !/^[0-9a-f]{96}$/.test(measurement)) refuse(UvmEndorsementMalformed, `${CLAIM_MEASUREMENT} is not 96 lowercase hex digits`);
  if (measurement !== options.measurement.toString('hex')) {
    refuse(UvmEndorsementMeasurementMismatch, 'the endorsed launch measurement is not the report MEASUREMENT', {
      expected: options.measurement.toString('hex'),
      actual: measurement,
    });
  }
  const svn = svnOf(fields);
  if (svn < options.minimumSvn) refuse(UvmEndorsementSvnTooLow, `the UVM SVN ${svn} is below the minimum ${options.minimumSvn}`, { svn, minimum: options.minimumSvn });

  const claim: Record<string, string | number> = { [CLAIM_SVN]: fields[CLAIM_SVN] as string, [CLAIM_MEASUREMENT]: measurement };
  if (fields[CLAIM_SVN_INT] !== undefined) claim[CLAIM_SVN_INT] = svn;
  return { issuer, svn, claim };
}
