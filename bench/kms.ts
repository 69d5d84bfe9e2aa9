import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken } from '@azure/identity';
import { KeyClient } from '@azure/keyvault-keys';
import { startIdentity } from '../src/identity';
import { startKms } from '../src/kms';

/**
 * KMS throughput through the real SDK over HTTPS, in one process: key creates per second (oct,
 * EC P-256, RSA-2048 — generation dominates RSA) and gets per second, with 1 and 8 callers.
 * Run it with `npm run bench` (compiled to dist-bench/) or from a test via benchKms().
 */
export interface KmsBenchOptions {
  /** How long each measured point runs. */
  pointMs: number;
  callers: number[];
}

export interface KmsBenchFigures {
  creates_per_s: Record<string, Record<number, number>>;
  gets_per_s: Record<number, number>;
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

export async function benchKms(options: KmsBenchOptions = { pointMs: 3_000, callers: [1, 8] }): Promise<KmsBenchFigures> {
  const stateDir = await mkdtemp(join(tmpdir(), 'skr-kms-bench-'));
  const identity = await startIdentity({ stateDir });
  const kms = await startKms({
    stateDir,
    trustedIssuers: [identity.issuer],
    roleAssignments: [{ principal: identity.defaultPrincipal.objectId, role: 'crypto-officer' }],
  });
  try {
    const response = await fetch(`${identity.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://vault.azure.net`, { headers: { Metadata: 'true' } });
    const { access_token: token } = (await response.json()) as { access_token: string };
    const credential = { getToken: async (): Promise<AccessToken> => ({ token, expiresOnTimestamp: Date.now() + 3_000_000 }) };
    const client = new KeyClient(kms.url, credential, { disableChallengeResourceVerification: true, tlsOptions: { ca: kms.caPem } });
    await client.createOctKey('bench-warm');

    const figures: KmsBenchFigures = { creates_per_s: {}, gets_per_s: {} };
    const kinds: [string, (name: string) => Promise<unknown>][] = [
      ['oct-256', (name) => client.createOctKey(name)],
      ['EC-P256', (name) => client.createEcKey(name)],
      ['RSA-2048', (name) => client.createRsaKey(name, { keySize: 2048 })],
    ];
    for (const [kind, create] of kinds) {
      figures.creates_per_s[kind] = {};
      for (const callers of options.callers) {
        figures.creates_per_s[kind]![callers] = Math.round(await during(options.pointMs, callers, (i) => create(`bench-${kind}-${callers}-${i}`)));
      }
    }
    for (const callers of options.callers) {
      figures.gets_per_s[callers] = Math.round(await during(options.pointMs, callers, () => client.getKey('bench-warm')));
    }
    return figures;
  } finally {
    await kms.close();
    await identity.close();
    await rm(stateDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchKms().then(
    (figures) => process.stdout.write(`${JSON.stringify({ kms: figures }, null, 2)}\n`),
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exitCode = 1;
    },
  );
}
