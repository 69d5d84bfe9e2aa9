import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startStack, type Stack } from './harness';
import { raw } from './raw';

/**
 * The KMS secrets data plane as an attacker reaches it: a sibling with no token or a token
 * without a role, a principal scoped to one secret reaching for its neighbours through the
 * path, a Crypto Officer reaching for secrets, and requests that try to get a value into an
 * error, the audit log or a neighbour's name.
 */
const VALUE = 'TOPSECRET-adversarial-value';

let stack: Stack;
let officer: string;
let scopedUser: string;
let scopedOfficer: string;
let stranger: string;
let cryptoOfficer: string;

const send = (token: string | undefined, method: string, path: string, body?: unknown) =>
  raw(stack.kms.url, stack.kms.caPem, method, `${path}${path.includes('?') ? '&' : '?'}api-version=7.5`, {
    ...(token ? { token } : {}),
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

beforeAll(async () => {
  stack = await startStack();
  stack.kms.roles.add('adv-officer', 'Key Vault Secrets Officer');
  stack.kms.roles.add('adv-scoped-user', 'Key Vault Secrets User', '/secrets/scoped-one');
  stack.kms.roles.add('adv-scoped-officer', 'Key Vault Secrets Officer', '/secrets/mine');
  stack.kms.roles.add('adv-crypto', 'Key Vault Crypto Officer');
  const mint = (p: string) => stack.issuer.mint({ oid: p, sub: p });
  [officer, scopedUser, scopedOfficer, stranger, cryptoOfficer] = await Promise.all(['adv-officer', 'adv-scoped-user', 'adv-scoped-officer', 'adv-nobody', 'adv-crypto'].map(mint));
  for (const name of ['scoped-one', 'scoped-one-x', 'other', 'mine', 'kbs-default-2fdemo-2fsecret']) expect((await send(officer, 'PUT', `/secrets/${name}`, { value: VALUE })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const leaks = (response: { body: unknown }) => JSON.stringify(response.body ?? '').includes(VALUE);

describe('without a role', () => {
  test.each([
    ['no token', undefined],
    ['a token of a principal with no role', 'stranger'],
    ['a Crypto Officer (keys only)', 'crypto'],
  ])('%s reads, lists and changes nothing', async (_name, who) => {
    const token = who === 'stranger' ? stranger : who === 'crypto' ? cryptoOfficer : undefined;
    const expected = token ? 403 : 401;
    for (const [method, path, body] of [
      ['GET', '/secrets/other'],
      ['GET', '/secrets'],
      ['GET', '/secrets/other/versions'],
      ['PUT', '/secrets/other', { value: 'overwritten' }],
      ['POST', '/secrets/other/backup'],
      ['DELETE', '/secrets/other'],
    ] as const) {
      const response = await send(token, method, path, body);
      expect([method, path, response.status]).toEqual([method, path, expected]);
      expect(leaks(response)).toBe(false);
    }
    expect((await send(officer, 'GET', '/secrets/other')).body).toMatchObject({ value: VALUE });
  });
});

describe('a Secrets User scoped to one secret', () => {
  test('reads its secret under any case of its name', async () => {
    expect((await send(scopedUser, 'GET', '/secrets/scoped-one')).body).toMatchObject({ value: VALUE });
    expect((await send(scopedUser, 'GET', '/secrets/SCOPED-ONE')).status).toBe(200);
  });

  test.each([
    ['a neighbour whose name extends it', '/secrets/scoped-one-x'],
    ['an encoded traversal to another secret', '/secrets/scoped-one%2F..%2Fother'],
    ['a dot-dot traversal', '/secrets/scoped-one/../other'],
    ['the KBS resource secret', '/secrets/kbs-default-2fdemo-2fsecret'],
    ['the list of every secret', '/secrets'],
    ['the deleted secrets', '/deletedsecrets'],
  ])('does not reach %s', async (_name, path) => {
    const response = await send(scopedUser, 'GET', path);
    expect([403, 404]).toContain(response.status);
    expect(leaks(response)).toBe(false);
  });
});

describe('a Secrets Officer scoped to one secret', () => {
  test('cannot restore (a vault-wide operation) a backup of its own secret under the vault', async () => {
    const backup = await send(scopedOfficer, 'POST', '/secrets/mine/backup');
    expect(backup.status).toBe(200);
    const restore = await send(scopedOfficer, 'POST', '/secrets/restore', { value: (backup.body as { value: string }).value });
    expect(restore.status).toBe(403);
  });

  test.each([
    ['PUT', '/secrets/other', { value: 'overwritten' }],
    ['DELETE', '/secrets/other', undefined],
    ['PATCH', '/secrets/other/00000000000000000000000000000000', { attributes: { enabled: false } }],
    ['POST', '/deletedsecrets/other/recover', undefined],
    ['DELETE', '/deletedsecrets/other', undefined],
  ] as const)('cannot %s %s', async (method, path, body) => {
    expect((await send(scopedOfficer, method, path, body)).status).toBe(403);
    expect((await send(officer, 'GET', '/secrets/other')).body).toMatchObject({ value: VALUE });
  });
});

describe('values stay out of errors and the audit log', () => {
  test('a refused set (bad tags, bad name, no right) never echoes the value', async () => {
    const refused = [
      await send(officer, 'PUT', '/secrets/echo', { value: VALUE, tags: { a: 1 } }),
      await send(officer, 'PUT', '/secrets/bad_name', { value: VALUE }),
      await send(officer, 'PUT', '/secrets/echo', { value: VALUE, contentType: 'x'.repeat(100_000) }),
      await send(stranger, 'PUT', '/secrets/echo', { value: VALUE }),
    ];
    for (const response of refused) {
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(leaks(response)).toBe(false);
    }
  });

  test('a local user of another uid can read nothing but certificates in the state directory, and no file holds a value in the clear', () => {
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [join(dir, e.name), ...walk(join(dir, e.name))] : [join(dir, e.name)]));
    expect(statSync(join(stack.state, 'kms')).mode & 0o007).toBe(0);
    const kmsFiles = walk(join(stack.state, 'kms'));
    expect(kmsFiles.length).toBeGreaterThan(0);
    for (const file of kmsFiles) {
      // Certificates are public; a private key, a database, a token or a directory is the owner's alone.
      const isPublicCertificate = /\.pem$/.test(file) && !/key/.test(file);
      if (!isPublicCertificate) expect([file, (statSync(file).mode & 0o077).toString(8)]).toEqual([file, '0']);
      if (statSync(file).isFile()) expect([file, readFileSync(file).includes(VALUE)]).toEqual([file, false]);
    }
  });
});
