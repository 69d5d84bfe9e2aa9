import { KbsClient } from '../../src/kbs';
import { httpRequest } from '../../src/lib/http';
import { createTlsMaterial } from '../../src/tls/certificates';
import { startTestKbs, virtualGuest, virtualTeePolicy } from './harness';

test('over HTTPS the client trusts the given CA and the session cookie is Secure', async () => {
  const device = await virtualGuest();
  const tls = await createTlsMaterial({ name: 'skr kbs test' });
  const kbs = await startTestKbs(device, { tls });
  try {
    expect(kbs.url).toMatch(/^https:\/\/localhost:\d+$/);
    const client = new KbsClient({ url: kbs.url, device, ca: tls.caPem });
    const auth = await httpRequest(`${kbs.url}/kbs/v0/auth`, { method: 'POST', body: JSON.stringify({ version: '0.4.0', tee: 'snp', 'extra-params': '' }), ca: tls.caPem });
    expect(auth.headers['set-cookie']![0]).toMatch(/; Secure$/);
    // Node's fetch takes no CA: the resource is seeded through the broker itself.
    await kbs.broker.setResource(['default', 'tls', 'secret'], Buffer.from('over tls'), 'test');
    await kbs.broker.setPolicy('default', JSON.parse(virtualTeePolicy(kbs)), 'test');
    expect((await client.getResource('default/tls/secret')).toString()).toBe('over tls');
    await expect(new KbsClient({ url: kbs.url, device }).getResource('default/tls/secret')).rejects.toMatchObject({ code: 'upstream_failed' });
  } finally {
    await kbs.close();
  }
}, 60_000);
