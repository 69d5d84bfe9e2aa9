import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KbsClient, type RunningKbs } from '../../src/kbs';
import type { VirtualDevice } from '../../src/snp/device/virtual';
import { admin, startTestKbs, virtualGuest, virtualTeePolicy } from './harness';

/**
 * The sidecar's KBS client facing a KBS answer tampered with on the way (a proxy between them that
 * rewrites the resource's JWE): the client must never hand back bytes that did not decrypt, and
 * must name the KBS as the one at fault (502), not the caller (400) nor itself (500).
 */
let device: VirtualDevice;
let kbs: RunningKbs;
let proxy: http.Server;
let proxyUrl: string;
let tamper: (jwe: Record<string, string>) => unknown = (jwe) => jwe;

beforeAll(async () => {
  device = await virtualGuest();
  kbs = await startTestKbs(device, { authPerMinute: 1000 });
  expect((await admin(kbs, 'POST', '/kbs/v0/resource/default/demo/secret', Buffer.from('genuine'))).status).toBe(200);
  expect((await admin(kbs, 'PUT', '/kbs/v0/resource-policy/default', virtualTeePolicy(kbs))).status).toBe(200);
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = http.request(`${kbs.url}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (c: Buffer) => parts.push(c));
        answer.on('end', () => {
          let body = Buffer.concat(parts);
          if (req.url!.startsWith('/kbs/v0/resource/') && answer.statusCode === 200) body = Buffer.from(JSON.stringify(tamper(JSON.parse(body.toString('utf8')))));
          const headers = { ...answer.headers, 'content-length': String(body.length) };
          res.writeHead(answer.statusCode!, headers).end(body);
        });
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await kbs?.close();
});

const flip = (b64url: string) => {
  const bytes = Buffer.from(b64url, 'base64url');
  bytes[0]! ^= 0x01;
  return bytes.toString('base64url');
};

test('through the untouched proxy the resource arrives (the tampering below is the only difference)', async () => {
  tamper = (jwe) => jwe;
  expect((await new KbsClient({ url: proxyUrl, device }).getResource('default/demo/secret')).toString()).toBe('genuine');
});

test.each([
  ['a flipped ciphertext byte', (jwe: Record<string, string>) => ({ ...jwe, ciphertext: flip(jwe.ciphertext!) })],
  ['a flipped tag byte', (jwe: Record<string, string>) => ({ ...jwe, tag: flip(jwe.tag!) })],
  ['a flipped wrapped key byte', (jwe: Record<string, string>) => ({ ...jwe, encrypted_key: flip(jwe.encrypted_key!) })],
  ['a protected header with another enc', (jwe: Record<string, string>) => ({ ...jwe, protected: Buffer.from(JSON.stringify({ alg: 'ECDH-ES+A256KW', enc: 'A128GCM' })).toString('base64url') })],
  ['not a JWE at all', () => ['not', 'a', 'jwe']],
])('%s is 502 upstream_failed from the client, never bytes', async (_name, change) => {
  tamper = change;
  await expect(new KbsClient({ url: proxyUrl, device }).getResource('default/demo/secret')).rejects.toMatchObject({ code: 'upstream_failed', status: 502 });
});
