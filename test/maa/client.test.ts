import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { MaaClient } from '../../src/maa/client';
import type { RunningVerifier } from '../../src/maa/service/server';
import { TokenVerifier } from '../../src/oidc/token-verifier';
import { reportDataFor } from '../../src/snp';
import type { VirtualDevice } from '../../src/snp/device/virtual';
import { startTestVerifier } from './verifier-harness';
import { chainPem, virtualGuest } from './virtual-evidence';

const noWait = { retries: 3, baseDelayMs: 1, maxDelayMs: 5, sleep: async () => undefined };

/** A loopback proxy in front of the verifier that answers `failures` requests to /attest with `status` first. */
async function flakyProxy(target: string, failures: number, status: number) {
  let attestCalls = 0;
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/attest') && attestCalls++ < failures) {
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' }).end('{"error":{"code":"busy","message":"try later"}}');
      return;
    }
    const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => attestCalls, close: () => new Promise((r) => server.close(r)) };
}

describe('MaaClient', () => {
  let guest: VirtualDevice;
  let verifier: RunningVerifier;
  beforeAll(async () => {
    guest = await virtualGuest();
    verifier = await startTestVerifier({ trustedRoots: [guest.pki.root], policyText: '{"requireFreshness": true}' });
  });
  afterAll(() => verifier.close());

  function evidenceSource(counter: { n: number }) {
    return async (runtimeData: Buffer) => {
      counter.n++;
      const { report } = await guest.getReport({ reportData: reportDataFor(runtimeData) });
      return { report, vcekCertChain: chainPem(guest) };
    };
  }

  const client = (endpoint = verifier.issuer) => new MaaClient({ verifier: new TokenVerifier({ trustedIssuers: [endpoint] }), retry: noWait });

  test('uses the advertised challenge, verifies the token, and caches it per runtime data', async () => {
    const maa = client();
    const counter = { n: 0 };
    const runtime = { keys: [{ kid: 'a' }] };
    const first = await maa.attest(verifier.url, runtime, evidenceSource(counter));
    expect(first.claims['x-skr-challenge-verified']).toBe(true);
    expect((first.claims['x-ms-runtime'] as { nonce: string }).nonce).toEqual(expect.any(String));
    const again = await maa.attest(verifier.url, runtime, evidenceSource(counter));
    expect(again.token).toBe(first.token);
    expect(counter.n).toBe(1);
    const other = await maa.attest(verifier.url, { keys: [{ kid: 'b' }] }, evidenceSource(counter));
    expect(other.token).not.toBe(first.token);
    expect(counter.n).toBe(2);
  });

  test('without token caching (freshPerRelease) every call attests afresh', async () => {
    const maa = new MaaClient({ verifier: new TokenVerifier({ trustedIssuers: [verifier.issuer] }), retry: noWait, cacheTokens: false });
    const counter = { n: 0 };
    const runtime = { keys: [{ kid: 'fresh' }] };
    const tokens = [];
    for (let i = 0; i < 3; i++) tokens.push((await maa.attest(verifier.url, runtime, evidenceSource(counter))).token);
    expect(counter.n).toBe(3);
    expect(new Set(tokens).size).toBe(3);
  });

  test('the token cache is bounded: callers choose the runtime data of /attest/maa', async () => {
    const maa = client();
    const counter = { n: 0 };
    for (let i = 0; i < 300; i++) await maa.attest(verifier.url, { app: i }, evidenceSource(counter));
    expect(counter.n).toBe(300);
    // The newest are kept, the oldest went: asking for the first again attests again, the last does not.
    await maa.attest(verifier.url, { app: 299 }, evidenceSource(counter));
    expect(counter.n).toBe(300);
    await maa.attest(verifier.url, { app: 0 }, evidenceSource(counter));
    expect(counter.n).toBe(301);
  });

  test('concurrent callers for the same runtime data share one attestation', async () => {
    const maa = client();
    const counter = { n: 0 };
    const results = await Promise.all(Array.from({ length: 8 }, () => maa.attest(verifier.url, { keys: [] }, evidenceSource(counter))));
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(counter.n).toBe(1);
  });

  test('a token near its expiry is not reused', async () => {
    let now = Date.now();
    const maa = new MaaClient({ verifier: new TokenVerifier({ trustedIssuers: [verifier.issuer] }), retry: noWait, now: () => new Date(now) });
    const counter = { n: 0 };
    await maa.attest(verifier.url, { keys: [1] }, evidenceSource(counter));
    now += 8 * 3600 * 1000 - 60_000; // inside the refresh margin
    await maa.attest(verifier.url, { keys: [1] }, evidenceSource(counter)).catch(() => undefined);
    expect(counter.n).toBe(2);
  });

  test('retries 503 and 429, then succeeds', async () => {
    // Behind a proxy the challenge endpoint is on another origin, so the client sends no nonce:
    // this verifier does not require one.
    const open = await startTestVerifier({ trustedRoots: [guest.pki.root] });
    try {
      for (const status of [503, 429]) {
        const proxy = await flakyProxy(open.url, 2, status);
        try {
          const token = await client(open.issuer).attest(proxy.url, { keys: [status] }, evidenceSource({ n: 0 }));
          expect(token.claims['x-ms-attestation-type']).toBe('sevsnpvm');
          expect(proxy.calls()).toBe(3);
        } finally {
          await proxy.close();
        }
      }
    } finally {
      await open.close();
    }
  });

  test('never retries a refusal: the verifier code is carried, status kept', async () => {
    const proxy = await flakyProxy(verifier.url, 1, 400);
    try {
      await expect(client().attest(proxy.url, { keys: ['x'] }, evidenceSource({ n: 0 }))).rejects.toMatchObject({
        code: 'upstream_rejected',
        status: 400,
        details: expect.objectContaining({ upstreamCode: 'busy' }),
      });
      expect(proxy.calls()).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  test('a verifier that stays down: upstream_failed after the retries', async () => {
    const proxy = await flakyProxy(verifier.url, 100, 503);
    try {
      await expect(client().attest(proxy.url, { keys: ['y'] }, evidenceSource({ n: 0 }))).rejects.toMatchObject({ code: 'upstream_failed', status: 502 });
      expect(proxy.calls()).toBe(4);
    } finally {
      await proxy.close();
    }
  });

  test('nothing listening: upstream_failed; endpoints must be https or loopback', async () => {
    await expect(client('http://127.0.0.1:1').attest('http://127.0.0.1:1', {}, evidenceSource({ n: 0 }))).rejects.toMatchObject({ code: 'upstream_failed' });
    await expect(client().attest('http://example.com', {}, evidenceSource({ n: 0 }))).rejects.toMatchObject({ code: 'invalid_argument' });
  });
});

describe('TokenVerifier refuses forged tokens', () => {
  let guest: VirtualDevice;
  let verifier: RunningVerifier;
  let genuineToken: string;
  beforeAll(async () => {
    guest = await virtualGuest();
    verifier = await startTestVerifier({ trustedRoots: [guest.pki.root] });
    const maa = new MaaClient({ verifier: new TokenVerifier(), retry: noWait });
    genuineToken = (
      await maa.attest(verifier.url, { keys: [] }, async (data) => ({
        report: (await guest.getReport({ reportData: reportDataFor(data) })).report,
        vcekCertChain: chainPem(guest),
      }))
    ).token;
  });
  afterAll(() => verifier.close());

  const tokens = () => new TokenVerifier({ trustedIssuers: [verifier.issuer] });
  const kid = () => JSON.parse(Buffer.from(genuineToken.split('.')[0]!, 'base64url').toString()).kid as string;
  const payload = () => JSON.parse(Buffer.from(genuineToken.split('.')[1]!, 'base64url').toString());

  test('the genuine token verifies', async () => {
    await expect(tokens().verify(genuineToken)).resolves.toMatchObject({ iss: verifier.issuer });
  });

  test.each([
    ['alg none', () => `${Buffer.from(JSON.stringify({ alg: 'none', kid: kid() })).toString('base64url')}.${genuineToken.split('.')[1]}.`],
    [
      'a tampered payload',
      () => {
        const [h, , s] = genuineToken.split('.');
        return `${h}.${Buffer.from(JSON.stringify({ ...payload(), 'x-ms-sevsnpvm-is-debuggable': true })).toString('base64url')}.${s}`;
      },
    ],
  ])('%s', async (_name, forge) => {
    await expect(tokens().verify(forge())).rejects.toMatchObject({ code: 'token_invalid' });
  });

  test('a verified token is remembered, frozen, and still refused once it expires', async () => {
    let now = Date.now();
    const remembering = new TokenVerifier({ trustedIssuers: [verifier.issuer], now: () => new Date(now) });
    const claims = await remembering.verify(genuineToken);
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims['x-ms-runtime'])).toBe(true);
    await expect(remembering.verify(genuineToken)).resolves.toBe(claims);
    // A changed byte is another token: verified afresh, and refused.
    const [h, p, s] = genuineToken.split('.');
    await expect(remembering.verify(`${h}.${p}.${s!.startsWith('A') ? 'B' : 'A'}${s!.slice(1)}`)).rejects.toMatchObject({ code: 'token_invalid' });
    now = ((claims.exp as number) + 61) * 1000;
    await expect(remembering.verify(genuineToken)).rejects.toMatchObject({ code: 'token_invalid', message: expect.stringContaining('expired') });
  });

  test('HS256 keyed with the public certificate, a foreign key with the same kid, an expired token, an untrusted issuer', async () => {
    const certs = (await (await fetch(`${verifier.url}/certs`)).json()) as { keys: { x5c: string[] }[] };
    const hs = await new SignJWT(payload()).setProtectedHeader({ alg: 'HS256', kid: kid() }).sign(Buffer.from(certs.keys[0]!.x5c[0]!));
    await expect(tokens().verify(hs)).rejects.toMatchObject({ code: 'token_invalid' });

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const foreign = await new SignJWT(payload()).setProtectedHeader({ alg: 'RS256', kid: kid() }).sign(privateKey);
    await expect(tokens().verify(foreign)).rejects.toMatchObject({ code: 'token_invalid' });

    const late = new TokenVerifier({ trustedIssuers: [verifier.issuer], now: () => new Date(Date.now() + 9 * 3600 * 1000) });
    await expect(late.verify(genuineToken)).rejects.toMatchObject({ code: 'token_invalid', message: expect.stringContaining('expired') });

    const elsewhere = new TokenVerifier({ trustedIssuers: ['https://sharedeus2.eus2.attest.azure.net'] });
    await expect(elsewhere.verify(genuineToken)).rejects.toMatchObject({ code: 'token_invalid', message: expect.stringContaining('not trusted') });
  });

  test('an issuer whose discovery points its keys at another origin is refused', async () => {
    const rogue = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(req.url === '/.well-known/openid-configuration' ? { jwks_uri: `${verifier.url}/certs` } : {}));
    });
    await new Promise<void>((r) => rogue.listen(0, '127.0.0.1', r));
    const issuer = `http://127.0.0.1:${(rogue.address() as AddressInfo).port}`;
    try {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: kid() }).setIssuer(issuer).sign(privateKey);
      await expect(new TokenVerifier().verify(token)).rejects.toMatchObject({ code: 'token_invalid', message: expect.stringContaining('jwks_uri') });
    } finally {
      await new Promise((r) => rogue.close(r));
    }
  });
});

test('over HTTPS with the generated CA: the client trusts it only when given', async () => {
  const guest = await virtualGuest();
  const verifier = await startTestVerifier({ http: false, trustedRoots: [guest.pki.root] });
  try {
    expect(verifier.url).toMatch(/^https:\/\/localhost:/);
    const source = async (data: Buffer) => ({ report: (await guest.getReport({ reportData: reportDataFor(data) })).report, vcekCertChain: chainPem(guest) });
    const trusting = new MaaClient({ ca: [verifier.caPem!], verifier: new TokenVerifier({ ca: [verifier.caPem!] }), retry: noWait });
    await expect(trusting.attest(verifier.url, { keys: [] }, source)).resolves.toMatchObject({ claims: expect.objectContaining({ iss: verifier.issuer }) });
    const strangers = new MaaClient({ verifier: new TokenVerifier(), retry: noWait });
    await expect(strangers.attest(verifier.url, { keys: [] }, source)).rejects.toMatchObject({ code: 'upstream_failed' });
  } finally {
    await verifier.close();
  }
});
