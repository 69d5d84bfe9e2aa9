import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kmsServe } from '../../src/cli/kms';

/** `skr kms --trusted-authority` takes only what a release policy may name: an https issuer URL. */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skr-authority-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test.each([
  ['plain http', 'http://maa.example'],
  ['a query', 'https://maa.example/?x=1'],
  ['a fragment', 'https://maa.example/#x'],
  ['credentials', 'https://user@maa.example'],
  ['not a URL', 'https://'],
])('an authority with %s is refused before anything starts', async (_what, value) => {
  await expect(kmsServe(['--state-dir', join(dir, 'state'), '--trusted-authority', value])).rejects.toMatchObject({ code: 'invalid_argument', status: 400 });
});
