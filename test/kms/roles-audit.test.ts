import { openKeyDatabase, RoleAssignments } from '../../src/kms';
import { tempDir } from './harness';

test('role assignments kept in memory still change at once, from this connection or another process', async () => {
  const temp = await tempDir();
  const running = new RoleAssignments(openKeyDatabase(temp.dir));
  // The `skr kms role` CLI: another connection to the same database.
  const cli = new RoleAssignments(openKeyDatabase(temp.dir));
  try {
    expect(() => running.authorize('alice', 'keys/release')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    cli.add('alice', 'crypto-service-release-user');
    expect(() => running.authorize('alice', 'keys/release')).not.toThrow();
    expect(cli.remove({ principal: 'alice', role: 'crypto-service-release-user' })).toBe(true);
    expect(() => running.authorize('alice', 'keys/release')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    running.add('bob', 'crypto-officer', '/keys/one');
    expect(() => running.authorize('bob', 'keys/create', 'one')).not.toThrow();
    expect(() => running.authorize('bob', 'keys/create', 'two')).toThrow(expect.objectContaining({ code: 'forbidden' }));
    running.remove({ principal: 'bob', role: 'crypto-officer', scope: '/keys/one' });
    expect(() => running.authorize('bob', 'keys/create', 'one')).toThrow(expect.objectContaining({ code: 'forbidden' }));
  } finally {
    await temp.remove();
  }
});
