import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, SignJWT, type JWTPayload } from 'jose';
import { CLOCK_SKEW_SECONDS, REFETCH_INTERVAL_MS, TokenVerifier } from '../../src/oidc';
import { createTlsMaterial } from '../../src/tls/certificates';

/**
 * The token verifier against a local HTTPS OpenID issuer that counts the requests it gets:
 * required time claims, the clock skew at its boundary, and how often unknown kids make it
 * fetch the issuer's keys.
 */
interface CountingIssuer {
  url: string;
  caPem: string;
  key: KeyObject;
  requests: { discovery: number; jwks: number };
  /** Holds every answer until released, so concurrent callers overlap one fetch. */
  hold(): () => void;
  /** While true, every request is answered 503 (and still counted). */
  failing: boolean;
  close(): Promise<void>;
}

async function startCountingIssuer(): Promise<CountingIssuer> {
  const tls = await createTlsMaterial({ name: 'token verifier test issuer' });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig' };
  const requests = { discovery: 0, jwks: 0 };
  let gate: Promise<void> = Promise.resolve();
  let url = '';
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    void gate.then(() => {
      res.setHeader('content-type', 'application/json');
      if (issuer.failing) {
        if (req.url === '/.well-known/openid-configuration') requests.discovery++;
        else requests.jwks++;
        res.writeHead(503).end('{}');
      } else if (req.url === '/.well-known/openid-configuration') {
        requests.discovery++;
        res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/keys` }));
      } else if (req.url === '/keys') {
        requests.jwks++;
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.writeHead(404).end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://localhost:${(server.address() as AddressInfo).port}`;
  const issuer: CountingIssuer = {
    failing: false,
    url,
    caPem: tls.caPem,
    key: privateKey,
    requests,
    hold: () => {
      let release!: () => void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return issuer;
}

let issuer: CountingIssuer;
beforeAll(async () => {
  issuer = await startCountingIssuer();
});
afterAll(() => issuer.close());

const T0 = Date.UTC(2026, 0, 1) / 1000;

function mint(claims: JWTPayload, kid = 'k1', key: KeyObject = issuer.key): Promise<string> {
  return new SignJWT({ iss: issuer.url, ...claims }).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
}

function verifierAt(clock: { seconds: number }): TokenVerifier {
  return new TokenVerifier({ trustedIssuers: [issuer.url], ca: [issuer.caPem], now: () => new Date(clock.seconds * 1000) });
}

describe('time claims', () => {
  test.each([
    ['exp', { iat: T0 }],
    ['iat', { exp: T0 + 600 }],
  ])('a token without %s is refused', async (claim, claims) => {
    await expect(verifierAt({ seconds: T0 }).verify(await mint(claims))).rejects.toMatchObject({ code: 'token_invalid', details: { claim } });
  });

  test(`the skew is ${CLOCK_SKEW_SECONDS} s: accepted until then past exp, refused at it and 60 s past`, async () => {
    const token = await mint({ iat: T0, exp: T0 + 600 });
    const exp = T0 + 600;
    await expect(verifierAt({ seconds: exp + CLOCK_SKEW_SECONDS - 0.001 }).verify(token)).resolves.toMatchObject({ exp });
    await expect(verifierAt({ seconds: exp + CLOCK_SKEW_SECONDS }).verify(token)).rejects.toMatchObject({ code: 'token_invalid', message: 'the token expired' });
    await expect(verifierAt({ seconds: exp + 60 }).verify(token)).rejects.toMatchObject({ code: 'token_invalid', message: 'the token expired' });
  });

  test('a remembered token is refused from the same instant a fresh verify would refuse it', async () => {
    const clock = { seconds: T0 };
    const tokens = verifierAt(clock);
    const token = await mint({ iat: T0, exp: T0 + 60 });
    await tokens.verify(token);
    clock.seconds = T0 + 60 + CLOCK_SKEW_SECONDS - 0.001;
    expect(tokens.remembered(token)).toBeDefined();
    clock.seconds = T0 + 60 + CLOCK_SKEW_SECONDS;
    expect(tokens.remembered(token)).toBeUndefined();
    await expect(tokens.verify(token)).rejects.toMatchObject({ message: 'the token expired' });
  });

  test('nbf and iat in the future are accepted within the skew and refused beyond it', async () => {
    const early = await mint({ iat: T0, nbf: T0 + CLOCK_SKEW_SECONDS + 1, exp: T0 + 600 });
    await expect(verifierAt({ seconds: T0 + 1 }).verify(early)).resolves.toBeDefined();
    await expect(verifierAt({ seconds: T0 }).verify(early)).rejects.toMatchObject({ message: 'the token is not yet valid' });
    const future = await mint({ iat: T0 + CLOCK_SKEW_SECONDS + 1, exp: T0 + 600 });
    await expect(verifierAt({ seconds: T0 + 1 }).verify(future)).resolves.toBeDefined();
    await expect(verifierAt({ seconds: T0 }).verify(future)).rejects.toMatchObject({ message: 'the token was issued in the future' });
  });
});

describe('unknown kids', () => {
  const valid = (kid: string) => mint({ iat: T0, exp: T0 + 3600 }, kid);
  const fetches = () => ({ ...issuer.requests });
  const since = (before: { discovery: number; jwks: number }) => ({ discovery: issuer.requests.discovery - before.discovery, jwks: issuer.requests.jwks - before.jwks });

  test(`an unknown kid refetches the keys at most once per ${REFETCH_INTERVAL_MS / 1000} s; misses within the interval fetch nothing`, async () => {
    const clock = { seconds: T0 };
    const tokens = verifierAt(clock);
    const before = fetches();
    await tokens.verify(await valid('k1'));
    expect(since(before)).toEqual({ discovery: 1, jwks: 1 });
    // Right after a fetch: refused, no fetch.
    for (const kid of ['rotated', 'other', 'rotated']) await expect(tokens.verify(await valid(kid))).rejects.toMatchObject({ message: 'the token key is not published by its issuer' });
    expect(since(before)).toEqual({ discovery: 1, jwks: 1 });
    clock.seconds += REFETCH_INTERVAL_MS / 1000 - 1;
    await expect(tokens.verify(await valid('rotated'))).rejects.toMatchObject({ code: 'token_invalid' });
    expect(since(before)).toEqual({ discovery: 1, jwks: 1 });
    // The interval passed: one refetch, then misses are remembered again.
    clock.seconds += 1;
    await expect(tokens.verify(await valid('rotated'))).rejects.toMatchObject({ code: 'token_invalid' });
    expect(since(before)).toEqual({ discovery: 2, jwks: 2 });
    await expect(tokens.verify(await valid('third'))).rejects.toMatchObject({ code: 'token_invalid' });
    expect(since(before)).toEqual({ discovery: 2, jwks: 2 });
    // The known key still verifies without a fetch.
    await expect(tokens.verify(await mint({ iat: T0, exp: T0 + 3600, n: 1 }))).resolves.toBeDefined();
    expect(since(before)).toEqual({ discovery: 2, jwks: 2 });
  });

  test('concurrent tokens with unknown kids share one fetch', async () => {
    const clock = { seconds: T0 };
    const tokens = verifierAt(clock);
    const before = fetches();
    const forged = await Promise.all(Array.from({ length: 16 }, (_, i) => valid(`unknown-${i}`)));
    const release = issuer.hold();
    const results = Promise.allSettled(forged.map((t) => tokens.verify(t)));
    release();
    expect((await results).every((r) => r.status === 'rejected')).toBe(true);
    expect(since(before)).toEqual({ discovery: 1, jwks: 1 });

    // Past the interval, a burst again makes one refetch.
    clock.seconds += REFETCH_INTERVAL_MS / 1000;
    const again = issuer.hold();
    const burst = Promise.allSettled(forged.map((t) => tokens.verify(t)));
    again();
    expect((await burst).every((r) => r.status === 'rejected')).toBe(true);
    expect(since(before)).toEqual({ discovery: 2, jwks: 2 });
  });
});

describe('an issuer that fails', () => {
  const RETRIES = 3;
  const valid = (kid = 'k1') => mint({ iat: T0, exp: T0 + 3600 }, kid);
  const discoveries = () => issuer.requests.discovery;
  afterEach(() => {
    issuer.failing = false;
  });

  test(`a failed fetch is remembered for ${REFETCH_INTERVAL_MS / 1000} s: sequential and concurrent tokens fetch nothing more`, async () => {
    const clock = { seconds: T0 };
    const tokens = new TokenVerifier({
      trustedIssuers: [issuer.url],
      ca: [issuer.caPem],
      now: () => new Date(clock.seconds * 1000),
      retry: { retries: RETRIES, baseDelayMs: 1, maxDelayMs: 1 },
    });
    issuer.failing = true;
    const before = discoveries();
    // One fetch with its retries...
    await expect(tokens.verify(await valid())).rejects.toMatchObject({ code: 'token_invalid', message: expect.stringContaining('HTTP 503') });
    expect(discoveries() - before).toBe(1 + RETRIES);
    // ...then 20 sequential tokens (known and unknown kids) and 50 concurrent ones fetch nothing.
    for (let i = 0; i < 20; i++) {
      await expect(tokens.verify(await valid(i % 2 ? 'k1' : `unknown-${i}`))).rejects.toMatchObject({ code: 'token_invalid', message: expect.stringContaining('HTTP 503') });
    }
    const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => valid(`burst-${i}`)));
    expect((await Promise.allSettled(burst.map((t) => tokens.verify(t)))).every((r) => r.status === 'rejected')).toBe(true);
    expect(discoveries() - before).toBe(1 + RETRIES);

    // The issuer recovers: still refused without a fetch until the interval has passed.
    issuer.failing = false;
    clock.seconds += REFETCH_INTERVAL_MS / 1000 - 1;
    await expect(tokens.verify(await valid())).rejects.toMatchObject({ code: 'token_invalid' });
    expect(discoveries() - before).toBe(1 + RETRIES);
    clock.seconds += 1;
    await expect(tokens.verify(await valid())).resolves.toMatchObject({ iss: issuer.url });
    expect(discoveries() - before).toBe(2 + RETRIES);
  });

  test('concurrent tokens while the issuer fails share one fetch', async () => {
    const tokens = new TokenVerifier({ trustedIssuers: [issuer.url], ca: [issuer.caPem], now: () => new Date(T0 * 1000), retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 } });
    issuer.failing = true;
    const before = discoveries();
    const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => valid(`c-${i}`)));
    const release = issuer.hold();
    const results = Promise.allSettled(burst.map((t) => tokens.verify(t)));
    release();
    expect((await results).every((r) => r.status === 'rejected')).toBe(true);
    expect(discoveries() - before).toBe(1);
  });
});
