import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, postgresAvailable } from './postgres-cluster';

/**
 * HAProxy in front of KMS replicas, for tests: TLS passes through (mode tcp), so a client sees
 * the replicas' own certificate and the balancer adds nothing to trust; each replica is
 * health-checked with `GET /ready` over TLS, so one whose store cannot be reached, or that is
 * gone, leaves the rotation. A connection refused by a replica is retried at another
 * (redispatch): a killed replica costs the requests it was answering, not the ones after.
 * Each replica is also listed as an unchecked backup: when every replica fails its check (the
 * store is down), requests still reach one and get its honest 503, rather than a closed
 * connection from the balancer.
 */
const BINARIES = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy'];

/** How often a replica is checked, and after how many failures it leaves (or successes it rejoins) the rotation. */
export const HEALTH_CHECK = { intervalMs: 500, fall: 2, rise: 2 };

const binary = () => BINARIES.find((path) => existsSync(path));

function problem(): string | undefined {
  if (!postgresAvailable()) return 'no PostgreSQL (see test/lib/postgres-cluster.ts)';
  if (!binary()) return `haproxy is not in ${BINARIES.join(', ')} (apt-get install haproxy)`;
  return undefined;
}

/** describe() for suites that need PostgreSQL and HAProxy: skipped where either is absent, failed under CI, where both must be. */
export function describeBalanced(name: string, body: () => void): void {
  const missing = problem();
  if (!missing) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('has PostgreSQL and HAProxy available', () => {
        throw new Error(`CI needs PostgreSQL and HAProxy, but ${missing}`);
      });
    });
  } else {
    describe.skip(`${name} (${missing})`, body);
  }
}

export interface Balancer {
  port: number;
  /** https://localhost:PORT — the name the replicas' certificate carries. */
  url: string;
  stop(): Promise<void>;
}

function config(port: number, backends: number[]): string {
  const { intervalMs, fall, rise } = HEALTH_CHECK;
  return [
    'global',
    '  maxconn 512',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  retries 3',
    '  option redispatch',
    'frontend kms',
    `  bind 127.0.0.1:${port}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    '  option httpchk',
    '  http-check send meth GET uri /ready ver HTTP/1.1 hdr Host localhost',
    '  http-check expect status 200',
    `  default-server check check-ssl verify none inter ${intervalMs} fall ${fall} rise ${rise}`,
    ...backends.map((p, i) => `  server replica${i + 1} 127.0.0.1:${p}`),
    ...backends.map((p, i) => `  server replica${i + 1}-unchecked 127.0.0.1:${p} backup no-check`),
    '',
  ].join('\n');
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts HAProxy on a free loopback port in front of the replicas listening on `backends`; the caller stops it. */
export async function startBalancer(backends: number[], port?: number): Promise<Balancer> {
  const haproxy = binary();
  if (!haproxy) throw new Error(`HAProxy cannot run here: ${problem()}`);
  const dir = await mkdtemp(join(tmpdir(), 'skr-haproxy-'));
  const listen = port ?? (await freePort());
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config(listen, backends));
  // -db: stay in the foreground, so the process is this child and stopping it is killing it.
  const child: ChildProcess = spawn(haproxy, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 20_000;
  while (!(await accepts(listen))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`haproxy did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: listen,
    url: `https://localhost:${listen}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
