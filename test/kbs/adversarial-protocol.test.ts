import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { decryptFromKbs, type RunningKbs } from '../../src/kbs';
import { teePubkeyOf } from '../../src/kbs/tee-pubkey';
import type { VirtualDevice } from '../../src/snp/device/virtual';
import { admin, cookieOf, handshake, post, startTestKbs, virtualGuest, virtualTeePolicy } from './harness';

/**
 * The KBS's protocol surface as an attacker sees it: a sibling with no identity, a foreign TEE, a
 * client that stole another's cookie, and request shapes meant to confuse the path or the parser.
 */
const TRUSTEE = 'https://github.com/confidential-containers/kbs/errors/';
const SECRET = Buffer.from('adversarial secret');

let device: VirtualDevice;
let kbs: RunningKbs;

beforeAll(async () => {
  device = await virtualGuest();
  kbs = await startTestKbs(device, { authPerMinute: 10_000 });
  expect((await admin(kbs, 'POST', '/kbs/v0/resource/default/demo/secret', SECRET)).status).toBe(200);
  expect((await admin(kbs, 'PUT', '/kbs/v0/resource-policy/default/demo', virtualTeePolicy(kbs))).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await kbs?.close();
});

/** A GET with the path sent exactly as written (fetch would normalise dot segments and encodings). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(kbs.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function attestedCookie(): Promise<{ cookie: string; privateKey: import('node:crypto').KeyObject }> {
  const { cookie, attest, privateKey } = await handshake(kbs, device);
  expect((await attest()).status).toBe(200);
  return { cookie, privateKey };
}

describe('a foreign TEE', () => {
  test("evidence signed under another chip's (another virtual ARK's) chain gets no token", async () => {
    const foreign = await virtualGuest();
    const { attest, cookie } = await handshake(kbs, foreign);
    const response = await attest();
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: `${TRUSTEE}AttestationError`, code: 'kbs_attestation_refused' });
    expect((await rawGet('/kbs/v0/resource/default/demo/secret', { cookie })).status).toBe(401);
  });

  test('many concurrent /attest on one session: one token, the rest refused', async () => {
    const { body, cookie } = await handshake(kbs, device);
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(kbs, '/kbs/v0/attest', body, { cookie })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401, 401, 401, 401]);
  });
});

describe('a tee-pubkey chosen to weaken the response encryption', () => {
  const p256 = teePubkeyOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ECDH-ES+A256KW') as { x: string; y: string };
  test.each([
    ['a point off the P-256 curve (invalid-curve attack)', { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: p256.x, y: Buffer.alloc(32, 1).toString('base64url') }],
    ['the all-zero point', { kty: 'EC', crv: 'P-256', alg: 'ECDH-ES+A256KW', x: Buffer.alloc(32).toString('base64url'), y: Buffer.alloc(32).toString('base64url') }],
    ['a 1024-bit RSA key', teePubkeyOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, 'RSA-OAEP-256')],
    ['a P-384 key (not a curve trustee wraps to)', { kty: 'EC', crv: 'P-384', alg: 'ECDH-ES+A256KW', x: 'AA', y: 'AA' }],
    ['a symmetric key', { kty: 'oct', k: 'AAAA', alg: 'A256KW' }],
  ])('%s is 400 JweError before the session is spent', async (_name, key) => {
    const { body, cookie, attest } = await handshake(kbs, device);
    const bent = { ...body, 'runtime-data': { ...body['runtime-data'], 'tee-pubkey': key } };
    const response = await post(kbs, '/kbs/v0/attest', bent, { cookie });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: `${TRUSTEE}JweError`, code: 'kbs_tee_pubkey_unsupported' });
    expect((await attest()).status).toBe(200);
  });
});

describe('a stolen session cookie', () => {
  test("answers a JWE only the victim's TEE key opens", async () => {
    const victim = await attestedCookie();
    const thief = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const response = await fetch(`${kbs.url}/kbs/v0/resource/default/demo/secret`, { headers: { cookie: victim.cookie } });
    expect(response.status).toBe(200);
    const jwe = await response.json();
    expect(() => decryptFromKbs(jwe, thief)).toThrow();
    expect(decryptFromKbs(jwe, victim.privateKey)).toEqual(SECRET);
  });

  test("with the thief's own valid token as a bearer, still answers to the cookie's key", async () => {
    const victim = await attestedCookie();
    const thief = await handshake(kbs, device);
    const { token } = (await (await thief.attest()).json()) as { token: string };
    const response = await fetch(`${kbs.url}/kbs/v0/resource/default/demo/secret`, { headers: { cookie: victim.cookie, authorization: `Bearer ${token}` } });
    const jwe = await response.json();
    expect(() => decryptFromKbs(jwe, thief.privateKey)).toThrow();
  });

  test('an /auth cookie (not attested) beside a forged one releases nothing', async () => {
    const auth = await post(kbs, '/kbs/v0/auth', { version: '0.4.0', tee: 'snp', 'extra-params': '' });
    const response = await rawGet('/kbs/v0/resource/default/demo/secret', { cookie: `${cookieOf(auth)}; kbs-session-id=${'0'.repeat(32)}` });
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ type: `${TRUSTEE}TokenNotFound` });
  });
});

describe('paths meant to reach outside repository/type/tag', () => {
  test.each([
    ['encoded dot-dot', '/kbs/v0/resource/%2e%2e/%2e%2e/secret'],
    ['literal dot-dot', '/kbs/v0/resource/default/../demo/secret'],
    ['a dot segment', '/kbs/v0/resource/default/./demo/secret'],
    ['an encoded slash inside a segment', '/kbs/v0/resource/default/demo%2fsecret/x'],
    ['an encoded backslash', '/kbs/v0/resource/default/demo/..%5csecret'],
    ['a NUL byte', '/kbs/v0/resource/default/demo/secret%00'],
    ['overlong UTF-8 dots', '/kbs/v0/resource/default/demo/%c0%ae%c0%ae'],
    ['a malformed escape', '/kbs/v0/resource/default/demo/%zz'],
    ['a non-ASCII lookalike', '/kbs/v0/resource/d%D0%B5fault/demo/secret'],
    ['a right-to-left override', '/kbs/v0/resource/default/demo/%E2%80%AEterces'],
    ['an empty segment', '/kbs/v0/resource/default//secret'],
    ['a trailing slash', '/kbs/v0/resource/default/demo/secret/'],
    ['a leading dot', '/kbs/v0/resource/default/demo/.secret'],
    ['a segment of 10,000 characters', `/kbs/v0/resource/default/demo/${'a'.repeat(10_000)}`],
  ])('%s is 404 InvalidRequestPath before any token is looked at', async (_name, path) => {
    const { status, body } = await rawGet(path);
    expect(status).toBe(404);
    expect(JSON.parse(body)).toMatchObject({ type: `${TRUSTEE}InvalidRequestPath`, code: 'kbs_resource_path_invalid' });
  });

  test('a path longer than the header limit is 431 in the KBS error shape', async () => {
    const { status, body } = await rawGet(`/kbs/v0/resource/default/demo/${'a'.repeat(70_000)}`);
    expect(status).toBe(431);
    expect(JSON.parse(body)).toMatchObject({ code: 'headers_too_large' });
  });

  test('case and query tricks do not change which policy governs the path', async () => {
    const { cookie } = await attestedCookie();
    expect((await rawGet('/kbs/v0/resource/default/demo/secret?path=../../x', { cookie })).status).toBe(200);
    const upper = await rawGet('/kbs/v0/resource/default/DEMO/secret', { cookie });
    expect(upper.status).toBe(403);
    expect(JSON.parse(upper.body)).toMatchObject({ details: { reason: 'no_policy' } });
    expect((await rawGet('/KBS/v0/resource/default/demo/secret', { cookie })).status).toBe(404);
  });
});

describe('a flood', () => {
  test('a body over 1 MiB is 413 at /auth and /attest', async () => {
    const huge = JSON.stringify({ version: '0.4.0', tee: 'snp', 'extra-params': 'x'.repeat(2 * 1024 * 1024) });
    const auth = await fetch(`${kbs.url}/kbs/v0/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge });
    expect(auth.status).toBe(413);
    const attest = await fetch(`${kbs.url}/kbs/v0/attest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge });
    expect(attest.status).toBe(413);
  });

  test('deeply nested JSON evidence is a 400, not a crash', async () => {
    const { body, cookie } = await handshake(kbs, device);
    const nested = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const text = JSON.stringify({ ...body, 'tee-evidence': { primary_evidence: '__NESTED__', additional_evidence: '' } }).replace('"__NESTED__"', nested);
    const response = await fetch(`${kbs.url}/kbs/v0/attest`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: text });
    expect(response.status).toBe(400);
    expect((await fetch(`${kbs.url}/healthz`)).status).toBe(200);
  });
});

describe('a local user of another uid', () => {
  test('can read nothing in the KBS state directory, and no file there holds a resource in the clear except the resource itself', () => {
    const dir = dirname(kbs.auditFile);
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [join(d, e.name), ...walk(join(d, e.name))] : [join(d, e.name)]));
    const entries = [dir, ...walk(dir)];
    expect(entries.map((e) => e.slice(dir.length))).toEqual(expect.arrayContaining(['/admin-key.pem', '/token-key.pem', '/audit.jsonl', '/resource-policies.json', '/resources']));
    for (const entry of entries) expect([entry, (statSync(entry).mode & 0o077).toString(8)]).toEqual([entry, '0']);
    const holding = entries.filter((e) => statSync(e).isFile() && readFileSync(e).includes(SECRET));
    expect(holding.map((e) => e.slice(dir.length))).toEqual(['/resources/kbs-default-2fdemo-2fsecret']);
  });
});

describe('a slow loris', () => {
  test.each([
    ['headers never finished', 'POST /kbs/v0/auth HTTP/1.1\r\nHost: kbs\r\nX-Slow: '],
    ['a body never finished', 'POST /kbs/v0/auth HTTP/1.1\r\nHost: kbs\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"version":'],
  ])('(%s) is cut off by the server', async (_name, start) => {
    const slow = await startTestKbs(device, { requestTimeoutMs: 1000 });
    try {
      const { hostname, port } = new URL(slow.url);
      const socket = net.connect(Number(port), hostname);
      const answer: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => answer.push(chunk));
      socket.write(start);
      // The client never sends the rest: the server, not the client, ends the connection.
      await new Promise<void>((resolve) => socket.on('close', () => resolve()));
      expect(Buffer.concat(answer).toString('latin1')).toMatch(/^HTTP\/1\.1 4\d\d /);
    } finally {
      await slow.close();
    }
  });
});
