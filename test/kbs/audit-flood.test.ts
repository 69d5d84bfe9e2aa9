import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { RunningKbs } from '../../src/kbs';
import type { VirtualDevice } from '../../src/snp/device/virtual';
import { admin, handshake, post, startTestKbs, virtualGuest, virtualTeePolicy } from './harness';

/**
 * A caller who floods the KBS with requests it refuses — a sibling holding a token asking for a
 * resource it may not have, anyone posting /attest without a session, anyone bending admin
 * tokens — writes a bounded number of audit lines: the first few one by one, the rest as counts,
 * and beyond the rate it is answered 429. The gate is tiny here (burst 8, no refill to speak of,
 * 2 stored per caller) so that the bounds show in a few requests.
 */
const LIMITS = { burst: 8, perSecond: 0.001, storedPerCaller: 2, storedPerInterval: 100, intervalMs: 3_600_000, maxCallers: 16 };
const FLOOD = 12;

let device: VirtualDevice;
let kbs: RunningKbs | undefined;

beforeAll(async () => {
  device = await virtualGuest();
}, 60_000);

afterEach(async () => {
  await kbs?.close();
  kbs = undefined;
});

type Line = Record<string, unknown>;
const lines = (running: RunningKbs): Line[] =>
  readFileSync(running.auditFile, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Line);

async function flood(send: () => Promise<Response>): Promise<Response[]> {
  const answers: Response[] = [];
  for (let i = 0; i < FLOOD; i++) answers.push(await send());
  return answers;
}

/** The flood's answers: `burst` refusals with `status`, then 429s with Retry-After. */
async function expectThrottledAfterBurst(answers: Response[], status: number): Promise<void> {
  expect(answers.map((a) => a.status)).toEqual([...Array<number>(LIMITS.burst).fill(status), ...Array<number>(FLOOD - LIMITS.burst).fill(429)]);
  const last = answers.at(-1)!;
  expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await last.json()).toMatchObject({ code: 'requests_throttled' });
}

/** After close (which writes the summaries): the lines stored one by one and the counts of `action`. */
function recorded(running: RunningKbs, action: string) {
  const all = lines(running).filter((l) => l.action === action);
  return {
    stored: all.filter((l) => l.outcome === 'denied' || l.outcome === 'failed'),
    allowed: all.filter((l) => l.outcome === 'allowed'),
    counts: all.filter((l) => l.outcome === 'counted').map((l) => ({ status: l.status, count: l.count })),
  };
}

/** A flood's counted refusals: those past the stored lines, at their status, and those past the burst, throttled. */
function expectFloodCounts(counts: unknown[], status: number): void {
  expect(counts).toEqual(
    expect.arrayContaining([
      { status, count: LIMITS.burst - LIMITS.storedPerCaller },
      { status: 429, count: FLOOD - LIMITS.burst },
    ]),
  );
  expect(counts).toHaveLength(2);
}
test('a sibling flooding denied resource requests writes bounded lines and is throttled; allowed releases are still audited one by one', async () => {
  const running = (kbs = await startTestKbs(device, { refusals: LIMITS }));
  expect((await admin(running, 'POST', '/kbs/v0/resource/default/demo/secret', Buffer.from('s3cret'))).status).toBe(200);
  expect((await admin(running, 'PUT', '/kbs/v0/resource-policy/default/demo', virtualTeePolicy(running))).status).toBe(200);
  const { cookie, attest } = await handshake(running, device);
  expect((await attest()).status).toBe(200);

  const answers = await flood(() => fetch(`${running.url}/kbs/v0/resource/other/denied/x`, { headers: { cookie } }));
  await expectThrottledAfterBurst(answers, 403);
  for (let i = 0; i < 3; i++) expect((await fetch(`${running.url}/kbs/v0/resource/default/demo/secret`, { headers: { cookie } })).status).toBe(200);

  await running.close();
  const { stored, allowed, counts } = recorded(running, 'resource.get');
  expect(stored).toHaveLength(LIMITS.storedPerCaller);
  expect(stored[0]).toMatchObject({ outcome: 'denied', resource: 'other/denied/x', code: 'release_policy_not_satisfied' });
  expect(allowed).toHaveLength(3);
  expectFloodCounts(counts, 403);
});

test('a flood of /attest without a session writes bounded lines and is throttled', async () => {
  const running = (kbs = await startTestKbs(device, { refusals: LIMITS }));
  const { body } = await handshake(running, device);
  const answers = await flood(() => post(running, '/kbs/v0/attest', body));
  await expectThrottledAfterBurst(answers, 401);

  await running.close();
  const { stored, counts } = recorded(running, 'attest');
  expect(stored).toHaveLength(LIMITS.storedPerCaller);
  expect(stored[0]).toMatchObject({ outcome: 'denied', code: 'kbs_session_missing' });
  expectFloodCounts(counts, 401);
});

test('a flood of refused admin tokens writes bounded lines and is throttled; the admin is still served', async () => {
  const running = (kbs = await startTestKbs(device, { refusals: LIMITS }));
  const stranger = generateKeyPairSync('ed25519').privateKey;
  const answers = await flood(() => admin(running, 'PUT', '/kbs/v0/resource-policy/default/flood', virtualTeePolicy(running), stranger));
  await expectThrottledAfterBurst(answers, 401);
  expect((await admin(running, 'PUT', '/kbs/v0/resource-policy/default/ok', virtualTeePolicy(running))).status).toBe(200);

  await running.close();
  const { stored, counts } = recorded(running, 'policy.set');
  expect(stored).toHaveLength(LIMITS.storedPerCaller);
  expect(stored[0]).toMatchObject({ outcome: 'denied', code: 'kbs_admin_unauthorized' });
  expect(counts).toEqual(
    expect.arrayContaining([
      { status: 401, count: LIMITS.burst - LIMITS.storedPerCaller },
      { status: 429, count: FLOOD - LIMITS.burst },
    ]),
  );
  expect(lines(running)).toContainEqual(expect.objectContaining({ action: 'policy.set', outcome: 'done', resource: 'default/ok' }));
});

test('counts are committed before the answer: a copy of the state taken mid-flight, as a crash would leave it, has them written at the next start', async () => {
  const first = await startTestKbs(device, { refusals: LIMITS });
  const { body } = await handshake(first, device);
  await flood(() => post(first, '/kbs/v0/attest', body));
  const crashed = mkdtempSync(join(tmpdir(), 'skr-kbs-crashed-'));
  cpSync(dirname(first.auditFile), join(crashed, 'kbs'), { recursive: true });
  await first.close();

  const running = (kbs = await startTestKbs(device, { stateDir: crashed, refusals: LIMITS }));
  const counts = lines(running)
    .filter((l) => l.outcome === 'counted')
    .map((l) => ({ action: l.action, status: l.status, count: l.count }));
  expect(counts).toEqual(
    expect.arrayContaining([
      { action: 'attest', status: 401, count: LIMITS.burst - LIMITS.storedPerCaller },
      { action: 'attest', status: 429, count: FLOOD - LIMITS.burst },
    ]),
  );
  expect(counts).toHaveLength(2);
});

test('a concurrent flood is counted exactly: counts written together still sum to every refused request', async () => {
  const running = (kbs = await startTestKbs(device, { refusals: LIMITS }));
  const { body } = await handshake(running, device);
  const concurrent = 40;
  const answers = await Promise.all(Array.from({ length: concurrent }, () => post(running, '/kbs/v0/attest', body)));
  expect(answers.filter((a) => a.status === 401)).toHaveLength(LIMITS.burst);
  expect(answers.filter((a) => a.status === 429)).toHaveLength(concurrent - LIMITS.burst);

  await running.close();
  const { stored, counts } = recorded(running, 'attest');
  expect(stored).toHaveLength(LIMITS.storedPerCaller);
  expect(counts).toEqual(
    expect.arrayContaining([
      { status: 401, count: LIMITS.burst - LIMITS.storedPerCaller },
      { status: 429, count: concurrent - LIMITS.burst },
    ]),
  );
  expect(counts).toHaveLength(2);
});
