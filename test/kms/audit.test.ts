import { generateKeyPairSync } from 'node:crypto';
import { rm } from 'node:fs/promises';
import https from 'node:https';
import Database from 'better-sqlite3';
import { kmsAudit, kmsRole } from '../../src/cli/kms';
import { addRoleAudited, AuditLog, SqliteAuditStore, kmsPaths, openKeyDatabase, RoleAssignments, SqliteRoleStore } from '../../src/kms';
import { openDatabase } from '../../src/kms/store/database';
import { AUDIT_MIGRATIONS } from '../../src/kms/store/migrations';
import { EXIT_CODE } from '../../src/cli/exit-code';
import { GENESIS_HASH, linkHash, type ChainedFields } from '../../src/kms/audit/chain';
import { issuerCredential, startStack, tempDir, type Stack } from './harness';
import { raw } from './raw';

const API = '?api-version=7.6';
/** What a release answers: wrapped key material, which must never reach a client unaudited. */
const KEY_MATERIAL = 'key_hsm';

/**
 * Creates exportable keys whose policy the stack's test issuer satisfies, as the officer;
 * resolves to the body of a release request (a real attestation token with a real TEE key).
 */
async function releasable(stack: Stack, ...names: string[]): Promise<string> {
  const keys = stack.client(issuerCredential(stack.issuer, stack.officer));
  const policy = { version: '1.0.0', anyOf: [{ authority: stack.issuer.url, allOf: [{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }] };
  for (const name of names) await keys.createOctKey(name, { hsm: true, keySize: 256, exportable: true, releasePolicy: { encodedPolicy: Buffer.from(JSON.stringify(policy)) } });
  const tee = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  const target = await stack.issuer.mint({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ ...tee, kid: 'tee', key_ops: ['encrypt'] }] } });
  return JSON.stringify({ target });
}

describe('the log', () => {
  test('entries committed in one turn share one transaction; each commit resolves once a second connection can read it', async () => {
    const temp = await tempDir();
    const path = kmsPaths(temp.dir).audit;
    const store = SqliteAuditStore.open(path);
    const batches: number[] = [];
    const append = store.append.bind(store);
    store.append = (entries, counts) => {
      batches.push(entries.length);
      return append(entries, counts);
    };
    const log = new AuditLog(store);
    const reader = AuditLog.open(path);
    try {
      await Promise.all(Array.from({ length: 5 }, (_, i) => log.commit({ time: i, operation: 'get', key: 'k', decision: 'allow', status: 200 })));
      expect(batches).toEqual([5]);
      await log.commit({ time: 9, operation: 'release', key: 'k', decision: 'deny', status: 403, reason: 'release_denied: no' });
      expect(await reader.query({ decision: 'deny' })).toMatchObject([{ operation: 'release', status: 403 }]);
      expect(await reader.verify()).toEqual({ ok: true, entries: 6, head: expect.objectContaining({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) }) });
    } finally {
      await log.close();
      await reader.close();
      await temp.remove();
    }
  });

  test('every field is cut to its bound, whatever the caller sent', async () => {
    const temp = await tempDir();
    const log = AuditLog.open(kmsPaths(temp.dir).audit);
    try {
      const huge = 'x'.repeat(20_000);
      await log.commit({ time: 1, operation: huge, route: huge, principal: huge, key: huge, version: huge, reason: huge, source: huge, detail: huge, decision: 'error', status: 400 });
      const [entry] = await log.query();
      expect(JSON.stringify(entry).length).toBeLessThan(2_000);
      expect(entry!.key).toHaveLength(127);
      expect(entry!.key!.endsWith('…')).toBe(true);
    } finally {
      await log.close();
      await temp.remove();
    }
  });

  test('an edited, deleted or unhashed row is the first broken link, and `skr kms audit verify` exits non-zero', async () => {
    const temp = await tempDir();
    const path = kmsPaths(temp.dir).audit;
    const log = AuditLog.open(path);
    for (let i = 0; i < 5; i++) await log.record({ time: i, operation: 'release', key: `k${i}`, decision: 'allow', status: 200 });
    await log.close();
    try {
      expect(await kmsAudit(['verify', '--state-dir', temp.dir])).toEqual({ ok: true, entries: 5, head: expect.objectContaining({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) }) });
      const db = new Database(path);
      const [third] = db.prepare('SELECT id FROM audit ORDER BY id LIMIT 1 OFFSET 2').all() as { id: number }[];
      db.prepare("UPDATE audit SET decision = 'deny', status = 403 WHERE id = ?").run(third!.id);
      db.close();
      const verdict = await kmsAudit(['verify', '--state-dir', temp.dir]);
      expect(verdict).toMatchObject({ ok: false, brokenAt: third!.id, entries: 2 });
      expect((verdict as { [EXIT_CODE]?: number })[EXIT_CODE]).toBe(1);

      const again = new Database(path);
      again.prepare("UPDATE audit SET decision = 'allow', status = 200 WHERE id = ?").run(third!.id);
      expect(await kmsAudit(['verify', '--state-dir', temp.dir])).toEqual({ ok: true, entries: 5, head: expect.objectContaining({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) }) });
      again.prepare('DELETE FROM audit WHERE id = ?').run(third!.id + 1);
      again.close();
      expect(await kmsAudit(['verify', '--state-dir', temp.dir])).toMatchObject({ ok: false, brokenAt: third!.id + 2 });
    } finally {
      await temp.remove();
    }
  });

  test('a checkpoint kept outside the database shows a log cut after it or rewritten and rehashed before it', async () => {
    const temp = await tempDir();
    const path = kmsPaths(temp.dir).audit;
    /** Eight entries; the checkpoint is the head after the fifth. */
    const fill = async (): Promise<{ id: number; checkpoint: string }> => {
      await rm(path, { force: true });
      const log = AuditLog.open(path);
      for (let i = 0; i < 5; i++) await log.record({ time: i, operation: 'release', key: `k${i}`, decision: 'allow', status: 200 });
      const verdict = await log.verify();
      if (!verdict.ok) throw new Error('a fresh log verifies');
      for (let i = 5; i < 8; i++) await log.record({ time: i, operation: 'release', key: `k${i}`, decision: 'allow', status: 200 });
      await log.close();
      return { id: verdict.head.id, checkpoint: `${verdict.head.id}:${verdict.head.hash}` };
    };
    const verify = (...flags: string[]) => kmsAudit(['verify', '--state-dir', temp.dir, ...flags]);
    try {
      let { id, checkpoint } = await fill();
      expect(await verify('--checkpoint', checkpoint)).toMatchObject({ ok: true, entries: 8 });

      // Cut: the newest entries, the checkpoint's among them. The chain alone still verifies.
      const cut = new Database(path);
      cut.prepare('DELETE FROM audit WHERE id >= ?').run(id);
      cut.close();
      expect(await verify()).toMatchObject({ ok: true, entries: 4 });
      const cutVerdict = await verify('--checkpoint', checkpoint);
      expect(cutVerdict).toMatchObject({ ok: false, brokenAt: id, reason: expect.stringContaining('cut') });
      expect((cutVerdict as { [EXIT_CODE]?: number })[EXIT_CODE]).toBe(1);

      // Rewrite: the first entry changed and every hash recomputed. The chain alone still verifies.
      ({ id, checkpoint } = await fill());
      const db = new Database(path);
      let previous = GENESIS_HASH;
      for (const row of db.prepare('SELECT * FROM audit ORDER BY id').all() as (ChainedFields & { id: number })[]) {
        if (row.key_name === 'k0') row.decision = 'deny';
        previous = linkHash(previous, row);
        db.prepare('UPDATE audit SET decision = ?, hash = ? WHERE id = ?').run(row.decision, previous, row.id);
      }
      db.close();
      expect(await verify()).toMatchObject({ ok: true, entries: 8 });
      expect(await verify('--checkpoint', checkpoint)).toMatchObject({ ok: false, brokenAt: id, reason: expect.stringContaining('rewritten') });
      await expect(verify('--checkpoint', 'nope')).rejects.toThrow('--checkpoint');
    } finally {
      await temp.remove();
    }
  });

  test('retention prunes old entries and keeps the chain verifiable from its anchor; the pruning is an entry', async () => {
    const temp = await tempDir();
    const log = AuditLog.open(kmsPaths(temp.dir).audit);
    try {
      const day = 86_400;
      const now = 1_000 * day;
      for (let i = 0; i < 4; i++) await log.record({ time: now - 40 * day + i, operation: 'get', key: 'old', decision: 'allow', status: 200 });
      for (let i = 0; i < 3; i++) await log.record({ time: now - day + i, operation: 'get', key: 'new', decision: 'allow', status: 200 });
      expect(await log.prune(30, now)).toBe(4);
      expect(await log.query({ key: 'old' })).toEqual([]);
      expect(await log.query({ key: 'new' })).toHaveLength(3);
      expect(await log.query({ limit: 1 })).toMatchObject([{ operation: 'audit.prune', count: 4, principal: 'kms' }]);
      expect(await log.verify()).toEqual({ ok: true, entries: 4, head: expect.objectContaining({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) }) });
      expect(await log.prune(30, now)).toBe(0);
      await log.record({ time: now, operation: 'get', key: 'after', decision: 'allow', status: 200 });
      expect(await log.verify()).toEqual({ ok: true, entries: 5, head: expect.objectContaining({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) }) });
    } finally {
      await log.close();
      await temp.remove();
    }
  });

  test('an audit database of the first schema gets the new columns, its rows chained from the genesis', async () => {
    const temp = await tempDir();
    const path = kmsPaths(temp.dir).audit;
    const old = openDatabase(path, { synchronous: 'NORMAL', migrations: AUDIT_MIGRATIONS.slice(0, 1) });
    const insert = old.prepare('INSERT INTO audit (time, principal, operation, key_name, version, decision, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 3; i++) insert.run(i, 'p', `GET /keys/k${i}`, `k${i}`, null, 'allow', 200, null);
    old.close();
    const log = AuditLog.open(path);
    try {
      expect(await log.verify()).toEqual({ ok: true, entries: 3, head: expect.objectContaining({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) }) });
      await log.commit({ time: 5, operation: 'get', route: '/keys/:name', key: 'k', decision: 'allow', status: 200 });
      expect(await log.verify()).toEqual({ ok: true, entries: 4, head: expect.objectContaining({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) }) });
      expect(await log.query({ limit: 1 })).toMatchObject([{ route: '/keys/:name' }]);
    } finally {
      await log.close();
      await temp.remove();
    }
  });
});

describe('fail closed', () => {
  test('an audit log that cannot be written: 503 audit_unavailable, no key material, and the KMS keeps serving', async () => {
    const temp = await tempDir();
    const store = SqliteAuditStore.open(kmsPaths(temp.dir).audit);
    let full = false;
    const append = store.append.bind(store);
    store.append = async (entries, counts) => {
      if (full) throw new Error('SQLITE_FULL: database or disk is full');
      return append(entries, counts);
    };
    const stack = await startStack({ auditLog: new AuditLog(store) });
    const releaseBody = await releasable(stack, 'demo');
    full = true;
    try {
      const token = await stack.issuer.mint({ oid: stack.officer });
      const call = (method: string, path: string, body?: unknown) => raw(stack.kms.url, stack.kms.caPem, method, path, { token, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      for (const [method, path, body] of [
        ['POST', `/keys/demo/release${API}`, JSON.parse(releaseBody)],
        ['POST', `/keys/k/create${API}`, { kty: 'oct-HSM', key_size: 256 }],
        ['GET', `/keys/missing${API}`, undefined],
        ['GET', `/keys${API}`, undefined],
      ] as const) {
        const res = await call(method, path, body);
        expect({ path, status: res.status, body: res.body }).toEqual({
          path,
          status: 503,
          body: { error: { code: 'ServiceUnavailable', message: expect.any(String), innererror: { code: 'audit_unavailable' } } },
        });
        expect(JSON.stringify(res.body)).not.toContain(KEY_MATERIAL);
      }
      const anonymous = await raw(stack.kms.url, stack.kms.caPem, 'GET', `/keys${API}`);
      expect(anonymous.status).toBe(503);
      expect(anonymous.headers['www-authenticate']).toBeUndefined();

      full = false;
      // The create refused for want of an audit entry was not performed.
      expect((await call('GET', `/keys/k${API}`)).status).toBe(404);
      const released = await call('POST', `/keys/demo/release${API}`, JSON.parse(releaseBody));
      expect(released.status).toBe(200);
      expect(Buffer.from(released.body.value.split('.')[1], 'base64url').toString()).toContain(KEY_MATERIAL);
      expect(await stack.kms.audit.query({ limit: 1 })).toMatchObject([{ operation: 'release', route: '/keys/:name/release', key: 'demo', status: 200, decision: 'allow' }]);
    } finally {
      await stack.close();
    }
  });

  test('a closed audit database: 503 audit_unavailable, and the process does not die', async () => {
    const stack = await startStack();
    try {
      const releaseBody = await releasable(stack, 'demo');
      const token = await stack.issuer.mint({ oid: stack.officer });
      await stack.kms.audit.close();
      const res = await raw(stack.kms.url, stack.kms.caPem, 'POST', `/keys/demo/release${API}`, { token, body: releaseBody });
      expect(res.status).toBe(503);
      expect(res.body.error.innererror.code).toBe('audit_unavailable');
      expect(JSON.stringify(res.body)).not.toContain(KEY_MATERIAL);
      expect((await raw(stack.kms.url, stack.kms.caPem, 'GET', `/keys${API}`, { token })).status).toBe(503);
    } finally {
      await stack.close();
    }
  });

  test('a role change whose entry cannot be committed is not made', async () => {
    const temp = await tempDir();
    const db = openKeyDatabase(temp.dir);
    const roles = new RoleAssignments(new SqliteRoleStore(db));
    const log = AuditLog.open(kmsPaths(temp.dir).audit);
    await log.close();
    try {
      await expect(addRoleAudited(roles, log, { time: 1, principal: 'operator:0' }, 'mallory', 'crypto-officer')).rejects.toThrow(expect.objectContaining({ code: 'audit_unavailable', status: 503 }));
      expect(await roles.list('mallory')).toEqual([]);
    } finally {
      db.close();
      await temp.remove();
    }
  });
});

describe('what the KMS records', () => {
  test('a request whose client went away before the answer is still audited', async () => {
    const stack = await startStack();
    try {
      const releaseBody = await releasable(stack, 'gone');
      const token = await stack.issuer.mint({ oid: stack.officer });
      // The release's entry is held back until the client has given up, then committed.
      let held!: () => void;
      const holding = new Promise<void>((resolve) => (held = resolve));
      let letGo!: () => void;
      const released = new Promise<void>((resolve) => (letGo = resolve));
      let audited!: () => void;
      const committed = new Promise<void>((resolve) => (audited = resolve));
      const commit = stack.kms.audit.commit.bind(stack.kms.audit);
      stack.kms.audit.commit = async (entry) => {
        if (entry.key !== 'gone' || entry.operation !== 'release') return commit(entry);
        held();
        await released;
        await commit(entry);
        audited();
      };
      const client = https.request(`${stack.kms.url}/keys/gone/release${API}`, {
        method: 'POST',
        ca: stack.kms.caPem,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      const gone = new Promise<Error>((resolve) => client.on('error', resolve));
      client.end(releaseBody);
      await holding;
      client.destroy();
      expect((await gone).message).toMatch(/hang up|reset|destroyed|aborted/i);
      letGo();
      await committed;
      expect(await stack.kms.audit.query({ key: 'gone', limit: 1 })).toMatchObject([{ operation: 'release', status: 200, decision: 'allow', principal: stack.officer }]);
    } finally {
      await stack.close();
    }
  });

  test('entries carry the route pattern, never the path as sent', async () => {
    const stack = await startStack();
    try {
      const releaseBody = await releasable(stack, 'demo');
      const token = await stack.issuer.mint({ oid: stack.officer });
      const long = 'n'.repeat(5_000);
      await raw(stack.kms.url, stack.kms.caPem, 'POST', `/keys/${long}/release${API}`, { body: '{}' });
      await raw(stack.kms.url, stack.kms.caPem, 'POST', `/keys/demo/release${API}`, { token, body: releaseBody });
      await raw(stack.kms.url, stack.kms.caPem, 'GET', `/no/such/${long}/path${API}`, { token });
      const entries = await stack.kms.audit.query({ limit: 3 });
      expect(entries.map((e) => [e.route, e.status])).toEqual([
        ['/:param/:param/:param/:param', 404],
        ['/keys/:name/release', 200],
        ['/keys/:name/release', 401],
      ]);
      expect(JSON.stringify(entries)).not.toContain(long.slice(0, 200));
    } finally {
      await stack.close();
    }
  });

  test('a flood of unauthenticated requests: 429 with Retry-After past the rate, a bounded number of rows and bytes, the rest counted', async () => {
    const stack = await startStack({ refusals: { burst: 40, perSecond: 0.5, storedPerCaller: 10, storedPerInterval: 100, intervalMs: 3_600_000 } });
    const path = kmsPaths(stack.state).audit;
    const FLOOD = 300;
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    try {
      for (let i = 0; i < FLOOD; i++) {
        const res = await raw(stack.kms.url, stack.kms.caPem, 'POST', `/keys/${'f'.repeat(2_000)}${i}/release${API}`, { body: '{}' });
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers['retry-after'] as string;
      }
    } finally {
      await stack.kms.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      const rows = db
        .prepare(
          "SELECT COUNT(*) AS n, SUM(count) AS requests, SUM(length(coalesce(route,'')) + length(coalesce(reason,'')) + length(coalesce(detail,'')) + length(coalesce(source,'')) + length(operation)) AS bytes FROM audit WHERE decision = 'deny'",
        )
        .get() as { n: number; requests: number; bytes: number };
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(40);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      // 10 stored one by one, one summary each for the rest of this source's 401s and its 429s.
      expect(rows.n).toBe(12);
      expect(rows.requests).toBe(FLOOD);
      expect(rows.bytes).toBeLessThan(12 * 1_000);
    } finally {
      db.close();
      // The KMS is closed already (its summaries written): the rest of the stack goes.
      await stack.issuer.close();
      await stack.identity.close();
      await rm(stack.state, { recursive: true, force: true });
    }
  });

  test('a flood of authenticated refusals (10,000 × 404 with a valid token): bounded rows and bytes, counts that sum, then 429; allowed requests still stored one by one', async () => {
    const FLOOD = 10_000;
    const EXTRA = 50;
    // The bucket holds the whole flood, so every one of it is answered 404 and counted; the requests after it are throttled.
    const stack = await startStack({ refusals: { burst: FLOOD, perSecond: 0.001, storedPerCaller: 20, storedPerInterval: 1_000, intervalMs: 3_600_000 } });
    const path = kmsPaths(stack.state).audit;
    const agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
    const statuses = new Map<number, number>();
    let retryAfter: string | undefined;
    try {
      const token = await stack.issuer.mint({ oid: stack.officer });
      await stack.client(issuerCredential(stack.issuer, stack.officer)).createOctKey('present', { hsm: true, keySize: 256 });
      const ask = async (name: string) => {
        const res = await raw(stack.kms.url, stack.kms.caPem, 'GET', `/keys/${name}${API}`, { token, agent });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429) retryAfter = res.headers['retry-after'] as string;
        return res.status;
      };
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < FLOOD + EXTRA) await ask(`missing-${next++}-${'m'.repeat(100)}`);
        }),
      );
      // Past the throttle, allowed requests are answered and stored one by one.
      for (let i = 0; i < 3; i++) expect(await ask('present')).toBe(200);
    } finally {
      agent.destroy();
      await stack.kms.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      expect(Object.fromEntries(statuses)).toEqual({ 404: FLOOD, 429: EXTRA, 200: 3 });
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      const refused = db
        .prepare(
          "SELECT status, COUNT(*) AS n, SUM(count) AS requests, SUM(length(coalesce(principal,'')) + length(coalesce(route,'')) + length(coalesce(reason,'')) + length(coalesce(detail,'')) + length(coalesce(source,'')) + length(operation)) AS bytes FROM audit WHERE status >= 400 AND principal = ? GROUP BY status ORDER BY status",
        )
        .all(stack.officer);
      // 20 stored one by one, one summary for the other 9,980; one summary for the 429s.
      expect(refused).toEqual([
        { status: 404, n: 21, requests: FLOOD, bytes: expect.any(Number) },
        { status: 429, n: 1, requests: EXTRA, bytes: expect.any(Number) },
      ]);
      expect((refused as { bytes: number }[]).reduce((sum, r) => sum + r.bytes, 0)).toBeLessThan(22 * 1_000);
      expect(db.prepare("SELECT COUNT(*) AS n FROM audit WHERE operation = 'get' AND status = 200").get()).toEqual({ n: 3 });
      expect(db.prepare('SELECT COUNT(*) AS n FROM audit_counts').get()).toEqual({ n: 0 });
    } finally {
      db.close();
      await stack.issuer.close();
      await stack.identity.close();
      await rm(stack.state, { recursive: true, force: true });
    }
  }, 120_000);

  test('a counted refusal is committed before its answer: a reader sees the count as soon as the answer arrives', async () => {
    const stack = await startStack({ refusals: { burst: 100, perSecond: 1, storedPerCaller: 1, storedPerInterval: 100, intervalMs: 3_600_000 } });
    const reader = new Database(kmsPaths(stack.state).audit, { readonly: true });
    try {
      const token = await stack.issuer.mint({ oid: 'someone-without-rights' });
      const counted = () => reader.prepare('SELECT source, principal, status, requests FROM audit_counts').all();
      expect((await raw(stack.kms.url, stack.kms.caPem, 'GET', `/keys/k${API}`, { token })).status).toBe(403);
      expect(counted()).toEqual([]);
      for (let i = 1; i <= 3; i++) {
        expect((await raw(stack.kms.url, stack.kms.caPem, 'GET', `/keys/k${API}`, { token })).status).toBe(403);
        expect(counted()).toEqual([{ source: '127.0.0.1', principal: 'someone-without-rights', status: 403, requests: i }]);
      }
    } finally {
      reader.close();
      await stack.close();
    }
  });

  test('a running KMS prunes entries past its retention, and the chain still verifies', async () => {
    const temp = await tempDir();
    const log = AuditLog.open(kmsPaths(temp.dir).audit);
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 3; i++) await log.record({ time: now - 3 * 86_400, operation: 'get', key: 'old', decision: 'allow', status: 200 });
    await log.record({ time: now, operation: 'get', key: 'recent', decision: 'allow', status: 200 });
    const pruned = new Promise<void>((resolve) => {
      const prune = log.prune.bind(log);
      log.prune = async (days, at) => {
        const removed = await prune(days, at);
        if (removed > 0) resolve();
        return removed;
      };
    });
    const stack = await startStack({ auditLog: log, auditRetentionDays: 2, sweepIntervalMs: 20 });
    try {
      await pruned;
      expect(await log.query({ key: 'old' })).toEqual([]);
      expect(await log.query({ key: 'recent' })).toHaveLength(1);
      // What is left: the recent entry, the roles the KMS granted at start, and the pruning.
      expect(await log.verify()).toMatchObject({ ok: true, entries: (await log.query({ limit: 1000 })).length });
    } finally {
      await stack.close();
      await temp.remove();
    }
  });

  test('role changes through the admin API and `skr kms role` are audited, with who made them', async () => {
    const stack = await startStack();
    try {
      const admin = { authorization: `Bearer ${stack.kms.adminToken}` };
      const added = await raw(stack.kms.url, stack.kms.caPem, 'POST', '/admin/roles', { headers: admin, body: JSON.stringify({ principal: 'alice', role: 'crypto-user' }) });
      expect(added.status).toBe(201);
      expect((await raw(stack.kms.url, stack.kms.caPem, 'DELETE', `/admin/roles/${added.body.id}`, { headers: admin })).status).toBe(204);
      const cli = (await kmsRole(['add', '--state-dir', stack.state, '--principal', 'bob', '--role', 'crypto-officer', '--scope', '/keys/k1'])) as { added: { id: string } };
      await kmsRole(['remove', '--state-dir', stack.state, '--id', cli.added.id]);
      const changes = (await stack.kms.audit.query({ limit: 20 })).filter((e) => e.operation.startsWith('role.'));
      const uid = process.getuid!();
      expect(changes.reverse()).toEqual([
        // The roles the KMS ensured when it started.
        ...(await stack.kms.roles.list())
          .filter((a) => a.principal !== 'bob')
          .map((a) => expect.objectContaining({ operation: 'role.add', principal: 'kms:startup', detail: expect.stringContaining(`principal=${a.principal} role=${a.role}`) })),
        expect.objectContaining({ operation: 'role.add', principal: 'admin', route: '/admin/roles', status: 201, detail: expect.stringContaining('principal=alice role=crypto-user scope=/') }),
        expect.objectContaining({ operation: 'role.remove', principal: 'admin', route: '/admin/roles/:id', status: 204, detail: expect.stringContaining('principal=alice') }),
        expect.objectContaining({ operation: 'role.add', principal: `operator:${uid}`, detail: expect.stringContaining('principal=bob role=crypto-officer scope=/keys/k1') }),
        expect.objectContaining({ operation: 'role.remove', principal: `operator:${uid}`, detail: expect.stringContaining('principal=bob') }),
      ]);
      expect(await stack.kms.audit.verify()).toMatchObject({ ok: true });
    } finally {
      await stack.close();
    }
  });
});
