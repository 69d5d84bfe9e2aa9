import { KeyClient } from '@azure/keyvault-keys';
import { runLoad, type LoadResult } from './load';
import { officerCredential, type StackUrls } from './services';

/**
 * Warm releases of keys never released before: the sidecar's TEE key and attestation token are
 * reused, but no cache can answer — the KMS checks the policy, wraps the key to the TEE key and
 * signs the JWS; the sidecar verifies the JWS and unwraps. The keys are made up front, as the
 * officer, with the demo key's release policy; the first `warmUp` of them settle the JIT on
 * this path and are not counted.
 */
const CREATORS = 8;

/** Creates `count` keys named `prefix-0…`, as the officer, with the demo key's release policy. */
async function releasableKeys(urls: StackUrls, prefix: string, count: number): Promise<string[]> {
  const client = new KeyClient(urls.kms, await officerCredential(urls.officer), { disableChallengeResourceVerification: true, tlsOptions: { ca: urls.caPem } });
  const { releasePolicy } = (await client.getKey('demo')).properties;
  if (!releasePolicy?.encodedPolicy) throw new Error('the demo key has no release policy');
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: CREATORS }, async () => {
      while (next < names.length) {
        await client.createOctKey(names[next++]!, { hsm: true, keySize: 256, exportable: true, releasePolicy: { encodedPolicy: releasePolicy.encodedPolicy } });
      }
    }),
  );
  return names;
}

export async function distinctKeyReleases(urls: StackUrls, options: { releases: number; warmUp: number }): Promise<LoadResult> {
  const names = await releasableKeys(urls, 'distinct', options.warmUp + options.releases);
  const url = `${urls.sidecar}/key/release`;
  const body = (offset: number) => (i: number) => JSON.stringify({ kid: names[offset + i] });
  await runLoad({ url, body: body(0), concurrency: 1, requests: options.warmUp, maxDurationMs: 20_000 });
  return runLoad({ url, body: body(options.warmUp), concurrency: 1, requests: options.releases, maxDurationMs: 30_000 });
}

/**
 * Warm releases at `concurrency` callers over as many keys, asked in turn: requests in flight
 * together name different keys, so each makes its own call to the KMS (none joins another's,
 * SharedNextCall) — the sidecar's and the KMS's cost per call, where the demo key's figure at
 * 32 callers is the cost of 32 callers asking for one key.
 */
export async function ownKeyReleases(urls: StackUrls, options: { concurrency: number; requests: number; maxDurationMs: number }): Promise<LoadResult> {
  const names = await releasableKeys(urls, 'own', options.concurrency);
  const url = `${urls.sidecar}/key/release`;
  const body = (i: number) => JSON.stringify({ kid: names[i % names.length] });
  await runLoad({ url, body, concurrency: options.concurrency, requests: 20 * options.concurrency, maxDurationMs: 10_000 });
  return runLoad({ url, body, ...options });
}
