import { openKeyDatabase, RoleAssignments, SqliteRoleStore } from '../../src/kms';
import { findRole } from '../../src/kms/auth/roles';
import { tempDir } from './harness';

/** Key Vault's secrets roles: found by any of their names, granting secrets only, at the vault or one secret's scope. */
describe('the secrets roles', () => {
  let temp: Awaited<ReturnType<typeof tempDir>>;
  let roles: RoleAssignments;

  beforeAll(async () => {
    temp = await tempDir();
    roles = new RoleAssignments(new SqliteRoleStore(openKeyDatabase(temp.dir)));
  });
  afterAll(() => temp.remove());

  test.each([
    ['secrets-officer', 'secrets-officer'],
    ['Key Vault Secrets Officer', 'secrets-officer'],
    ['b86a8fe4-44ce-4948-aee5-eccb2c155cd7', 'secrets-officer'],
    ['key vault secrets user', 'secrets-user'],
    ['4633458B-17DE-408A-B874-0445C86B69E6', 'secrets-user'],
  ])('%s is %s', (name, id) => {
    expect(findRole(name)?.id).toBe(id);
  });

  const allowed = async (principal: string, action: Parameters<RoleAssignments['authorize']>[1], name?: string) => {
    try {
      await roles.authorize(principal, action, name);
      return true;
    } catch {
      return false;
    }
  };

  test('a Secrets User reads values and properties, and changes nothing', async () => {
    await roles.add('user', 'secrets-user');
    expect(await Promise.all(['secrets/getSecret', 'secrets/readMetadata'].map((a) => allowed('user', a as 'secrets/getSecret', 's')))).toEqual([true, true]);
    for (const action of ['secrets/setSecret', 'secrets/update', 'secrets/delete', 'secrets/backup', 'secrets/restore', 'secrets/recover', 'secrets/purge'] as const)
      expect(await allowed('user', action, 's')).toBe(false);
    expect(await allowed('user', 'keys/read', 's')).toBe(false);
  });

  test('a Secrets Officer manages secrets and no key; a Crypto Officer manages keys and no secret', async () => {
    await roles.add('secret-officer', 'Key Vault Secrets Officer');
    await roles.add('key-officer', 'Key Vault Crypto Officer');
    for (const action of ['secrets/getSecret', 'secrets/setSecret', 'secrets/purge', 'secrets/restore'] as const) {
      expect(await allowed('secret-officer', action, 's')).toBe(true);
      expect(await allowed('key-officer', action, 's')).toBe(false);
    }
    expect(await allowed('secret-officer', 'keys/create', 'k')).toBe(false);
    expect(await allowed('key-officer', 'keys/create', 'k')).toBe(true);
  });

  test('a role at one secret reaches that secret only, not the key of the same name', async () => {
    expect((await roles.add('scoped', 'secrets-user', 'secrets/One')).scope).toBe('/secrets/One');
    expect(await allowed('scoped', 'secrets/getSecret', 'one')).toBe(true);
    expect(await allowed('scoped', 'secrets/getSecret', 'two')).toBe(false);
    expect(await allowed('scoped', 'secrets/readMetadata')).toBe(false);
    await roles.add('scoped-keys', 'crypto-officer', '/secrets/one');
    expect(await allowed('scoped-keys', 'keys/read', 'one')).toBe(false);
    await expect(roles.add('x', 'secrets-user', '/secrets/bad_name')).rejects.toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
