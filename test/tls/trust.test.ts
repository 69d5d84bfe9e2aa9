import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { rootCertificates } from 'node:tls';
import { httpRequest } from '../../src/lib/http';
import { createTlsMaterial, type TlsMaterial } from '../../src/tls/certificates';
import { outboundTrust, splitCaBundle } from '../../src/tls/trust';

let tls: TlsMaterial;
let server: https.Server;
let url: string;

beforeAll(async () => {
  tls = await createTlsMaterial({ name: 'trust test' });
  server = https.createServer({ cert: tls.certPem, key: tls.keyPem }, (_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('a --ca-file CA is added to the root store, not put in its place', () => {
  const trust = outboundTrust([tls.caPem]);
  expect(trust.ca).toEqual(expect.arrayContaining([...rootCertificates]));
  expect(trust.ca).toContain(tls.caPem.trim());
});

test('the trust is built once per CA set', () => {
  expect(outboundTrust([tls.caPem])).toBe(outboundTrust([tls.caPem]));
});

test('a bundle of two certificates gives both', () => {
  expect(splitCaBundle(`${rootCertificates[0]}\n${tls.caPem}`, 'bundle')).toHaveLength(2);
});

test.each([
  ['no certificate', 'not a pem'],
  ['a certificate that does not parse', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'],
])('a CA file with %s is refused', (_name, text) => {
  expect(() => splitCaBundle(text, '--ca-file')).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
});

test('an https request trusts the given CA, and without it refuses the server', async () => {
  expect((await httpRequest(url, { ca: [tls.caPem] })).body.toString()).toBe('ok');
  await expect(httpRequest(url)).rejects.toThrow(/self-signed|unable to (get|verify)/);
});
