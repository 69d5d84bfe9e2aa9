import request from 'supertest';
import { startTestStack } from './stack';

// Its own file: @azure/identity caches tokens per process, keyed by the identity endpoint, so
// two stacks with different identities must not share a jest worker's module registry.
test('state survives a restart: the same demo key comes back', async () => {
  const first = await startTestStack();
  const k1 = (await request(first.stack.endpoints.sidecar).post('/key/release?format=object').send({ kid: 'demo' })).body.key.k;
  const dir = first.stack.stateDir;
  await first.stack.close();
  const second = await startTestStack(dir);
  try {
    const k2 = (await request(second.stack.endpoints.sidecar).post('/key/release?format=object').send({ kid: 'demo' })).body.key.k;
    expect(k2).toBe(k1);
  } finally {
    await second.stack.close();
  }
});
