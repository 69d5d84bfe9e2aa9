import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { withStartLock } from '../../src/lib/state-dir-lock';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skr-lock-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

test('start-ups on one state directory run one at a time, and the lock is gone afterwards', async () => {
  const events: string[] = [];
  const start = (name: string) =>
    withStartLock(dir, async () => {
      events.push(`${name} in`);
      await new Promise((r) => setTimeout(r, 100));
      events.push(`${name} out`);
      return name;
    });
  expect(await Promise.all([start('a'), start('b'), start('c')])).toEqual(['a', 'b', 'c']);
  for (let i = 0; i < events.length; i += 2) expect(events[i + 1]).toBe(events[i]!.replace(' in', ' out'));
  expect(await readdir(dir)).toEqual([]);
});

test('a failed start-up releases the lock', async () => {
  await expect(withStartLock(dir, () => Promise.reject(new Error('no')))).rejects.toThrow('no');
  expect(await withStartLock(dir, async () => 'next')).toBe('next');
});

test('a lock left by a process that no longer runs on this host is taken over', async () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  await writeFile(join(dir, '.start.lock'), JSON.stringify({ pid: Number(dead), host: hostname() }));
  expect(await withStartLock(dir, async () => 'taken over')).toBe('taken over');
});
