import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { ManagedIdentityCredential } from '@azure/identity';
import type { KeyClient } from '@azure/keyvault-keys';
import type { RunningStack } from '../../src/dev/stack';
import type { RunningSidecar } from '../../src/sidecar/server';
import { startTestSidecar } from '../sidecar/harness';
import { startTestStack } from './stack';

/** A TCP relay to `target` that holds every chunk coming back for `delayMs`: key service calls stay in flight that long. */
async function slowRelay(target: string, delayMs: number): Promise<{ url: string; close(): void }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => setTimeout(() => client.write(chunk), delayMs));
    upstream.on('end', () => setTimeout(() => client.end(), delayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * Identical releases asked together share key service calls (SharedNextCall), and a key
 * disabled at the KMS applies to every release asked after the disable was acknowledged: none
 * of them is answered by a call that was already in flight.
 */
describe('releases of one key from many callers at once', () => {
  let stack: RunningStack;
  let keys: KeyClient;
  let relay: Awaited<ReturnType<typeof slowRelay>>;
  let sidecar: RunningSidecar;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

  beforeAll(async () => {
    ({ stack, keys } = await startTestStack());
    const { releasePolicy } = (await keys.getKey('demo')).properties;
    await keys.createOctKey('joined', { hsm: true, keySize: 256, exportable: true, releasePolicy: { encodedPolicy: releasePolicy!.encodedPolicy } });
    // A sidecar of the same virtual TEE whose calls to the KMS take 400 ms to come back.
    relay = await slowRelay(stack.kms.url, 400);
    sidecar = await startTestSidecar(
      { 'state-dir': stack.stateDir, 'maa-endpoint': stack.verifier.url, 'akv-endpoint': relay.url },
      { caPems: [stack.kms.caPem], credential: new ManagedIdentityCredential() },
    );
  });
  afterAll(async () => {
    agent.destroy();
    await sidecar?.close();
    relay?.close();
    await stack?.close();
  });

  function release(kid: string): Promise<{ status: number; key?: string }> {
    return new Promise((resolve, reject) => {
      const body = JSON.stringify({ kid });
      const req = http.request(`${sidecar.url}/key/release`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, key: (JSON.parse(Buffer.concat(chunks).toString()) as { key?: string }).key }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  test('32 callers at once all get the key', async () => {
    const answers = await Promise.all(Array.from({ length: 32 }, () => release('joined')));
    expect(answers.map((a) => a.status)).toEqual(Array(32).fill(200));
    expect(new Set(answers.map((a) => JSON.parse(a.key!).k)).size).toBe(1);
  });

  test('after a disable is acknowledged, no release asked later is granted, though a release was in flight when it came', async () => {
    // A release goes out; its call reaches the KMS and is decided, but its answer takes 400 ms
    // to come back. The key is disabled meanwhile, and releases asked after that must not share
    // the answer still on its way: they wait for a call of their own, which the KMS refuses.
    const inFlight = release('joined');
    await new Promise((r) => setTimeout(r, 100));
    await keys.updateKeyProperties('joined', { enabled: false });
    const later = await Promise.all(Array.from({ length: 8 }, () => release('joined')));
    expect(later.map((a) => a.status)).toEqual(Array(8).fill(403));
    // Asked before the disable: either answer is right, as long as it is one.
    expect([200, 403]).toContain((await inFlight).status);
  });
});
