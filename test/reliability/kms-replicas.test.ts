import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { kmsAudit } from '../../src/cli/kms';
import { startTestIssuer, tempDir, type TestIssuer } from '../kms/harness';
import { raw, type RawResponse } from '../kms/raw';
import { startReplicaSet, type ReplicaSet } from '../kms/replica-set';
import { goodRuntimeKeys } from '../lib/runtime-keys';
import { describeBalanced } from '../lib/haproxy';
import { POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';

/**
 * Two `skr kms` replicas on one PostgreSQL behind HAProxy, under 16 callers of mixed writes and
 * releases, while a replica is SIGKILLed and restarted. An
 * acknowledged write (a 2xx answer) is there afterwards; an unacknowledged one (a 5xx or a
 * broken connection) is there whole or not at all; no release is granted once the key's
 * disable was acknowledged; every answer that is not an acknowledgement is a 5xx or a lost
 * connection, never a wrong 4xx.
 */
const API = '?api-version=7.6';
const CALLERS = 16;
const BACKOFF_MS = 200;

/** What the run knows of one caller's key: present, absent, or either (its last change was not acknowledged), and the tags it may carry. */
interface Known {
  present: 'yes' | 'no' | 'maybe';
  tags: (string | undefined)[];
}

interface Run {
  ops: number;
  /** Called once after each finished operation, with how many have finished. */
  onProgress?: (done: number) => Promise<void> | void;
}

interface Outcome {
  keys: Map<string, Known>;
  unexpected: string[];
  statuses: { at: number; status: number | 'lost' }[];
  releases: { startedAt: number; status: number | 'lost' }[];
  disabledAt?: number;
}

const acknowledged = (status: number | 'lost') => status !== 'lost' && status >= 200 && status < 300;
const failedHonestly = (status: number | 'lost') => status === 'lost' || (status >= 500 && status <= 504);

async function mixedRun(set: ReplicaSet, issuer: TestIssuer, run: Run): Promise<Outcome> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: CALLERS });
  const outcome: Outcome = { keys: new Map(), unexpected: [], statuses: [], releases: [] };
  const token = await set.officerToken();
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number | 'lost'; res?: RawResponse }> => {
    try {
      const res = await raw(set.balancer.url, set.ca, method, `${path}${API}`, { token, agent, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      outcome.statuses.push({ at: Date.now(), status: res.status });
      return { status: res.status, res };
    } catch {
      outcome.statuses.push({ at: Date.now(), status: 'lost' });
      return { status: 'lost' };
    }
  };
  const target = await issuer.mint({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ ...goodRuntimeKeys()['RSA-2048'], kid: 'tee', key_ops: ['encrypt'] }] } });
  let started = 0;
  let done = 0;

  const caller = async (c: number) => {
    const mine: string[] = [];
    for (let i = 0; started < run.ops; i++) {
      started++;
      const kind = i % 5;
      const live = mine.filter((n) => outcome.keys.get(n)!.present === 'yes');
      const expectOk = (what: string, status: number | 'lost') => {
        if (!acknowledged(status) && !failedHonestly(status)) outcome.unexpected.push(`${what}: ${status}`);
      };
      if (c === 0 && i === 20 && outcome.disabledAt === undefined) {
        // The gate is disabled once, mid-run; retried while the failure is an honest one.
        for (;;) {
          const { status } = await call('PATCH', '/keys/gate', { attributes: { enabled: false } });
          expectOk('disable gate', status);
          if (acknowledged(status)) outcome.disabledAt = Date.now();
          if (!failedHonestly(status)) break;
        }
      } else if (kind === 0 || kind === 1 || live.length === 0) {
        const name = `c${c}-k${i}`;
        const body = kind === 1 ? { key: { kty: 'oct', k: randomBytes(32).toString('base64url') } } : { kty: 'EC', crv: 'P-256' };
        const { status } = kind === 1 ? await call('PUT', `/keys/${name}`, body) : await call('POST', `/keys/${name}/create`, body);
        expectOk(`create ${name}`, status);
        outcome.keys.set(name, { present: acknowledged(status) ? 'yes' : 'maybe', tags: [undefined] });
        mine.push(name);
      } else if (kind === 2) {
        const name = live[i % live.length]!;
        const known = outcome.keys.get(name)!;
        const { status } = await call('PATCH', `/keys/${name}`, { tags: { n: String(i) } });
        expectOk(`update ${name}`, status);
        known.tags = acknowledged(status) ? [String(i)] : [...known.tags, String(i)];
      } else if (kind === 3) {
        const startedAt = Date.now();
        const { status } = await call('POST', '/keys/gate/release', { target });
        outcome.releases.push({ startedAt, status });
        if (!(acknowledged(status) || status === 403 || failedHonestly(status))) outcome.unexpected.push(`release: ${status}`);
      } else {
        const name = live[i % live.length]!;
        const { status } = await call('DELETE', `/keys/${name}`);
        expectOk(`delete ${name}`, status);
        outcome.keys.get(name)!.present = acknowledged(status) ? 'no' : 'maybe';
      }
      await run.onProgress?.(++done);
      // A caller refused backs off briefly, as the SDK's retry policy would.
      if (outcome.statuses.length > 0 && !acknowledged(outcome.statuses[outcome.statuses.length - 1]!.status)) await new Promise((r) => setTimeout(r, BACKOFF_MS));
    }
  };
  try {
    await Promise.all(Array.from({ length: CALLERS }, (_, c) => caller(c)));
  } finally {
    agent.destroy();
  }
  return outcome;
}

/** Every key as the run knows it: present with one of its possible tags, absent, or (unacknowledged) either — whole when present. */
async function checkKeys(set: ReplicaSet, outcome: Outcome): Promise<string[]> {
  const token = await set.officerToken();
  const wrong: string[] = [];
  for (const [name, known] of outcome.keys) {
    const res = await raw(set.balancer.url, set.ca, 'GET', `/keys/${name}${API}`, { token });
    if (res.status === 200) {
      if (known.present === 'no') wrong.push(`${name} deleted (acknowledged) but present`);
      if (!known.tags.includes((res.body.tags as Record<string, string> | undefined)?.n)) wrong.push(`${name} has tag ${JSON.stringify(res.body.tags)}, expected one of ${JSON.stringify(known.tags)}`);
      if (!String(res.body.key?.kid).startsWith(`${set.balancer.url}/keys/${name}/`)) wrong.push(`${name} is not whole: ${JSON.stringify(res.body)}`);
    } else if (res.status === 404) {
      if (known.present === 'yes') wrong.push(`${name} created (acknowledged) but missing`);
    } else {
      wrong.push(`${name}: GET answered ${res.status}`);
    }
  }
  return wrong;
}

describeBalanced('KMS replicas on PostgreSQL behind HAProxy, under load and faults', () => {
  let cluster: PostgresCluster;
  let issuer: TestIssuer;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
    issuer = await startTestIssuer();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await issuer?.close();
    await cluster?.remove();
  });

  const withSet = async (database: string, body: (set: ReplicaSet, temp: string) => Promise<void>) => {
    const temp = await tempDir();
    const set = await startReplicaSet(temp.dir, await cluster.database(database), 2, issuer);
    try {
      const policy = { version: '1.0.0', anyOf: [{ authority: issuer.url, allOf: [{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }] };
      const gate = await raw(set.balancer.url, set.ca, 'POST', `/keys/gate/create${API}`, {
        token: await set.officerToken(),
        body: JSON.stringify({
          kty: 'oct-HSM',
          key_size: 256,
          attributes: { exportable: true },
          release_policy: { contentType: 'application/json; charset=utf-8', data: Buffer.from(JSON.stringify(policy)).toString('base64url') },
        }),
      });
      expect(gate.status).toBe(200);
      await body(set, temp.dir);
    } finally {
      await set.stop();
      await temp.remove();
    }
  };

  test('2,000 mixed operations from 16 callers while a replica is SIGKILLed and restarted', async () => {
    await withSet('kill', async (set, stateDir) => {
      let restarted: Promise<void> | undefined;
      const outcome = await mixedRun(set, issuer, {
        ops: 2000,
        onProgress: (done) => {
          if (done === 600) restarted = set.kill(1).then(() => set.restart(1));
        },
      });
      await restarted;
      expect(outcome.unexpected).toEqual([]);
      expect(outcome.disabledAt).toBeDefined();
      // Key state is read from the store on every release: none granted once the disable was acknowledged.
      expect(outcome.releases.filter((r) => r.startedAt > outcome.disabledAt! && acknowledged(r.status))).toEqual([]);
      expect(outcome.releases.some((r) => acknowledged(r.status))).toBe(true);
      // The kill costs the requests in flight at the killed replica, not the run: few honest failures.
      expect(outcome.statuses.filter((s) => failedHonestly(s.status)).length).toBeLessThan(200);
      expect(await checkKeys(set, outcome)).toEqual([]);
      expect(await kmsAudit(['verify', '--state-dir', stateDir, '--store', await cluster.database('kill')])).toMatchObject({ ok: true });
    });
  }, 240_000);
});
