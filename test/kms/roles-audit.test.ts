import { AuditLog, kmsPaths, openKeyDatabase, RoleAssignments } from '../../src/kms';
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

test('audit entries are written within moments, in batches; a query or a close writes them first', async () => {
  const temp = await tempDir();
  const path = kmsPaths(temp.dir).audit;
  try {
    const log = AuditLog.open(path);
    for (let i = 0; i < 3; i++) log.record({ time: i, operation: 'get', key: 'k', decision: 'allow', status: 200 });
    expect(log.query({ key: 'k' })).toHaveLength(3);
    log.record({ time: 9, operation: 'release', key: 'k', decision: 'deny', status: 403, reason: 'release_denied: no' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const reader = AuditLog.open(path);
    expect(reader.query({ decision: 'deny' })).toMatchObject([{ operation: 'release', status: 403 }]);
    log.record({ time: 10, operation: 'get', key: 'last', decision: 'allow', status: 200 });
    log.close();
    expect(reader.query({ key: 'last' })).toHaveLength(1);
    reader.close();
  } finally {
    await temp.remove();
  }
});
