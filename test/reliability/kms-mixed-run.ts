import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { startTestIssuer, tempDir, type TestIssuer } from '../kms/harness';
import { raw, type RawResponse } from '../kms/raw';
import { startReplicaSet, type ReplicaSet } from '../kms/replica-set';
import { POSTGRES_SETUP_TIMEOUT_MS, startPostgresCluster, type PostgresCluster } from '../lib/postgres-cluster';
import { goodRuntimeKeys } from '../lib/runtime-keys';

/**
 * Mixed operations on KMS replicas behind a balancer, from several callers at once (create,
 * import, update, release, delete — and the release gate disabled once, mid-run), and the check
 * of what they left: the load of the replica reliability tests (kms-replicas, kms-pg-restart).
 * Every request has a deadline: one that outlives it counts as 'hung', which is neither an
 * acknowledgement nor an honest failure, so a test fails on it rather than waiting for jest.
 */
const API = '?api-version=7.6';
const CALLERS = 16;
const BACKOFF_MS = 200;
const DISABLE_ATTEMPTS = 150;
/** Far beyond any answer the store's timeouts allow (src/kms/store/postgres/database.ts): a request still open then is hung. */
const REQUEST_DEADLINE_MS = 60_000;

/** An answer's status, or what became of a request that got none: its connection broke ('lost'), or it outlived its deadline ('hung'). */
export type Status = number | 'lost' | 'hung';

/** What the run knows of one caller's key: present, absent, or either (its last change was not acknowledged), and the tags it may carry. */
interface Known {
  present: 'yes' | 'no' | 'maybe';
  tags: (string | undefined)[];
}

export interface Run {
  ops: number;
  /** Called once after each finished operation, with how many have finished. */
  onProgress?: (done: number) => Promise<void> | void;
  /**
   * No operation starts once the run has lasted this long: a run whose replicas have stopped
   * answering (HAProxy then fails each request after its connection retries, seconds later) ends,
   * and fails on its statuses, rather than outlasting the test's timeout.
   */
  stopAfterMs?: number;
}

export interface Outcome {
  keys: Map<string, Known>;
  unexpected: string[];
  /** Every request: when its answer came (or it failed), its status, and the error's own code (innererror.code). */
  statuses: { at: number; status: Status; code?: string }[];
  releases: { startedAt: number; status: Status }[];
  disabledAt?: number;
}

export const acknowledged = (status: Status) => typeof status === 'number' && status >= 200 && status < 300;
export const failedHonestly = (status: Status) => status === 'lost' || (typeof status === 'number' && status >= 500 && status <= 504);

export async function mixedRun(set: ReplicaSet, issuer: TestIssuer, run: Run): Promise<Outcome> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: CALLERS });
  const outcome: Outcome = { keys: new Map(), unexpected: [], statuses: [], releases: [] };
  const token = await set.officerToken();
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: Status; res?: RawResponse }> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), REQUEST_DEADLINE_MS)));
    try {
      const res = await Promise.race([raw(set.balancer.url, set.ca, method, `${path}${API}`, { token, agent, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }), deadline]);
      if (res === 'hung') {
        outcome.statuses.push({ at: Date.now(), status: 'hung' });
        return { status: 'hung' };
      }
      outcome.statuses.push({ at: Date.now(), status: res.status, code: res.body?.error?.innererror?.code });
      return { status: res.status, res };
    } catch {
      outcome.statuses.push({ at: Date.now(), status: 'lost' });
      return { status: 'lost' };
    } finally {
      clearTimeout(timer);
    }
  };
  const target = await issuer.mint({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ ...goodRuntimeKeys()['RSA-2048'], kid: 'tee', key_ops: ['encrypt'] }] } });
  let started = 0;
  const stopAt = Date.now() + (run.stopAfterMs ?? Infinity);
  let done = 0;

  const caller = async (c: number) => {
    const mine: string[] = [];
    for (let i = 0; started < run.ops && Date.now() < stopAt; i++) {
      started++;
      const kind = i % 5;
      const live = mine.filter((n) => outcome.keys.get(n)!.present === 'yes');
      const expectOk = (what: string, status: Status) => {
        if (!acknowledged(status) && !failedHonestly(status)) outcome.unexpected.push(`${what}: ${status}`);
      };
      if (c === 0 && i === 20 && outcome.disabledAt === undefined) {
        // The gate is disabled once, mid-run; retried while the failure is an honest one, for as
        // long as an outage of the test could last and the run may (a run whose replicas never
        // answer again ends, its disable never acknowledged).
        for (let attempt = 1; attempt <= DISABLE_ATTEMPTS && Date.now() < stopAt; attempt++) {
          const { status } = await call('PATCH', '/keys/gate', { attributes: { enabled: false } });
          expectOk('disable gate', status);
          if (acknowledged(status)) outcome.disabledAt = Date.now();
          if (!failedHonestly(status)) break;
          await new Promise((r) => setTimeout(r, BACKOFF_MS));
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

/**
 * `replicas` replicas of one vault on the cluster's database `database`, behind HAProxy, with
 * the release gate the run releases (an exportable oct-HSM key whose policy trusts `issuer`);
 * stopped, and their state directory removed, when `body` settles.
 */
export async function withGatedSet(cluster: PostgresCluster, issuer: TestIssuer, database: string, replicas: number, body: (set: ReplicaSet, stateDir: string) => Promise<void>): Promise<void> {
  const temp = await tempDir();
  const set = await startReplicaSet(temp.dir, await cluster.database(database), replicas, issuer);
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
    if (gate.status !== 200) throw new Error(`the release gate was not created: ${gate.status} ${JSON.stringify(gate.body)}`);
    await body(set, temp.dir);
  } finally {
    await set.stop();
    await temp.remove();
  }
}

/** Every key as the run knows it: present with one of its possible tags, absent, or (unacknowledged) either — whole when present. */
export async function checkKeys(set: ReplicaSet, outcome: Outcome): Promise<string[]> {
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

/** For a suite: a PostgreSQL cluster and a token issuer started before its tests and removed after them. */
export function suiteStores(): { cluster: () => PostgresCluster; issuer: () => TestIssuer } {
  let cluster: PostgresCluster | undefined;
  let issuer: TestIssuer | undefined;
  beforeAll(async () => {
    cluster = await startPostgresCluster();
    issuer = await startTestIssuer();
  }, POSTGRES_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await issuer?.close();
    await cluster?.remove();
  });
  return { cluster: () => cluster!, issuer: () => issuer! };
}
