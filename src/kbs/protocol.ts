import { InvalidRequest, KbsVersionUnsupported } from '../errors';
import { parseTeePubkey, type TeePubkey } from './tee-pubkey';

/**
 * Trustee's KBS protocol 0.4.0 (RCAR) as its KBS serves it and guest-components' client sends
 * it (docs/reference: trustee-kbs.md §2): the request and response bodies, checked field by
 * field. Only the exact version is accepted, as trustee does.
 */
export const KBS_PROTOCOL_VERSION = '0.4.0';
export const SESSION_COOKIE = 'kbs-session-id';

/** The TEEs a /auth request may name; only `snp` has evidence this KBS appraises. */
export const TEES = ['az-snp-vtpm', 'az-tdx-vtpm', 'nvidia', 'sgx', 'snp', 'tdx', 'cca', 'csv', 'se', 'hygondcu', 'dpu', 'tpm', 'sample', 'sampledevice'] as const;
export type Tee = (typeof TEES)[number];

/** `POST /kbs/v0/auth` body. */
export interface AuthRequest {
  version: string;
  tee: Tee;
  extraParams: unknown;
}

/** `POST /kbs/v0/auth` answer: the nonce is base64 (standard, padded) of 32 random bytes. */
export interface Challenge {
  nonce: string;
  'extra-params': string;
}

export interface RuntimeData {
  nonce: string;
  teePubkey: TeePubkey;
}

/** `POST /kbs/v0/attest` body (0.4.0: tee-pubkey under runtime-data, composite tee-evidence). */
export interface AttestationRequest {
  initData: { format: 'toml'; body: string } | null;
  runtimeData: RuntimeData;
  primaryEvidence: unknown;
  /** The exact string sent: it is hashed into REPORT_DATA as it is. */
  additionalEvidence: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function field(body: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(body, name) ? body[name] : undefined;
}

export function parseAuthRequest(body: unknown): AuthRequest {
  if (!isObject(body)) throw new InvalidRequest('the auth request is a JSON object');
  const version = field(body, 'version');
  if (version !== KBS_PROTOCOL_VERSION) throw new KbsVersionUnsupported(KBS_PROTOCOL_VERSION, version);
  const tee = field(body, 'tee');
  if (typeof tee !== 'string' || !(TEES as readonly string[]).includes(tee)) throw new InvalidRequest('tee is not a known TEE name', { field: 'tee' });
  return { version, tee: tee as Tee, extraParams: field(body, 'extra-params') ?? null };
}

export function parseAttestationRequest(body: unknown): AttestationRequest {
  if (!isObject(body)) throw new InvalidRequest('the attestation request is a JSON object');
  const initData = field(body, 'init-data') ?? null;
  if (initData !== null) {
    if (!isObject(initData) || field(initData, 'format') !== 'toml' || typeof field(initData, 'body') !== 'string') {
      throw new InvalidRequest('init-data is null or {"format":"toml","body":"<TOML>"}', { field: 'init-data' });
    }
  }
  const runtime = field(body, 'runtime-data');
  if (!isObject(runtime)) throw new InvalidRequest('runtime-data is an object {nonce, tee-pubkey}', { field: 'runtime-data' });
  const nonce = field(runtime, 'nonce');
  if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > 512) throw new InvalidRequest('runtime-data.nonce is the challenge nonce', { field: 'runtime-data.nonce' });
  const teePubkey = parseTeePubkey(field(runtime, 'tee-pubkey'));
  const evidence = field(body, 'tee-evidence');
  if (!isObject(evidence)) throw new InvalidRequest('tee-evidence is {primary_evidence, additional_evidence}', { field: 'tee-evidence' });
  const additional = field(evidence, 'additional_evidence') ?? '';
  if (typeof additional !== 'string') throw new InvalidRequest('tee-evidence.additional_evidence is a string', { field: 'tee-evidence.additional_evidence' });
  if (additional !== '') throw new InvalidRequest('additional device evidence is not appraised by this KBS; send ""', { field: 'tee-evidence.additional_evidence' });
  return {
    initData: initData as AttestationRequest['initData'],
    runtimeData: { nonce, teePubkey },
    primaryEvidence: field(evidence, 'primary_evidence'),
    additionalEvidence: additional,
  };
}

/** The attestation request as the client sends it (the inverse of parseAttestationRequest). */
export function attestationBody(runtime: RuntimeData, primaryEvidence: unknown): Record<string, unknown> {
  return {
    'init-data': null,
    'runtime-data': { nonce: runtime.nonce, 'tee-pubkey': runtime.teePubkey },
    'tee-evidence': { primary_evidence: primaryEvidence, additional_evidence: '' },
  };
}
