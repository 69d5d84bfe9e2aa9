import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SCHEMAS = join(__dirname, '../../src/deploy/schema');

describe('the shipped ARM schemas', () => {
  const readme = readFileSync(join(SCHEMAS, 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| `([^`]+\.json)` \| `[^`]+` \| `([0-9a-f]{64})` \|$/gm)].map((m) => [m[1], m[2]]);

  test('are the verbatim copies the README lists (source commit and sha256)', () => {
    expect(rows).toHaveLength(4);
    for (const [file, sha256] of rows) {
      expect([
        file,
        createHash('sha256')
          .update(readFileSync(join(SCHEMAS, file)))
          .digest('hex'),
      ]).toEqual([file, sha256]);
    }
  });

  test('come with their MIT licence', () => {
    expect(readFileSync(join(SCHEMAS, 'LICENSE.azure-resource-manager-schemas'), 'utf8')).toMatch(/MIT License/i);
  });
});
