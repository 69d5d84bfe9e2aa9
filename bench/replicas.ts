import { fork, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startTestIssuer, tempDir } from '../test/kms/harness';
import { raw } from '../test/kms/raw';
import { postgresProblem, startPostgresCluster } from '../test/lib/postgres-server';

/**
 * `replicas`: releases/s through HAProxy (TCP mode, TLS passed through, health-checked on
 * `/ready`) with one and with two KMS processes on one PostgreSQL database, 32 callers releasing
 * one key; and the p99 of a run during which one of the two replicas is SIGKILLed (requests it
 * held fail or wait for the balancer to mark it down, 0.5 s checks, then go to the other).
 * Every release commits its audit entries under the chain's one anchor row lock, so replicas
 * append one after another: that lock, and two cores shared by PostgreSQL, HAProxy, the replicas
 * and the load generator, bound the figures.
 */
export interface ReplicaFigures {
  rps_1: number;
  rps_2: number;
  kill_p99_ms: number;
}

const HAPROXY = '/usr/sbin/haproxy';
const CALLERS = 32;
const POINT_MS = 4_000;
const API = '?api-version=7.4';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function replica(config: Record<string, unknown>): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'replica.js'), [JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`a bench replica exited with ${code}`)));
  });
}

async function haproxy(dir: string, port: number, backends: number[]): Promise<ChildProcess> {
  const config = join(dir, `haproxy-${backends.length}.cfg`);
  await writeFile(
    config,
    [
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 30s',
      '  timeout server 30s',
      // A replica busy with 32 callers answers /ready late: slow is not down; a killed one refuses at once.
      '  timeout check 3s',
      '  retries 3',
      '  option redispatch',
      'frontend kms',
      `  bind 127.0.0.1:${port}`,
      '  default_backend replicas',
      'backend replicas',
      '  balance roundrobin',
      '  option httpchk GET /ready',
      '  http-check expect status 200',
      ...backends.map((p, i) => `  server r${i + 1} 127.0.0.1:${p} check check-ssl verify none inter 500 fall 1 rise 1`),
      '',
    ].join('\n'),
  );
  const child = spawn(HAPROXY, ['-db', '-q', '-f', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Until every backend has passed its first check.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  return child;
}

/** `CALLERS` callers releasing one key through `url` until `ms` have passed; `during` runs once, `atMs` in. */
async function load(url: string, ca: string, token: string, body: string, ms: number, during?: { atMs: number; run: () => void }): Promise<{ rps: number; p99: number; errors: number }> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: CALLERS });
  const latencies: number[] = [];
  let errors = 0;
  const began = performance.now();
  const timer = during ? setTimeout(during.run, during.atMs) : undefined;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() - began < ms) {
        const t0 = performance.now();
        const answer = await raw(url, ca, 'POST', `/keys/bench/release${API}`, { token, body, agent }).catch(() => undefined);
        latencies.push(performance.now() - t0);
        if (answer?.status !== 200) errors++;
      }
    }),
  );
  clearTimeout(timer);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { rps: (latencies.length - errors) / ((performance.now() - began) / 1000), p99: latencies[Math.ceil(latencies.length * 0.99) - 1]!, errors };
}

/** null where PostgreSQL or HAProxy cannot run here (the reason on stderr). */
export async function benchReplicas(): Promise<ReplicaFigures | null> {
  const problem = postgresProblem() ?? (existsSync(HAPROXY) ? undefined : `${HAPROXY} is absent (apt-get install haproxy)`);
  if (problem) {
    process.stderr.write(`bench: replicas skipped: ${problem}\n`);
    return null;
  }
  const cluster = await startPostgresCluster();
  const temp = await tempDir('skr-bench-replicas-');
  const issuer = await startTestIssuer();
  const children: ChildProcess[] = [];
  try {
    const store = await cluster.database('replicas');
    const [p1, p2, front] = [await freePort(), await freePort(), await freePort()];
    const vaultUrl = `https://localhost:${front}`;
    const config = (port: number) => ({ stateDir: temp.dir, store, port, issuer: issuer.url, vaultUrl });
    const first = await replica(config(p1));
    children.push(first);
    const token = await issuer.mint({ oid: 'bench-officer', sub: 'bench-officer' }, { expiresIn: 3600 });
    const ca = (await import('node:fs')).readFileSync(join(temp.dir, 'kms', 'tls', 'ca.pem'), 'utf8');
    const policy = { version: '1.0.0', anyOf: [{ authority: issuer.url, allOf: [{ claim: 'x-ms-attestation-type', equals: 'sevsnpvm' }] }] };
    const created = await raw(`https://localhost:${p1}`, ca, 'POST', `/keys/bench/create${API}`, {
      token,
      body: JSON.stringify({
        kty: 'oct-HSM',
        key_size: 256,
        attributes: { exportable: true },
        release_policy: { contentType: 'application/json; charset=utf-8', data: Buffer.from(JSON.stringify(policy)).toString('base64url') },
      }),
    });
    if (created.status !== 200) throw new Error(`create: HTTP ${created.status}`);
    const tee = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const body = JSON.stringify({ target: await issuer.mint({ 'x-ms-attestation-type': 'sevsnpvm', 'x-ms-runtime': { keys: [{ ...tee, kid: 'tee', key_ops: ['encrypt'] }] } }, { expiresIn: 3600 }) });

    let balancer = await haproxy(temp.dir, front, [p1]);
    children.push(balancer);
    await load(vaultUrl, ca, token, body, 1_000);
    const one = await load(vaultUrl, ca, token, body, POINT_MS);
    balancer.kill('SIGTERM');
    const second = await replica(config(p2));
    children.push(second);
    balancer = await haproxy(temp.dir, front, [p1, p2]);
    children.push(balancer);
    await load(vaultUrl, ca, token, body, 1_000);
    const two = await load(vaultUrl, ca, token, body, POINT_MS);
    const killed = await load(vaultUrl, ca, token, body, POINT_MS, { atMs: POINT_MS / 3, run: () => second.kill('SIGKILL') });
    process.stderr.write(`bench: replicas: errors ${one.errors} (1 replica), ${two.errors} (2), ${killed.errors} during the kill\n`);
    return { rps_1: Math.round(one.rps), rps_2: Math.round(two.rps), kill_p99_ms: Number(killed.p99.toFixed(1)) };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await issuer.close();
    await temp.remove();
    await cluster.remove();
  }
}
