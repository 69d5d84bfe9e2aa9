import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GetTokenOptions } from '@azure/core-auth';
import { boundedCredential, KeyClients } from '../../src/sidecar/key-clients';

/**
 * A key service that answers the SDK's body-less first request (its challenge probe) slowly,
 * and every other unauthenticated request at once: the order in which concurrent first calls
 * learn the challenge is then fixed, and a call whose body the SDK lost shows as a release
 * without a target.
 */
async function challengingKeyService() {
  const targets: (string | undefined)[] = [];
  const bearers: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (!req.headers.authorization) {
        const challenge = () =>
          res
            .writeHead(401, { 'www-authenticate': 'Bearer authorization="https://login.example/tenant", resource="https://vault.azure.net"', 'content-type': 'application/json' })
            .end('{"error":{"code":"Unauthorized","message":"challenge"}}');
        if (body === '') setTimeout(challenge, 300);
        else challenge();
        return;
      }
      bearers.push(String(req.headers.authorization));
      const target = body ? (JSON.parse(body) as { target?: string }).target : undefined;
      targets.push(target);
      if (!target) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"BadParameter","message":"target is required"}}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: `released-for-${target}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, targets, bearers, close: () => new Promise((r) => server.close(r)) };
}

test('concurrent first calls on a new client all reach the key service with their bodies', async () => {
  const service = await challengingKeyService();
  try {
    const clients = new KeyClients({ credential: { getToken: async () => ({ token: 'access', expiresOnTimestamp: Date.now() + 3_600_000 }) }, maxRetries: 0 });
    const released = await Promise.all(Array.from({ length: 8 }, (_, i) => clients.use(service.url, undefined, async (client) => (await client.releaseKey('k', `attestation-${i}`)).value)));
    expect(released).toEqual(Array.from({ length: 8 }, (_, i) => `released-for-attestation-${i}`));
    expect(service.targets).toHaveLength(8);
  } finally {
    await service.close();
  }
});

test("a caller's own access token is what the key service sees, not the sidecar's identity", async () => {
  const service = await challengingKeyService();
  try {
    const clients = new KeyClients({ credential: { getToken: async () => ({ token: 'sidecar-identity', expiresOnTimestamp: Date.now() + 3_600_000 }) }, maxRetries: 0 });
    await expect(clients.use(service.url, 'callers-token', async (client) => (await client.releaseKey('k', 'mine')).value)).resolves.toBe('released-for-mine');
    expect(service.bearers).toEqual(['Bearer callers-token']);
  } finally {
    await service.close();
  }
});

describe('the sidecar credential is bounded by the release deadline', () => {
  const token = { token: 't', expiresOnTimestamp: Date.now() + 3_600_000 };

  test("a credential that never answers: the release ends at its deadline as the identity's 504, not a hang", async () => {
    const hung = boundedCredential({ getToken: () => new Promise(() => undefined) });
    await expect(hung.getToken('s', { abortSignal: AbortSignal.timeout(50) })).rejects.toMatchObject({
      status: 504,
      code: 'upstream_timeout',
      message: 'identity: the identity endpoint did not answer in time',
    });
  });

  test("through the Key Vault SDK: a hung credential fails the call at the call's own timeout", async () => {
    const service = await challengingKeyService();
    try {
      const clients = new KeyClients({ credential: { getToken: () => new Promise(() => undefined) }, maxRetries: 0 });
      const call = clients.use(service.url, undefined, async (client) => (await client.releaseKey('k', 'a', { abortSignal: AbortSignal.timeout(1_000) })).value);
      await expect(call).rejects.toMatchObject({ code: 'upstream_timeout', details: { service: 'identity' } });
    } finally {
      await service.close();
    }
  });

  test('a token or an error in time passes through unchanged', async () => {
    await expect(boundedCredential({ getToken: async () => token }).getToken('s', { abortSignal: AbortSignal.timeout(5_000) })).resolves.toBe(token);
    const failure = new Error('no');
    await expect(
      boundedCredential({
        getToken: async () => {
          throw failure;
        },
      }).getToken('s', { abortSignal: AbortSignal.timeout(5_000) }),
    ).rejects.toBe(failure);
  });

  test("a call with an already-aborted signal (the SDK's background refresh) is not cut short, nor handed the dead signal", async () => {
    const seen: (GetTokenOptions | undefined)[] = [];
    const credential = boundedCredential({
      getToken: async (_s, options) => {
        seen.push(options);
        return token;
      },
    });
    await expect(credential.getToken('s', { abortSignal: AbortSignal.abort() })).resolves.toBe(token);
    expect(seen[0]?.abortSignal).toBeUndefined();
  });
});
