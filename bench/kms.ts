import { generateKeyPairSync } from 'node:crypto';
import { KeyClient } from '@azure/keyvault-keys';
import { officerCredential, type StackUrls } from './services';

/**
 * KMS throughput through the real SDK over HTTPS, from the benchmark's process to `skr kms`: releases of the demo key (oct-HSM 256, policy evaluated, wrapped to a TEE key,
 * JWS signed) with an attestation token from the stack's sidecar, and oct-HSM 256 creates.
 */
export interface KmsFigures {
  releases_per_s: Record<number, number>;
  creates_per_s: Record<number, number>;
}

async function during(ms: number, callers: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  let n = 0;
  const end = Date.now() + ms;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (Date.now() < end) {
        await task(n++);
        done++;
      }
    }),
  );
  return done / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function json(url: string, init: RequestInit): Promise<Record<string, unknown>> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** An attestation token whose runtime data carries a fresh RSA key, as a TEE would present it. */
async function attestationToken(urls: StackUrls): Promise<string> {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench', key_ops: ['encrypt'] };
  const runtime = Buffer.from(JSON.stringify({ keys: [jwk] })).toString('base64');
  const body = await json(`${urls.sidecar}/attest/maa`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runtime_data: runtime }) });
  return String(body.token);
}

export async function benchKms(urls: StackUrls, options: { pointMs: number; callers: number[] }): Promise<KmsFigures> {
  const client = new KeyClient(urls.kms, await officerCredential(urls.officer), { disableChallengeResourceVerification: true, tlsOptions: { ca: urls.caPem } });
  const token = await attestationToken(urls);
  const release = async () => {
    const { value } = await client.releaseKey('demo', token);
    if (!value) throw new Error('an empty release');
  };
  // One call alone first: the SDK's challenge policy loses a body when the first calls race.
  await release();
  await during(1_000, 8, release);
  const figures: KmsFigures = { releases_per_s: {}, creates_per_s: {} };
  for (const callers of options.callers) figures.releases_per_s[callers] = Math.round(await during(options.pointMs, callers, release));
  for (const callers of options.callers) {
    figures.creates_per_s[callers] = Math.round(await during(options.pointMs, callers, (i) => client.createOctKey(`bench-${callers}-${i}`, { hsm: true, keySize: 256 })));
  }
  return figures;
}
