import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, sign } from 'node:crypto';

/**
 * What a release of a key not released before cannot go below: the KMS signs the release JWS
 * (RS256 with its RSA-2048 key) and the sidecar opens the wrapped KEK (RSA-OAEP with its
 * RSA-2048 TEE key), one after the other. Medians of each operation, here, in this run.
 */
const SAMPLES = 200;

function median(run: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[SAMPLES >> 1]!;
}

export function rsaPrivateFloorMs(): number {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const payload = Buffer.alloc(1_500, 1);
  const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.alloc(32, 2));
  const signMs = median(() => sign('sha256', payload, privateKey));
  const decryptMs = median(() => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, wrapped));
  return signMs + decryptMs;
}
