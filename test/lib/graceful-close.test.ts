import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gracefulCloser } from '../../src/lib/graceful-close';

/** A server whose answers take `delayMs`; counts what it finished. */
async function slowServer(delayMs: number) {
  let finished = 0;
  const server = http.createServer((_req, res) => {
    setTimeout(() => {
      res.end('done');
      finished++;
    }, delayMs).unref();
  });
  const close = gracefulCloser(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close, finished: () => finished };
}

test('a request in progress is answered; a new connection after close is refused', async () => {
  const server = await slowServer(300);
  const answer = fetch(server.url).then((r) => r.text());
  await new Promise((r) => setTimeout(r, 50));
  const closing = server.close();
  await expect(answer).resolves.toBe('done');
  await closing;
  expect(server.finished()).toBe(1);
  await expect(fetch(server.url)).rejects.toThrow();
});

test('a request that outlasts the grace period is cut, and close still returns', async () => {
  const server = await slowServer(5_000);
  const answer = fetch(server.url).then(
    () => 'answered',
    () => 'cut',
  );
  await new Promise((r) => setTimeout(r, 50));
  await server.close(100);
  await expect(answer).resolves.toBe('cut');
  expect(server.finished()).toBe(0);
});

test('with nothing in progress, close returns at once', async () => {
  const server = await slowServer(0);
  await expect(fetch(server.url).then((r) => r.text())).resolves.toBe('done');
  await server.close();
});
