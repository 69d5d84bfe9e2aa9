import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { teePubkeyOf } from '../../src/kbs/tee-pubkey';
import { issueKbsToken, verifyKbsToken } from '../../src/kbs/token';
import { loadOrCreateTokenKey } from '../../src/kbs/token-key';

const ISSUER = 'https://kbs.example';
const NOW = new Date('2026-06-01T00:00:00Z');
const teePubkey = teePubkeyOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ECDH-ES+A256KW');

async function setup() {
  const path = join(mkdtempSync(join(tmpdir(), 'skr-kbs-key-')), 'token-key.pem');
  const key = await loadOrCreateTokenKey(path);
  const token = await issueKbsToken(
    {
      issuer: ISSUER,
      lifetimeSeconds: 300,
      now: NOW,
      snpClaims: { 'x-skr-sevsnpvm-genuine-amd': true, 'x-ms-sevsnpvm-is-debuggable': false },
      reportData: Buffer.alloc(64),
      nonce: 'n',
      teePubkey,
      additionalEvidence: '',
    },
    key,
  );
  return { path, key, token };
}

describe('the KBS attestation token', () => {
  test('the key persists privately and the same key verifies after a reload', async () => {
    const { path, key, token } = await setup();
    expect(statSync(path).mode & 0o077).toBe(0);
    const reloaded = await loadOrCreateTokenKey(path);
    expect(reloaded.kid).toBe(key.kid);
    await expect(verifyKbsToken(token, reloaded, ISSUER, NOW)).resolves.toMatchObject({ teePubkey });
  });

  test('genuine, compliant evidence of a guest that cannot be debugged is affirming', async () => {
    const { key, token } = await setup();
    const { claims } = await verifyKbsToken(token, key, ISSUER, NOW);
    expect((claims.submods as any).cpu0['ear.status']).toBe('affirming');
  });

  test("exp is honoured with trustee's 60 s leeway", async () => {
    const { key, token } = await setup();
    await expect(verifyKbsToken(token, key, ISSUER, new Date(NOW.getTime() + 359_000))).resolves.toBeDefined();
    await expect(verifyKbsToken(token, key, ISSUER, new Date(NOW.getTime() + 361_000))).rejects.toMatchObject({ code: 'kbs_token_invalid' });
  });

  test('another issuer, another key, or no signature is refused', async () => {
    const { key, token } = await setup();
    await expect(verifyKbsToken(token, key, 'https://other.example', NOW)).rejects.toMatchObject({ code: 'kbs_token_invalid' });
    const other = await setup();
    await expect(verifyKbsToken(other.token, key, ISSUER, NOW)).rejects.toMatchObject({ code: 'kbs_token_invalid' });
    const unsigned = new UnsecuredJWT({ iss: ISSUER, exp: 2e9, 'tee-pubkey': teePubkey }).encode();
    await expect(verifyKbsToken(unsigned, key, ISSUER, NOW)).rejects.toMatchObject({ code: 'kbs_token_invalid' });
  });

  test('a token signed by the right key without the tee-pubkey is refused', async () => {
    const { key } = await setup();
    const bare = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setIssuer(ISSUER)
      .setExpirationTime(Math.floor(NOW.getTime() / 1000) + 60)
      .sign(key.privateKey);
    await expect(verifyKbsToken(bare, key, ISSUER, NOW)).rejects.toMatchObject({ code: 'kbs_token_invalid' });
  });
});
