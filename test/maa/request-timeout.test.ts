import net from 'node:net';
import type { RunningVerifier } from '../../src/maa/service/server';
import { startTestVerifier } from './verifier-harness';

/**
 * A slow loris at the verifier: a client that sends its headers a few bytes at a time, never
 * finishing them, is cut off once the request timeout has passed, with a 408 in the verifier's
 * envelope — not left holding the connection for Node's default five minutes.
 */
let verifier: RunningVerifier;

beforeAll(async () => {
  verifier = await startTestVerifier({ requestTimeoutMs: 1000 });
});

afterAll(async () => {
  await verifier?.close();
});

test('headers trickled in and never finished are answered 408 request_timeout and the connection closed', async () => {
  const { port } = new URL(verifier.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  const answer: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => answer.push(chunk));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write('GET /.well-known/openid-configuration HTTP/1.1\r\nHost: verifier\r\n');
  // One header byte at a time, each sooner than any idle timeout would notice, for as long as the socket is open.
  const trickle = setInterval(() => {
    if (socket.writable) socket.write('X');
  }, 100);
  await closed;
  clearInterval(trickle);
  const text = Buffer.concat(answer).toString('latin1');
  expect(text).toMatch(/^HTTP\/1\.1 408 /);
  expect(JSON.parse(text.split('\r\n\r\n')[1]!)).toEqual({ error: { code: 'request_timeout', message: 'the request did not arrive in time' } });
});

test('a request sent whole is still answered', async () => {
  expect((await fetch(`${verifier.url}/.well-known/openid-configuration`)).status).toBe(200);
});
