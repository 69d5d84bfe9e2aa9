import { readFile } from 'node:fs/promises';
import { decodeProtectedHeader } from 'jose';
import { startIdentity, type RunningIdentity } from '../../src/identity';
import { issueFor } from '../../src/identity/grant';
import { RING_REREAD_INTERVAL_MS, TokenVerifier } from '../../src/oidc';
import { tempStateDir } from './harness';

/**
 * Identity endpoints started with one state directory (one per KMS replica) are one issuer: the
 * same `iss`, whatever port each listens on, and the same key ring. A relying party holding any
 * one's ring accepts the tokens of all of them, also after one rotated the ring, and refuses a
 * token of another state directory's identity.
 */
const KV = 'https://vault.azure.net/.default';

let clock = Date.parse('2026-11-02T10:00:00Z');
const now = () => new Date(clock);
let shared: Awaited<ReturnType<typeof tempStateDir>>;
let other: Awaited<ReturnType<typeof tempStateDir>>;
let a: RunningIdentity;
let b: RunningIdentity;
let foreign: RunningIdentity;

beforeAll(async () => {
  shared = await tempStateDir();
  other = await tempStateDir();
  // One after the other, as replicas start: the first creates the state the second reads.
  a = await startIdentity({ stateDir: shared.dir, now });
  b = await startIdentity({ stateDir: shared.dir, now });
  foreign = await startIdentity({ stateDir: other.dir, now });
});

afterAll(async () => {
  for (const identity of [a, b, foreign]) await identity?.close();
  await shared.remove();
  await other.remove();
});

/** What the KMS of replica `at` builds: its own identity's ring, and no issuer fetched over the network. */
const relyingParty = (at: RunningIdentity) => new TokenVerifier({ keyRingIssuers: [at.verification], trustedIssuers: [], now });
const officerToken = async (from: RunningIdentity) => (await from.officerCredential.getToken(KV))!.token;
/** An officer token fetched the way a client does: App Service's route with the header file, over HTTP. */
async function fetchedOfficerToken(from: RunningIdentity): Promise<string> {
  const header = await readFile(from.officer.headerFile, 'utf8');
  const res = await fetch(`${from.officer.endpoint}?api-version=2019-08-01&resource=https://vault.azure.net`, { headers: { 'X-IDENTITY-HEADER': header } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

test('the replicas listen apart but issue under one name, the tenant’s, and another state directory’s identity under another', () => {
  expect(a.url).not.toBe(b.url);
  expect(b.issuer).toBe(a.issuer);
  expect(b.tenantId).toBe(a.tenantId);
  expect(foreign.issuer).not.toBe(a.issuer);
});

test('a token from either replica’s endpoint is accepted by both; one of another state directory’s identity by neither', async () => {
  const fromA = await fetchedOfficerToken(a);
  const fromB = await fetchedOfficerToken(b);
  for (const at of [a, b]) {
    await expect(relyingParty(at).verify(fromA)).resolves.toMatchObject({ iss: a.issuer, oid: a.officerPrincipal.objectId });
    await expect(relyingParty(at).verify(fromB)).resolves.toMatchObject({ iss: a.issuer, oid: a.officerPrincipal.objectId });
    await expect(relyingParty(at).verify(await fetchedOfficerToken(foreign))).rejects.toMatchObject({ code: 'token_invalid', message: 'the token issuer is not trusted' });
  }
});

test('a token naming the shared issuer but signed with another state directory’s key is refused', async () => {
  const forged = (await issueFor({ ...foreign.context, issuer: a.issuer }, foreign.context.principals.officer, KV)).access_token;
  expect(decodeProtectedHeader(forged).kid).toBe(foreign.context.keys.current().kid);
  await expect(relyingParty(b).verify(forged)).rejects.toMatchObject({ code: 'token_invalid', message: 'the token key is not published by its issuer' });
});

test('a ring rotated through one replica: its new key is accepted at the other once the file is read again, at most once per interval', async () => {
  const before = a.context.keys.current().kid;
  const rotated = await a.context.keys.rotate(clock);
  expect(rotated.kid).not.toBe(before);
  const token = await officerToken(a);
  expect(decodeProtectedHeader(token).kid).toBe(rotated.kid);
  const atB = relyingParty(b);

  // B read the file within the interval: an unknown kid does not make it read again yet.
  await expect(atB.verify(token)).rejects.toMatchObject({ message: 'the token key is not published by its issuer' });
  clock += RING_REREAD_INTERVAL_MS;
  await expect(atB.verify(token)).resolves.toMatchObject({ iss: a.issuer });
  // B now publishes and signs with the rotated key too; the retired one still verifies while its tokens live.
  expect(b.context.keys.current().kid).toBe(rotated.kid);
  expect(((await fetch(`${b.url}/discovery/keys`).then((r) => r.json())) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([before, rotated.kid]);
});

test('a rotation through one replica keeps a key another rotated in meanwhile: tokens signed with it still verify everywhere', async () => {
  // A rotates; B, which has not read the file since, rotates too: from the file, where A's key is.
  const fromA = (await a.context.keys.rotate(clock)).kid;
  const token = await officerToken(a);
  const fromB = (await b.context.keys.rotate(clock)).kid;
  expect(fromB).not.toBe(fromA);
  expect(b.context.keys.published(3600_000, clock).map((k) => k.kid)).toEqual(expect.arrayContaining([fromA, fromB]));
  clock += RING_REREAD_INTERVAL_MS;
  for (const at of [a, b]) await expect(relyingParty(at).verify(token)).resolves.toMatchObject({ iss: a.issuer });
});
