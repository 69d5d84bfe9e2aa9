import { constants, sign, verify, type KeyObject } from 'node:crypto';
import { InvalidArgument } from '../errors';

/**
 * Compact JWS with RS256 or PS256. Verifying (an RSA public operation, far cheaper than a
 * private one) is synchronous: a hop to the thread pool would cost more than it saves.
 * Signing (an RSA private operation) always runs on the thread pool, so a loaded service
 * signs on every core while its event loop goes on serving.
 * Callers choose the key and check the header; this module only frames, signs and verifies.
 */
export type JwsAlgorithm = 'RS256' | 'PS256';

function options(alg: JwsAlgorithm, key: KeyObject) {
  // PS256: MGF1 with SHA-256 and a salt as long as the hash (RFC 7518 §3.5).
  return alg === 'PS256' ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : { key, padding: constants.RSA_PKCS1_PADDING };
}

/** Signs payloads under one protected header, encoded once (with an x5c chain it is kilobytes). */
export class CompactJwsSigner {
  private readonly encodedHeader: string;
  private readonly signOptions;

  constructor(header: Record<string, unknown> & { alg: JwsAlgorithm }, key: KeyObject) {
    // Node signs with whatever key it is given and ignores the RSA padding for others: an EC key
    // would yield an ECDSA signature under an RS256 or PS256 header.
    if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') throw new InvalidArgument(`${header.alg} signs with an RSA private key`, { field: 'key' });
    this.encodedHeader = Buffer.from(JSON.stringify(header)).toString('base64url');
    this.signOptions = options(header.alg, key);
  }

  sign(payload: Uint8Array): Promise<string> {
    const input = `${this.encodedHeader}.${Buffer.from(payload).toString('base64url')}`;
    const signed = (signature: Buffer) => `${input}.${signature.toString('base64url')}`;
    return new Promise((resolve, reject) => {
      sign('sha256', Buffer.from(input), this.signOptions, (error, signature) => (error ? reject(error) : resolve(signed(signature))));
    });
  }
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
