import { EvidenceMalformed } from '../../errors';
import { splitPem, toDer } from '../x509/vek';
import type { HttpGetter } from './getter';
import type { VekSource } from './source';

/** Azure's THIM answer (and the UVM's host-amd-cert-base64): the host's VCEK at its current TCB. */
export interface ThimCertification {
  /** The VCEK, PEM. */
  vcekCert: string;
  /** REPORTED_TCB the VCEK is for: 16 hex digits of the little-endian u64 read as a number. */
  tcbm: string;
  /** ASK then ARK, PEM. */
  certificateChain: string;
  /** Seconds the answer may be cached, as THIM sends it (a string). */
  cacheControl?: string;
}

export const DEFAULT_THIM_URL = 'http://169.254.169.254/metadata/THIM/amd/certification';

export interface ThimOptions {
  /** Default: Azure's link-local THIM endpoint. */
  url?: string;
}

function stringField(json: Record<string, unknown>, name: string): string {
  const value = json[name];
  if (typeof value !== 'string' || value.length === 0) throw new EvidenceMalformed(`THIM certification lacks ${name}`);
  return value;
}

/** Parses THIM JSON (text or bytes) strictly enough that a broken host answer fails here, not in verify. */
export function parseThimCertification(input: string | Uint8Array): ThimCertification {
  let json: unknown;
  try {
    json = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
  } catch {
    throw new EvidenceMalformed('THIM certification is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new EvidenceMalformed('THIM certification is not a JSON object');
  const obj = json as Record<string, unknown>;
  const vcekCert = stringField(obj, 'vcekCert');
  const certificateChain = stringField(obj, 'certificateChain');
  const tcbm = stringField(obj, 'tcbm');
  if (!/^[0-9a-fA-F]{16}$/.test(tcbm)) throw new EvidenceMalformed('THIM tcbm is not 16 hex digits');
  toDer(vcekCert);
  if (splitPem(certificateChain).length === 0) throw new EvidenceMalformed('THIM certificateChain holds no PEM certificate');
  const cacheControl = obj.cacheControl;
  return {
    vcekCert,
    tcbm: tcbm.toLowerCase(),
    certificateChain,
    ...(typeof cacheControl === 'string' || typeof cacheControl === 'number' ? { cacheControl: String(cacheControl) } : {}),
  };
}

/** GETs the THIM endpoint (Azure IMDS wants `Metadata: true`). */
export async function fetchThimCertification(options: ThimOptions, http: HttpGetter): Promise<ThimCertification> {
  const body = await http.get(options.url ?? DEFAULT_THIM_URL, { Metadata: 'true', Accept: 'application/json' });
  return parseThimCertification(body);
}

export function thimBundle(thim: ThimCertification): { vek: Buffer; chain: Buffer[] } {
  return { vek: toDer(thim.vcekCert), chain: splitPem(thim.certificateChain) };
}

/** THIM serves the host's current VCEK only; the fetcher checks it matches the request. */
export function thimSource(options: ThimOptions, http: HttpGetter): VekSource {
  return {
    name: 'thim',
    async get() {
      return thimBundle(await fetchThimCertification(options, http));
    },
  };
}
