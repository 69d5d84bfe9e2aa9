import { constants, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Compact JWS with RS256 or PS256, signed and verified synchronously. An RSA public operation
 * takes tens of microseconds and a private one a fraction of a millisecond; jose runs both on
 * the thread pool, and the hop there and back costs more than the operation on a release's
 * hot path. Callers choose the key and check the header; this module only frames and signs.
 */
export type JwsAlgorithm = 'RS256' | 'PS256';

function options(alg: JwsAlgorithm, key: KeyObject) {
  // PS256: MGF1 with SHA-256 and a salt as long as the hash (RFC 7518 §3.5).
  return alg === 'PS256' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : { key, padding: constants.RSA_PKCS1_PADDING };
}

export function signCompactJws(header: Record<string, unknown> & { alg: JwsAlgorithm }, payload: Uint8Array, key: KeyObject): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), options(header.alg, key)).toString('base64url')}`;
}

/** The payload bytes when the signature verifies under `key` with `alg`; undefined otherwise. */
export function verifyCompactJws(jws: string, alg: JwsAlgorithm, key: KeyObject): Buffer | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), options(alg, key), Buffer.from(parts[2]!, 'base64url'));
    return ok ? Buffer.from(parts[1]!, 'base64url') : undefined;
  } catch {
    // A key that cannot do this algorithm verifies nothing.
    return undefined;
  }
}
