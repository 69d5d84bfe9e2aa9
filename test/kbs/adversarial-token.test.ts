import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { teePubkeyOf } from '../../src/kbs/tee-pubkey';
import { issueKbsToken } from '../../src/kbs/token';
import { loadOrCreateTokenKey } from '../../src/kbs/token-key';

/**
 * A foreign TEE whose evidence is genuine but whose guest policy lets the host debug it (read
 * and write its memory): a resource policy that asks for an `affirming` EAR status must not
 * release to it, so the token may not call it affirming.
 */
async function cpu0(snpClaims: Record<string, unknown>): Promise<Record<string, any>> {
  const key = await loadOrCreateTokenKey(join(mkdtempSync(join(tmpdir(), 'skr-kbs-adv-token-')), 'token-key.pem'));
  const teePubkey = teePubkeyOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ECDH-ES+A256KW');
  const token = await issueKbsToken(
    { issuer: 'https://kbs.example', lifetimeSeconds: 300, now: new Date(), snpClaims, reportData: Buffer.alloc(64), nonce: 'n', teePubkey, additionalEvidence: '' },
    key,
  );
  return (decodeJwt(token).submods as any).cpu0;
}

test('genuine evidence of a debuggable guest is a warning, with the configuration component saying why', async () => {
  const claims = await cpu0({ 'x-skr-sevsnpvm-genuine-amd': true, 'x-ms-sevsnpvm-is-debuggable': true });
  expect(claims['ear.status']).toBe('warning');
  expect(claims['ear.trustworthiness-vector']).toMatchObject({ hardware: 2, configuration: 32 });
});

test('evidence that does not say whether the guest is debuggable is not affirming either', async () => {
  expect((await cpu0({ 'x-skr-sevsnpvm-genuine-amd': true }))['ear.status']).toBe('warning');
});

test('genuine, compliant evidence of a guest that cannot be debugged is affirming', async () => {
  const claims = await cpu0({ 'x-skr-sevsnpvm-genuine-amd': true, 'x-ms-sevsnpvm-is-debuggable': false });
  expect(claims['ear.status']).toBe('affirming');
  expect(claims['ear.trustworthiness-vector']).toEqual({ hardware: 2, executables: 2, configuration: 2 });
});
