import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { AuditLog, kmsPaths } from '../../src/kms';
import { exited, imdsToken, officerToken, spawnKms, writeUntilKilled, type Write } from '../kms/child';
import { tempDir } from '../kms/harness';
import { raw } from '../kms/raw';

/**
 * SIGKILL while creates, imports and rotations (or releases) are in flight: after a restart
 * every write the KMS acknowledged is there, its material opens, the database is intact, and
 * every acknowledged answer's audit entry is on the log, whose chain verifies.
 */
const API = '?api-version=7.6';
const IN_FLIGHT = 6;
const KILL_AFTER = 60;

test('no acknowledged write is lost when the KMS is killed mid-stream', async () => {
  const temp = await tempDir();
  const first = await spawnKms(temp.dir);
  const ca = await readFile(first.endpoints.caCertFile, 'utf8');
  const token = await officerToken(first.endpoints);
  // A mix of the three writes: create (EC or oct), import (oct), rotate (a new version of crash-1).
  const acknowledged = await writeUntilKilled(
    first,
    ca,
    token,
    (i): Write => {
      const kind = i % 4;
      if (kind === 3) return ['POST', `/keys/crash-1/rotate${API}`];
      if (kind === 2) return ['PUT', `/keys/crash-${i}${API}`, JSON.stringify({ key: { kty: 'oct', k: Buffer.alloc(32, i % 256).toString('base64url') } })];
      return ['POST', `/keys/crash-${i}/create${API}`, JSON.stringify({ kty: kind === 1 ? 'oct' : 'EC' })];
    },
    { inFlight: IN_FLIGHT, killAfter: KILL_AFTER },
  );
  expect(first.child.signalCode).toBe('SIGKILL');
  expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER);
  expect(acknowledged.filter(([name]) => name === 'crash-1').length).toBeGreaterThan(1);

  // The audit entry of every acknowledged write was committed before its answer left.
  const audit = new Database(kmsPaths(temp.dir).audit);
  try {
    const entry = audit.prepare("SELECT operation FROM audit WHERE key_name = ? COLLATE NOCASE AND version = ? AND status = 200 AND operation IN ('create', 'import', 'rotate')");
    for (const [name, version] of acknowledged) expect({ name, version, audited: entry.all(name, version).length }).toEqual({ name, version, audited: 1 });
  } finally {
    audit.close();
  }

  const second = await spawnKms(temp.dir);
  try {
    const token2 = await officerToken(second.endpoints);
    // Every acknowledged version is there and its material opens under the master key: each
    // one performs a crypto operation (AES-GCM for oct keys, ES256 for EC keys).
    const digest = Buffer.alloc(32, 7).toString('base64url');
    for (const [name, version] of acknowledged) {
      const res = await raw(second.endpoints.kms, ca, 'GET', `/keys/${name}/${version}${API}`, { token: token2 });
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      const ec = res.body.key.kty === 'EC' || res.body.key.kty === 'EC-HSM';
      const op = ec ? ['sign', { alg: 'ES256', value: digest }] : ['encrypt', { alg: 'A256GCM', value: 'AAAA' }];
      const used = await raw(second.endpoints.kms, ca, 'POST', `/keys/${name}/${version}/${op[0]}${API}`, { token: token2, body: JSON.stringify(op[1]) });
      expect({ name, version, op: op[0], status: used.status }).toEqual({ name, version, op: op[0], status: 200 });
    }
    const db = new Database(join(temp.dir, 'kms', 'keys.sqlite'), { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  } finally {
    second.child.kill('SIGTERM');
    await exited(second.child);
    await temp.remove();
  }
});

const REGISTER = join(__dirname, '..', 'kms', 'fixtures', 'ts-register.js');
const DEV = join(__dirname, 'fixtures', 'dev-serve.ts');

/** `skr dev --port 0 --state-dir D` in a child process, once its endpoints.json is written. */
async function spawnDev(stateDir: string): Promise<{ child: ChildProcess; endpoints: { sidecar: string; kms: string; identity: string; caCertFile: string } }> {
  const child = spawn(process.execPath, ['-r', REGISTER, '-e', `require(${JSON.stringify(DEV)})`, '--', '--port', '0', '--state-dir', stateDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (stdout.includes('\n')) return { child, endpoints: JSON.parse(await readFile(join(stateDir, 'endpoints.json'), 'utf8')) };
    if (child.exitCode !== null) throw new Error(`skr dev exited ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`skr dev did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('every release the KMS acknowledged before a SIGKILL is on the audit log', async () => {
  const temp = await tempDir();
  const dev = await spawnDev(temp.dir);
  const ca = await readFile(dev.endpoints.caCertFile, 'utf8');
  let acknowledged = 0;
  try {
    const bearer = await imdsToken(dev.endpoints.identity);
    // An attestation token for a TEE key of our own, from the stack's sidecar on the virtual device.
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const runtime = Buffer.from(JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'crash', key_ops: ['encrypt'] }] })).toString('base64');
    const attested = await fetch(`${dev.endpoints.sidecar}/attest/maa`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runtime_data: runtime }) });
    const target = ((await attested.json()) as { token: string }).token;
    const body = JSON.stringify({ target });
    let killed = false;
    const releaser = async () => {
      while (!killed) {
        try {
          const res = await raw(dev.endpoints.kms, ca, 'POST', `/keys/demo/release${API}`, { token: bearer, body });
          if (res.status === 200 && typeof res.body.value === 'string') acknowledged++;
          else throw new Error(`release answered ${res.status}: ${JSON.stringify(res.body)}`);
        } catch (error) {
          if (!killed) throw error;
          // the connection died with the process: this release was never acknowledged
        }
        if (acknowledged >= KILL_AFTER * 2 && !killed) {
          killed = true;
          dev.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, releaser));
    await exited(dev.child);
    expect(dev.child.signalCode).toBe('SIGKILL');

    const log = AuditLog.open(kmsPaths(temp.dir).audit);
    try {
      const released = (await log.query({ key: 'demo', decision: 'allow', limit: 100_000 })).filter((e) => e.operation === 'release');
      expect(released.length).toBeGreaterThanOrEqual(acknowledged);
      expect(released.every((e) => e.route === '/keys/:name/release' && e.status === 200)).toBe(true);
      expect(await log.verify()).toMatchObject({ ok: true });
    } finally {
      await log.close();
    }
  } finally {
    if (dev.child.exitCode === null && dev.child.signalCode === null) dev.child.kill('SIGKILL');
    await exited(dev.child);
    await temp.remove();
  }
});
