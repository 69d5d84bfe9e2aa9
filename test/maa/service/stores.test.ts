import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { NonceExpired, NonceReplayed, NonceUnknown, VerifierStoreUnavailable } from '../../../src/errors';
import { MemoryChallengeStore, type ChallengeOptions, type ChallengeStore } from '../../../src/maa/service/challenges';
import { FileReferenceValueStore, type ReferenceValueStore } from '../../../src/maa/service/reference-values';
import { PostgresChallengeStore } from '../../../src/maa/service/store/postgres-challenges';
import { VerifierDatabase } from '../../../src/maa/service/store/postgres-pool';
import { PostgresReferenceValueStore, REFERENCE_REFRESH_MS } from '../../../src/maa/service/store/postgres-references';
import { redactStoreUrl } from '../../../src/maa/service/store';
import { describePostgres, POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../../lib/postgres-cluster';

/**
 * The verifier's two stores of challenge nonces and reference values, one table of behaviour run
 * against each: this process's memory and a file, and a real PostgreSQL cluster. Then what only a
 * shared store promises: replicas on one database spend a nonce once, see each other's reference
 * values within REFERENCE_REFRESH_MS, and answer 503 (not a guess) while the database is down.
 */
const TTL_MS = 60_000;
const MEASUREMENT = 'ab'.repeat(48);
const OTHER = 'cd'.repeat(48);
const HOST_DATA = 'ef'.repeat(32);

interface Stores {
  challenges: ChallengeStore;
  references: ReferenceValueStore;
}
/** Opens a fresh pair of stores on `clock` (ms since the epoch, advanced by the tests). */
type Open = (clock: { now: number }, options?: Partial<ChallengeOptions>) => Promise<Stores>;

/** One cluster for the file, started by the first suite that needs it. */
let cluster: Promise<PostgresCluster> | undefined;
const theCluster = () => (cluster ??= startPostgresCluster());
const databases: VerifierDatabase[] = [];
let databaseCount = 0;

afterAll(async () => {
  await Promise.all(databases.map((db) => db.close().catch(() => undefined)));
  await (await cluster)?.remove();
});

/** A new database per store, so each case starts empty. */
async function openPostgres(clock: { now: number }, options: Partial<ChallengeOptions> = {}, url?: string): Promise<Stores & { db: VerifierDatabase; url: string }> {
  const at = url ?? (await (await theCluster()).database(`verifier_stores_${++databaseCount}`));
  const db = await VerifierDatabase.open(at);
  databases.push(db);
  const now = () => clock.now;
  return {
    db,
    url: at,
    challenges: new PostgresChallengeStore(db, { ttlMs: TTL_MS, maxOutstanding: 100_000, now, ...options }),
    references: new PostgresReferenceValueStore(db, { now }),
  };
}

const openMemory: Open = async (clock, options = {}) => ({
  challenges: new MemoryChallengeStore({ ttlMs: TTL_MS, maxOutstanding: 100_000, now: () => clock.now, ...options }),
  references: new FileReferenceValueStore(join(mkdtempSync(join(tmpdir(), 'skr-verifier-refs-')), 'reference-values.json'), { now: () => clock.now }),
});

const implementations: [string, (name: string, body: () => void) => void, Open][] = [
  ['in memory and a file', describe, openMemory],
  ['in PostgreSQL', describePostgres, (clock, options) => openPostgres(clock, options)],
];

for (const [name, describeWith, open] of implementations) {
  describeWith(`the verifier's stores ${name}`, () => {
    let clock: { now: number };
    let stores: Stores;
    beforeEach(async () => {
      clock = { now: Date.parse('2026-01-01T00:00:00Z') };
      stores = await open(clock);
    }, POSTGRES_SETUP_TIMEOUT_MS);

    test('a nonce is spent once: the second use is a replay', async () => {
      const { nonce, expiresAt } = await stores.challenges.issue();
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(expiresAt.getTime()).toBe(clock.now + TTL_MS);
      await stores.challenges.consume(nonce);
      await expect(stores.challenges.consume(nonce)).rejects.toBeInstanceOf(NonceReplayed);
    });

    test('a nonce never issued is unknown, whatever its shape', async () => {
      await expect(stores.challenges.consume('A'.repeat(43))).rejects.toBeInstanceOf(NonceUnknown);
      await expect(stores.challenges.consume("x' OR true --")).rejects.toBeInstanceOf(NonceUnknown);
    });

    test('a nonce is good until its expiry and expired after; a spent one stays a replay', async () => {
      const first = await stores.challenges.issue();
      const second = await stores.challenges.issue();
      clock.now += TTL_MS;
      await stores.challenges.consume(first.nonce);
      clock.now += 1;
      await expect(stores.challenges.consume(second.nonce)).rejects.toBeInstanceOf(NonceExpired);
      await expect(stores.challenges.consume(first.nonce)).rejects.toBeInstanceOf(NonceReplayed);
    });

    test('a sweep forgets nonces one TTL past their expiry, and keeps younger ones', async () => {
      const old = await stores.challenges.issue();
      clock.now += TTL_MS;
      const young = await stores.challenges.issue();
      clock.now += TTL_MS + 1;
      await stores.challenges.sweep();
      await expect(stores.challenges.consume(old.nonce)).rejects.toBeInstanceOf(NonceUnknown);
      await expect(stores.challenges.consume(young.nonce)).rejects.toBeInstanceOf(NonceExpired);
    });

    test('the store stays bounded: past maxOutstanding the oldest nonces are forgotten', async () => {
      stores = await open(clock, { maxOutstanding: 3 });
      const issued = [];
      for (let i = 0; i < 5; i++) {
        issued.push((await stores.challenges.issue()).nonce);
        clock.now += 1;
      }
      await stores.challenges.sweep();
      for (const nonce of issued.slice(0, 2)) await expect(stores.challenges.consume(nonce)).rejects.toBeInstanceOf(NonceUnknown);
      for (const nonce of issued.slice(2)) await stores.challenges.consume(nonce);
    });

    test('reference values: added in order, an existing one answered as it is, removed once', async () => {
      expect(await stores.references.list()).toEqual([]);
      const added = await stores.references.add('measurement', MEASUREMENT.toUpperCase(), 'build 41');
      expect(added).toEqual({ kind: 'measurement', value: MEASUREMENT, note: 'build 41', addedAt: new Date(clock.now).toISOString() });
      clock.now += 1000;
      await stores.references.add('host-data', HOST_DATA);
      expect(await stores.references.add('measurement', MEASUREMENT, 'again')).toEqual(added);
      expect((await stores.references.list()).map((r) => [r.kind, r.value])).toEqual([
        ['measurement', MEASUREMENT],
        ['host-data', HOST_DATA],
      ]);
      expect(await stores.references.remove('measurement', MEASUREMENT)).toBe(true);
      expect(await stores.references.remove('measurement', MEASUREMENT)).toBe(false);
      expect(await stores.references.list()).toEqual([expect.objectContaining({ kind: 'host-data', value: HOST_DATA })]);
    });

    test('reference values: a long note is cut to 200 characters; a bad kind or value is refused', async () => {
      expect((await stores.references.add('measurement', OTHER, 'n'.repeat(500))).note).toBe('n'.repeat(200));
      await expect(stores.references.add('colour', OTHER)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(stores.references.add('host-data', MEASUREMENT)).rejects.toMatchObject({ code: 'invalid_argument' });
      await expect(stores.references.remove('measurement', 'zz')).rejects.toMatchObject({ code: 'invalid_argument' });
      expect(await stores.references.list()).toHaveLength(1);
    });
  });
}

describePostgres('replicas on one PostgreSQL database', () => {
  beforeAll(() => theCluster(), POSTGRES_SETUP_TIMEOUT_MS);

  test('a nonce issued by one replica is spent at another, and then refused as replayed at either', async () => {
    const clock = { now: Date.now() };
    const a = await openPostgres(clock);
    const b = await openPostgres(clock, {}, a.url);
    const { nonce } = await a.challenges.issue();
    await b.challenges.consume(nonce);
    await expect(a.challenges.consume(nonce)).rejects.toBeInstanceOf(NonceReplayed);
    await expect(b.challenges.consume(nonce)).rejects.toBeInstanceOf(NonceReplayed);
  });

  test('of many concurrent spends of one nonce across replicas exactly one succeeds', async () => {
    const clock = { now: Date.now() };
    const a = await openPostgres(clock);
    const b = await openPostgres(clock, {}, a.url);
    for (let round = 0; round < 5; round++) {
      const { nonce } = await a.challenges.issue();
      const outcomes = await Promise.allSettled([a, b, a, b, a, b, a, b].map((replica) => replica.challenges.consume(nonce)));
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(NonceReplayed);
    }
  });

  test(`a reference value changed at one replica applies at another within ${REFERENCE_REFRESH_MS} ms`, async () => {
    const clock = { now: Date.now() };
    const a = await openPostgres(clock);
    const b = await openPostgres(clock, {}, a.url);
    expect(await b.references.list()).toEqual([]);
    await a.references.add('measurement', MEASUREMENT);
    clock.now += REFERENCE_REFRESH_MS;
    expect(await b.references.list()).toEqual([expect.objectContaining({ value: MEASUREMENT })]);
    await a.references.remove('measurement', MEASUREMENT);
    clock.now += REFERENCE_REFRESH_MS;
    expect(await b.references.list()).toEqual([]);
    // The replica that made a change sees it at once.
    await b.references.add('host-data', HOST_DATA);
    expect(await b.references.list()).toEqual([expect.objectContaining({ value: HOST_DATA })]);
  });

  test('replicas starting together migrate the schema once', async () => {
    const url = await (await theCluster()).database('verifier_migrate_once');
    const opened = await Promise.all([1, 2, 3, 4].map(() => VerifierDatabase.open(url)));
    databases.push(...opened);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      expect((await client.query('SELECT version FROM verifier_schema_migrations ORDER BY version')).rows).toEqual([{ version: 1 }, { version: 2 }]);
      expect((await client.query('SELECT version FROM verifier_reference_version')).rows).toEqual([{ version: '0' }]);
    } finally {
      await client.end();
    }
  });

  test('while the database is down every use fails closed with verifier_store_unavailable, and works again after', async () => {
    const clock = { now: Date.now() };
    const a = await openPostgres(clock);
    const { nonce } = await a.challenges.issue();
    await (await theCluster()).stop();
    try {
      clock.now += REFERENCE_REFRESH_MS;
      for (const use of [() => a.challenges.issue(), () => a.challenges.consume(nonce), () => a.references.list(), () => a.references.add('measurement', MEASUREMENT)]) {
        const error = await use().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(VerifierStoreUnavailable);
        expect(error).toMatchObject({ code: 'verifier_store_unavailable', status: 503 });
      }
    } finally {
      await (await theCluster()).start();
    }
    await a.challenges.consume(nonce);
    expect(await a.references.list()).toEqual([]);
  });

  test('a transaction open when the database stops fails closed, the process carries on, and nothing of it was committed', async () => {
    const { db } = await openPostgres({ now: Date.now() });
    await db.query({ text: 'CREATE TABLE held (n INTEGER)' });
    let inside!: () => void;
    const begun = new Promise<void>((resolve) => (inside = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const held = db.transaction(async (client) => {
      await client.query('INSERT INTO held (n) VALUES (1)');
      inside();
      // The server ends this session while none of its statements waits for an answer: the
      // client's 'error' event, unheard, would end the process (and this test with it).
      await resumed;
      await client.query('INSERT INTO held (n) VALUES (2)');
    });
    await begun;
    await (await theCluster()).stop();
    try {
      resume();
      await expect(held).rejects.toMatchObject({ code: 'verifier_store_unavailable', status: 503 });
    } finally {
      await (await theCluster()).start();
    }
    expect(await db.query({ text: 'SELECT count(*)::int AS n FROM held' })).toEqual([{ n: 0 }]);
  });
});

describe('a store URL with a password', () => {
  const url = 'postgres://verifier:s3cret-pw@127.0.0.1:1/skr';

  test('is redacted for output', () => {
    expect(redactStoreUrl(url)).toBe('postgres://verifier:***@127.0.0.1:1/skr');
    expect(redactStoreUrl('postgres://verifier@db.example:5432/skr')).toBe('postgres://verifier@db.example:5432/skr');
  });

  test('never appears in the error when the database cannot be reached', async () => {
    const error = await VerifierDatabase.open(url).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VerifierStoreUnavailable);
    expect(`${(error as Error).message} ${JSON.stringify(error)}`).not.toMatch(/s3cret|verifier:/);
  });

  test('a URL that is not postgres:// is refused without echoing it', async () => {
    for (const bad of ['mysql://u:s3cret-pw@h/db', 's3cret-pw', 'postgres://:s3cret-pw@/db']) {
      const error = await VerifierDatabase.open(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'invalid_argument' });
      expect(JSON.stringify(error) + (error as Error).message).not.toMatch(/s3cret/);
    }
  });
});
