import { generateKeyPairSync, randomBytes } from 'node:crypto';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { kmsAudit } from '../src/cli/kms';
import { kmsPaths, startKms, type RunningKms } from '../src/kms';
import { GENESIS_HASH, linkHash, type ChainedFields } from '../src/kms/audit/chain';
import { openDatabase } from '../src/kms/store/database';
import { AUDIT_MIGRATIONS, KEY_STORE_MIGRATIONS } from '../src/kms/store/migrations';
import { PostgresDatabase } from '../src/kms/store/postgres/database';
import type { VersionRow } from '../src/kms/store/rows';
import { startTestIssuer, tempDir, type TestIssuer } from '../test/kms/harness';
import { raw } from '../test/kms/raw';
import { postgresProblem, startPostgresCluster } from '../test/lib/postgres-server';

/**
 * `scale`: the KMS with a large store against the same KMS with an empty one, on SQLite and on
 * PostgreSQL. The store is seeded with SEED_KEYS keys (one version each) and SEED_AUDIT chained
 * audit entries straight into the store's own tables, in one transaction (the sealed material
 * of one real version reused: seeded keys are never released, only counted and looked up).
 * Releases are of keys not released before, created through the API, so no cache answers.
 */
export interface ScaleFigures {
  keys: number;
  audit_entries: number;
  release_p50_ms_empty: number;
  release_p50_ms_loaded: number;
  audit_query_p50_ms: number;
  start_ms: number;
}

const SEED_KEYS = 100_000;
const SEED_AUDIT = 1_000_000;
const RELEASES = 200;
const AUDIT_QUERIES = 40;
const API = '?api-version=7.4';
const OFFICER = 'bench-officer';

const p50 = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
const round = (n: number) => Number(n.toFixed(3));

interface Bench {
  stateDir: string;
  store: string | undefined;
  issuer: TestIssuer;
  token: string;
  target: string;
  agent: https.Agent;
}

function start(bench: Bench): Promise<RunningKms> {
  return startKms({
    stateDir: bench.stateDir,
    ...(bench.store ? { store: bench.store } : {}),
    trustedIssuers: [bench.issuer.url],
    roleAssignments: [
      { principal: OFFICER, role: 'crypto-officer' },
      { principal: OFFICER, role: 'crypto-service-release-user' },
    ],
  });
}

/** Creates `RELEASES` releasable keys named `prefix-N`, then releases each once; the p50 of the releases. */
async function releaseP50(bench: Bench, kms: RunningKms, prefix: string): Promise<number> {
  const call = (method: string, path: string, body: unknown) => raw(kms.url, kms.caPem, method, `${path}${API}`, { token: bench.token, body: JSON.stringify(body), agent: bench.agent });
  const policy = { version: '1.0.0', anyOf: [{ authority: bench.issuer.url, allOf: [{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }] };
  const release_policy = { contentType: 'application/json; charset=utf-8', data: Buffer.from(JSON.stringify(policy)).toString('base64url') };
  for (let i = 0; i < RELEASES; i++) {
    const created = await call('POST', `/keys/${prefix}-${i}/create`, { kty: 'oct-HSM', key_size: 256, attributes: { exportable: true }, release_policy });
    if (created.status !== 200) throw new Error(`create ${prefix}-${i}: HTTP ${created.status} ${JSON.stringify(created.body)}`);
  }
  const samples: number[] = [];
  for (let i = 0; i < RELEASES; i++) {
    const began = performance.now();
    const released = await call('POST', `/keys/${prefix}-${i}/release`, { target: bench.target });
    samples.push(performance.now() - began);
    if (released.status !== 200) throw new Error(`release ${prefix}-${i}: HTTP ${released.status} ${JSON.stringify(released.body)}`);
  }
  return p50(samples);
}

/** A seeded version copies a real one's columns: its material sealed by this KMS's master key. */
type Template = Pick<VersionRow, 'kty' | 'key_ops' | 'public_jwk' | 'attributes' | 'tags' | 'release_policy' | 'master_key_id' | 'sealed'>;

const seedName = (i: number) => `seed-${String(i).padStart(6, '0')}`;
const OPERATIONS = ['create', 'get', 'release', 'update', 'get'];

/** The seeded audit entries, chained from `previous`: each names one of the seeded keys. */
function* auditEntries(previous: string, now: number): Generator<ChainedFields & { hash: string }> {
  for (let i = 0; i < SEED_AUDIT; i++) {
    const fields: ChainedFields = {
      time: now - SEED_AUDIT + i,
      principal: OFFICER,
      operation: OPERATIONS[i % OPERATIONS.length]!,
      route: '/keys/:name',
      key_name: seedName(i % SEED_KEYS),
      version: null,
      decision: 'allow',
      status: 200,
      reason: null,
      source: '127.0.0.1',
      count: 1,
      detail: null,
    };
    previous = linkHash(previous, fields);
    yield { ...fields, hash: previous };
  }
}

const AUDIT_COLUMNS = ['time', 'principal', 'operation', 'route', 'key_name', 'version', 'decision', 'status', 'reason', 'source', 'count', 'detail', 'hash'] as const;

function seedSqlite(stateDir: string): void {
  const paths = kmsPaths(stateDir);
  const keys = openDatabase(paths.keys, { synchronous: 'NORMAL', migrations: KEY_STORE_MIGRATIONS });
  const audit = openDatabase(paths.audit, { synchronous: 'NORMAL', migrations: AUDIT_MIGRATIONS });
  const now = Math.floor(Date.now() / 1000);
  try {
    const template = keys.prepare('SELECT kty, key_ops, public_jwk, attributes, tags, release_policy, master_key_id, sealed FROM key_versions LIMIT 1').get() as Template;
    const key = keys.prepare('INSERT INTO keys (name_key, name, created) VALUES (?, ?, ?)');
    const version = keys.prepare(
      'INSERT INTO key_versions (name_key, version, kty, key_ops, public_jwk, attributes, tags, release_policy, master_key_id, sealed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    keys.transaction(() => {
      for (let i = 0; i < SEED_KEYS; i++) {
        const name = seedName(i);
        key.run(name, name, now);
        version.run(
          name,
          randomBytes(16).toString('hex'),
          template.kty,
          template.key_ops,
          template.public_jwk,
          template.attributes,
          template.tags,
          template.release_policy,
          template.master_key_id,
          template.sealed,
        );
      }
    })();
    const last = audit.prepare('SELECT hash FROM audit ORDER BY id DESC LIMIT 1').get() as { hash: string } | undefined;
    const insert = audit.prepare(`INSERT INTO audit (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`);
    audit.transaction(() => {
      for (const entry of auditEntries(last?.hash ?? GENESIS_HASH, now)) insert.run(...AUDIT_COLUMNS.map((c) => entry[c]));
    })();
    // As a long-running store would be: the write-ahead logs folded into the databases.
    for (const db of [keys, audit]) db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    keys.close();
    audit.close();
  }
}

const BATCH = 10_000;

async function seedPostgres(url: string): Promise<void> {
  const db = new PostgresDatabase({ url });
  const now = Math.floor(Date.now() / 1000);
  try {
    await db.transaction(async (q) => {
      const template = (await q<Template>('SELECT kty, key_ops, public_jwk, attributes, tags, release_policy, master_key_id, sealed FROM key_versions LIMIT 1'))[0]!;
      for (let from = 0; from < SEED_KEYS; from += BATCH) {
        const names = Array.from({ length: Math.min(BATCH, SEED_KEYS - from) }, (_, i) => seedName(from + i));
        await q('INSERT INTO keys (name_key, name, created) SELECT n, n, $2 FROM unnest($1::text[]) AS n', [names, now]);
        await q(
          `INSERT INTO key_versions (name_key, version, kty, key_ops, public_jwk, attributes, tags, release_policy, master_key_id, sealed)
           SELECT n, md5(n || random()::text), $2, $3, $4, $5, $6, $7, $8, $9 FROM unnest($1::text[]) AS n`,
          [names, template.kty, template.key_ops, template.public_jwk, template.attributes, template.tags, template.release_policy, template.master_key_id, template.sealed],
        );
      }
      await q('SELECT through_id FROM audit_anchor WHERE id = 1 FOR UPDATE');
      const last = (await q<{ hash: string }>('SELECT hash FROM audit ORDER BY id DESC LIMIT 1'))[0];
      const types = ['bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'integer', 'text', 'text', 'integer', 'text', 'text'];
      const sql = `INSERT INTO audit (${AUDIT_COLUMNS.join(', ')}) SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;
      let batch: (ChainedFields & { hash: string })[] = [];
      const flush = async () => {
        await q(
          sql,
          AUDIT_COLUMNS.map((c) => batch.map((e) => e[c])),
        );
        batch = [];
      };
      for (const entry of auditEntries(last?.hash ?? GENESIS_HASH, now)) {
        batch.push(entry);
        if (batch.length === BATCH) await flush();
      }
      if (batch.length) await flush();
    });
    // As a long-running store would be: statistics and visibility up to date (no autovacuum of the
    // fresh rows during the measurement) and the dirty pages written out (no checkpoint during it).
    await db.query('VACUUM ANALYZE');
    await db.query('CHECKPOINT');
  } finally {
    await db.close();
  }
}

/** The p50 of `skr kms audit --key NAME` as the CLI runs it: open the store, query, close. */
async function auditQueryP50(bench: Bench): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < AUDIT_QUERIES; i++) {
    const began = performance.now();
    const answer = (await kmsAudit(['--state-dir', bench.stateDir, ...(bench.store ? ['--store', bench.store] : []), '--key', seedName((i * 7919) % SEED_KEYS).toUpperCase()])) as {
      entries: unknown[];
    };
    samples.push(performance.now() - began);
    if (answer.entries.length !== SEED_AUDIT / SEED_KEYS) throw new Error(`audit --key found ${answer.entries.length} entries`);
  }
  return p50(samples);
}

async function measure(store: string | undefined, seed: (stateDir: string) => Promise<void>): Promise<ScaleFigures> {
  const temp = await tempDir('skr-bench-scale-');
  const issuer = await startTestIssuer();
  const agent = new https.Agent({ keepAlive: true });
  try {
    const tee = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const bench: Bench = {
      stateDir: temp.dir,
      store,
      issuer,
      agent,
      token: await issuer.mint({ oid: OFFICER, sub: OFFICER }, { expiresIn: 3600 }),
      target: await issuer.mint({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ ...tee, kid: 'tee', key_ops: ['encrypt'] }] } }, { expiresIn: 3600 }),
    };
    let kms = await start(bench);
    // The first releases of the process run cold (JIT, TLS sessions): not part of either figure.
    await releaseP50(bench, kms, 'warm-up');
    const empty = await releaseP50(bench, kms, 'empty');
    await kms.close();
    await seed(temp.dir);
    const began = performance.now();
    kms = await start(bench);
    const startMs = performance.now() - began;
    let loaded: number;
    try {
      // Like for like: the restarted process warms up as the first one did.
      await releaseP50(bench, kms, 'warm-up-loaded');
      loaded = await releaseP50(bench, kms, 'loaded');
    } finally {
      await kms.close();
    }
    return {
      keys: SEED_KEYS,
      audit_entries: SEED_AUDIT,
      release_p50_ms_empty: round(empty),
      release_p50_ms_loaded: round(loaded),
      audit_query_p50_ms: round(await auditQueryP50(bench)),
      start_ms: Math.round(startMs),
    };
  } finally {
    agent.destroy();
    await issuer.close();
    await temp.remove();
  }
}

/** `scale.sqlite` and `scale.postgres` (null where PostgreSQL cannot run here, with the reason on stderr). */
export async function benchScale(): Promise<{ sqlite: ScaleFigures; postgres: ScaleFigures | null }> {
  const sqlite = await measure(undefined, async (stateDir) => seedSqlite(stateDir));
  const problem = postgresProblem();
  if (problem) {
    process.stderr.write(`bench: scale.postgres skipped: ${problem}\n`);
    return { sqlite, postgres: null };
  }
  const cluster = await startPostgresCluster();
  try {
    const url = await cluster.database('scale');
    return { sqlite, postgres: await measure(url, () => seedPostgres(url)) };
  } finally {
    await cluster.remove();
  }
}
