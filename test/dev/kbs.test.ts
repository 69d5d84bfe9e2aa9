import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from './serve';

/**
 * Issue 18's CLI contract for `skr dev`, checked on the CLI as users start it: endpoints.json
 * names the KBS, the sidecar serves the demo resource and refuses the denied one with the
 * policy's explanation, the ready line prints both curl commands, and the KBS answers /auth as
 * trustee's does.
 */
const TRUSTEE = 'https://github.com/confidential-containers/kbs/errors/';

function kbsPost(url: string, ca: string, body: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('skr dev with the KBS (issue 18 CLI contract)', () => {
  let stateDir: string;
  let running: Awaited<ReturnType<typeof serve>>;
  let ca: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'skr-dev-kbs-'));
    running = await serve('dev', stateDir, ['--port', '0']);
    ca = await readFile(running.endpoints.caCertFile, 'utf8');
  }, 120_000);

  afterAll(async () => {
    await running?.stop();
    await rm(stateDir, { recursive: true, force: true });
  });

  test('endpoints.json names the KBS, served over HTTPS under the dev CA', () => {
    expect(running.endpoints.kbs).toMatch(/^https:\/\/localhost:\d+$/);
  });

  test('the sidecar serves default/demo/secret: 200 and the bytes', async () => {
    const response = await fetch(`${running.endpoints.sidecar}/cdh/resource/default/demo/secret`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('skr dev demo resource: released to the virtual TEE\n');
  });

  test("default/demo/denied: 403 with the policy's explanation in skr's error envelope", async () => {
    const response = await fetch(`${running.endpoints.sidecar}/cdh/resource/default/demo/denied`);
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: string; code: string; details: { reason: string; explanation: { summary: string } } };
    expect(body.code).toBe('release_denied');
    expect(body.details.reason).toBe('claims_not_satisfied');
    expect(JSON.stringify(body.details.explanation)).toContain('x-ms-sevsnpvm-hostdata');
    expect(JSON.stringify(body)).not.toContain('never released');
  });

  test('the ready line prints both curl commands', async () => {
    const deadline = Date.now() + 30_000;
    while (!running.stderr().includes('ready in') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(running.stderr()).toContain(`curl -s ${running.endpoints.sidecar}/cdh/resource/default/demo/secret`);
    expect(running.stderr()).toContain(`curl -s ${running.endpoints.sidecar}/cdh/resource/default/demo/denied`);
  });

  test("POST {kbs}/kbs/v0/auth: 200 {nonce, extra-params} with the session cookie; a wrong version 401 with trustee's type", async () => {
    const auth = await kbsPost(`${running.endpoints.kbs}/kbs/v0/auth`, ca, { version: '0.4.0', tee: 'snp', 'extra-params': '' });
    expect(auth.status).toBe(200);
    expect(Object.keys(JSON.parse(auth.body) as object).sort()).toEqual(['extra-params', 'nonce']);
    expect(String(auth.headers['set-cookie'])).toMatch(/^kbs-session-id=[0-9a-f]{32};/);
    const wrong = await kbsPost(`${running.endpoints.kbs}/kbs/v0/auth`, ca, { version: '0.3.0', tee: 'snp', 'extra-params': '' });
    expect(wrong.status).toBe(401);
    expect((JSON.parse(wrong.body) as { type: string }).type).toBe(`${TRUSTEE}AttestationError`);
  });
});
