import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { InvalidRequest, type SkrError } from '../../src/errors';
import { answerUnparsableRequests, errorHandler, type ErrorEnvelope } from '../../src/lib/http-errors';
import { requestTimeouts } from '../../src/lib/request-timeouts';

async function server() {
  const s = http.createServer((_req, res) => res.end('routed'));
  answerUnparsableRequests(s, (status, message) => ({ error: message, code: status === 431 ? 'headers_too_large' : 'invalid_request' }));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { port: (s.address() as AddressInfo).port, close: () => new Promise((r) => s.close(r)) };
}

/** Sends raw bytes and reads the whole answer. */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

test("headers over the limit: 431 in the service's JSON envelope; a malformed request line: 400", async () => {
  const s = await server();
  try {
    const huge = await exchange(s.port, `GET / HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${'A'.repeat(70_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(huge.split('\r\n\r\n')[1]!)).toEqual({ error: 'the request headers are too large', code: 'headers_too_large' });
    const garbled = await exchange(s.port, 'NOT A REQUEST\r\n\r\n');
    expect(garbled).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbled.split('\r\n\r\n')[1]!)).toEqual({ error: 'the request cannot be parsed', code: 'invalid_request' });
    expect(await exchange(s.port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n')).toMatch(/routed$/);
  } finally {
    await s.close();
  }
});

describe("one mapper for what the JSON body parser refuses, in the service's own envelope", () => {
  const envelope: ErrorEnvelope = {
    send: (res, error) => {
      const skr = error as SkrError;
      res.status(skr.status).json({ failure: skr.code, status: skr.status });
    },
    invalid: (message) => new InvalidRequest(message),
  };
  const app = express();
  app.use(express.json({ limit: 100, type: () => true }));
  app.post('/', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(errorHandler(envelope, 100));

  test.each<[string, Record<string, string>, string, number, string]>([
    ['not JSON', {}, '{oops', 400, 'invalid_request'],
    ['an unsupported charset', { 'content-type': 'application/json; charset=koi8-r' }, '{}', 400, 'invalid_request'],
    ['an unknown Content-Encoding', { 'content-encoding': 'x-unknown' }, '{}', 400, 'invalid_request'],
    ['a body over the limit', {}, JSON.stringify({ pad: 'x'.repeat(200) }), 413, 'body_too_large'],
    ['a gzip body that does not inflate', { 'content-encoding': 'gzip' }, 'not gzip', 400, 'invalid_request'],
  ])('%s', async (_name, headers, body, status, code) => {
    const res = await request(app).post('/').set(headers).send(body);
    expect(res.body).toEqual({ failure: code, status });
    expect(res.status).toBe(status);
  });
});

test('a request that does not arrive within the request timeout: 408 request_timeout, not a parse error', async () => {
  const s = http.createServer({ ...requestTimeouts(500) }, (_req, res) => res.end('routed'));
  answerUnparsableRequests(s, (status, message, code) => ({ error: message, code, status }));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = s.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: x\r\nx-slow: '));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.split('\r\n\r\n')[1]!)).toEqual({ error: 'the request did not arrive in time', code: 'request_timeout', status: 408 });
  } finally {
    await new Promise((r) => s.close(r));
  }
});
