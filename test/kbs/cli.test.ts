import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KbsClient } from '../../src/kbs';
import { openVirtualDevice } from '../../src/snp/device/virtual';
import { adminToken } from './harness';

/** `skr kbs` as deployed, a separate process, trusting the virtual device of its state directory. */
const BIN = join(__dirname, '..', '..', 'bin', 'skr.js');
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGTERM');
});

function started(process: ChildProcess): Promise<any> {
  return new Promise((resolve, reject) => {
    let out = '';
    process.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      try {
        resolve(JSON.parse(out));
      } catch {
        // not the whole object yet
      }
    });
    process.once('exit', (code) => reject(new Error(`skr kbs exited with ${code}`)));
  });
}

test('skr kbs prints its URL and files, keeps its keys private, and serves the protocol', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'skr-kbs-cli-'));
  const device = await openVirtualDevice(stateDir);
  child = spawn(process.execPath, [BIN, 'kbs', '--http', '--state-dir', stateDir, '--trust-virtual'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const { kbs } = await started(child);
  expect(kbs.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  for (const file of [kbs.adminKeyFile, join(stateDir, 'kbs', 'token-key.pem')]) expect(statSync(file).mode & 0o077).toBe(0);

  const running = { url: kbs.url, adminKeyFile: kbs.adminKeyFile } as Parameters<typeof adminToken>[0];
  const headers = { authorization: `Bearer ${await adminToken(running)}` };
  expect((await fetch(`${kbs.url}/kbs/v0/resource/default/demo/secret`, { method: 'POST', headers, body: 'from the cli' })).status).toBe(200);
  const policy = { version: '1.0.0', anyOf: [{ authority: kbs.issuer, allOf: [{ claim: 'submods.cpu0.ear.status', equals: 'warning' }] }] };
  expect((await fetch(`${kbs.url}/kbs/v0/resource-policy/default`, { method: 'PUT', headers, body: JSON.stringify(policy) })).status).toBe(200);
  expect((await new KbsClient({ url: kbs.url, device }).getResource('default/demo/secret')).toString()).toBe('from the cli');
}, 60_000);

describe('skr kbs --http serves loopback only', () => {
  /** Runs `skr kbs` to its end (a refused start ends at once; one that serves is killed at the timeout). */
  function run(args: string[]) {
    const result = spawnSync(process.execPath, [BIN, 'kbs', '--state-dir', mkdtempSync(join(tmpdir(), 'skr-kbs-cli-')), ...args], { encoding: 'utf8', timeout: 20_000 });
    return { status: result.status, signal: result.signal, json: JSON.parse(result.stdout || 'null') };
  }

  test.each([['0.0.0.0'], ['::'], ['192.0.2.10'], ['kbs.example']])(
    '--http --host %s is refused at start (admin tokens and resources would cross the network in clear), exit code as any bad flag',
    (host) => {
      const refused = run(['--http', '--host', host, '--port', '0']);
      const badFlag = run(['--http', '--port', 'not-a-port']);
      expect(badFlag.json.error.code).toBe('invalid_argument');
      expect(refused.signal).toBeNull();
      expect(refused.status).toBe(badFlag.status);
      expect(refused.json.error).toMatchObject({ code: 'invalid_argument' });
      expect(refused.json.error.message).toContain('--http');
    },
  );
});
