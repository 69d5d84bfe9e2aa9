import { join } from 'node:path';
import { MemoryChallengeStore, type ChallengeOptions, type ChallengeStore } from '../challenges';
import { FileReferenceValueStore, type ReferenceValueStore } from '../reference-values';
import { PostgresChallengeStore } from './postgres-challenges';
import { VerifierDatabase } from './postgres-pool';
import { PostgresReferenceValueStore } from './postgres-references';

export { checkStoreUrl, redactStoreUrl } from './postgres-pool';
export { REFERENCE_REFRESH_MS } from './postgres-references';

/** Where the verifier keeps its challenge nonces and reference values. */
export interface VerifierStores {
  challenges: ChallengeStore;
  references: ReferenceValueStore;
  close(): Promise<void>;
}

export interface VerifierStoreOptions {
  /** The verifier's own directory in the state directory (`<state>/verifier`). */
  dir: string;
  /** A postgres:// URL: both live in that database, shared with other replicas; absent: memory and a file. */
  url?: string;
  challenges: ChallengeOptions;
  now?: () => number;
}

/** The nonces in memory and the reference values in `<dir>/reference-values.json`, or both in PostgreSQL. */
export async function openVerifierStores(options: VerifierStoreOptions): Promise<VerifierStores> {
  if (options.url === undefined) {
    return {
      challenges: new MemoryChallengeStore(options.challenges),
      references: referenceFile(options.dir, options.now),
      close: async () => undefined,
    };
  }
  const db = await VerifierDatabase.open(options.url);
  return {
    challenges: new PostgresChallengeStore(db, options.challenges),
    references: new PostgresReferenceValueStore(db, options.now ? { now: options.now } : {}),
    close: () => db.close(),
  };
}

/** The reference values of a verifier without a shared store. */
function referenceFile(dir: string, now?: () => number): FileReferenceValueStore {
  return new FileReferenceValueStore(join(dir, 'reference-values.json'), now ? { now } : {});
}
