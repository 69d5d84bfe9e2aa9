import { RoleAssignments } from '../../src/kms';
import { storeBackends } from './store-backends';

for (const backend of storeBackends()) {
  backend.describe(`role assignments (${backend.name})`, () => {
    test('kept in memory, they still change at once here and, after one version check, at another process or replica', async () => {
      const vault = await backend.vault('roles-cache');
      const runningStore = await vault.roles();
      let now = 1_000_000;
      const running = new RoleAssignments(runningStore, () => now);
      // The `skr kms role` CLI or another replica: another connection to the same store.
      const other = new RoleAssignments(await vault.roles(), () => now);
      const afterOneCheck = () => (now += runningStore.versionCheckMs);

      await expect(running.authorize('alice', 'keys/release')).rejects.toThrow(expect.objectContaining({ code: 'forbidden' }));
      await other.add('alice', 'crypto-service-release-user');
      afterOneCheck();
      await expect(running.authorize('alice', 'keys/release')).resolves.toBeUndefined();
      expect(await other.remove({ principal: 'alice', role: 'crypto-service-release-user' })).toBe(true);
      afterOneCheck();
      await expect(running.authorize('alice', 'keys/release')).rejects.toThrow(expect.objectContaining({ code: 'forbidden' }));

      // This process's own changes need no check.
      await running.add('bob', 'crypto-officer', '/keys/one');
      await expect(running.authorize('bob', 'keys/create', 'one')).resolves.toBeUndefined();
      await expect(running.authorize('bob', 'keys/create', 'two')).rejects.toThrow(expect.objectContaining({ code: 'forbidden' }));
      await running.remove({ principal: 'bob', role: 'crypto-officer', scope: '/keys/one' });
      await expect(running.authorize('bob', 'keys/create', 'one')).rejects.toThrow(expect.objectContaining({ code: 'forbidden' }));
    });

    test('a grant is idempotent across stores: one assignment, the first id stands', async () => {
      const vault = await backend.vault('roles-idempotent');
      const a = new RoleAssignments(await vault.roles());
      const b = new RoleAssignments(await vault.roles());
      const first = await a.add('carol', 'Key Vault Crypto User');
      const again = await b.add('carol', 'crypto-user', '/', 'another-id');
      expect(again.id).toBe(first.id);
      expect((await b.list('carol')).map((r) => [r.id, r.role, r.scope])).toEqual([[first.id, 'crypto-user', '/']]);
      expect(await a.remove({ id: first.id })).toBe(true);
      expect(await b.remove({ id: first.id })).toBe(false);
      expect(await b.list()).toEqual([]);
    });
  });
}
