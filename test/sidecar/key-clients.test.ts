import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KeyClients } from '../../src/sidecar/key-clients';

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
    const released = await Promise.all(
      Array.from({ length: 8 }, (_, i) => clients.use(service.url, undefined, async (client) => (await client.releaseKey('k', `attestation-${i}`)).value)),
    );
    expect(released).toEqual(Array.from({ length: 8 }, (_, i) => `released-for-attestation-${i}`));
    expect(service.targets).toHaveLength(8);
  } finally {
    await service.close();
  }
});

test('a caller\'s own access token is what the key service sees, not the sidecar\'s identity', async () => {
  const service = await challengingKeyService();
  try {
    const clients = new KeyClients({ credential: { getToken: async () => ({ token: 'sidecar-identity', expiresOnTimestamp: Date.now() + 3_600_000 }) }, maxRetries: 0 });
    await expect(clients.use(service.url, 'callers-token', async (client) => (await client.releaseKey('k', 'mine')).value)).resolves.toBe('released-for-mine');
    expect(service.bearers).toEqual(['Bearer callers-token']);
  } finally {
    await service.close();
  }
});
