import { readFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { exited, officerToken, spawnKms } from '../kms/child';
import { tempDir } from '../kms/harness';
import { raw } from '../kms/raw';

/**
 * SIGKILL while creates, imports and rotations are in flight: after a restart every write the
 * KMS acknowledged is there, its material opens, and the database is intact.
 */
const API = '?api-version=7.6';
const IN_FLIGHT = 6;
const KILL_AFTER = 60;

test('no acknowledged write is lost when the KMS is killed mid-stream', async () => {
  const temp = await tempDir();
  const first = await spawnKms(temp.dir);
  const ca = await readFile(first.endpoints.caCertFile, 'utf8');
  const token = await officerToken(first.endpoints);
  const acknowledged: [name: string, version: string][] = [];
  let killed = false;
  let n = 0;

  const writer = async () => {
    while (!killed) {
      const i = n++;
      // A mix of the three writes: create (EC or oct), import (oct), rotate (a new version of crash-1).
      const kind = i % 4;
      const request: [string, string, string | undefined] =
        kind === 3
          ? ['POST', `/keys/crash-1/rotate${API}`, undefined]
          : kind === 2
            ? ['PUT', `/keys/crash-${i}${API}`, JSON.stringify({ key: { kty: 'oct', k: Buffer.alloc(32, i % 256).toString('base64url') } })]
            : ['POST', `/keys/crash-${i}/create${API}`, JSON.stringify({ kty: kind === 1 ? 'oct' : 'EC' })];
      try {
        const res = await raw(first.endpoints.kms, ca, request[0], request[1], { token, ...(request[2] ? { body: request[2] } : {}) });
        if (res.status === 200) {
          const [name, version] = (res.body.key.kid as string).split('/').slice(-2);
          acknowledged.push([name!, version!]);
        }
        if (acknowledged.length === KILL_AFTER && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      } catch {
        // the connection died with the process: this write was never acknowledged
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
  await exited(first.child);
  expect(first.child.signalCode).toBe('SIGKILL');
  expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER);
  expect(acknowledged.filter(([name]) => name === 'crash-1').length).toBeGreaterThan(1);

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
