import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve(__dirname, '..', '..', 'src');
const SNP = join(SRC, 'snp');

/**
 * What the attester may import from the rest of the tree: the error classes and the leaf
 * libraries that themselves import nothing but those (the CBOR codec the UVM endorsements of
 * the virtual device are encoded with, which the verifier decodes; the semaphore and the shared
 * next call the device's concurrency limit and coalescing are built on). HTTP reaches snp only
 * as an injected HttpGetter.
 */
const LEAVES = ['lib/cbor', 'lib/semaphore', 'lib/shared-next-call'];
const ALLOWED_OUTSIDE_SNP = ['errors', ...LEAVES];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\bfrom '(\.[^']*)'/g)].map((m) => relative(SRC, resolve(dirname(file), m[1]!)));
}

test('snp imports nothing of ours but the error classes and its leaf libraries', () => {
  const outside = sources(SNP).flatMap((file) =>
    relativeImports(file)
      .filter((target) => !target.startsWith('snp/') && target !== 'snp')
      .filter((target) => !ALLOWED_OUTSIDE_SNP.some((allowed) => target === allowed || target.startsWith(`${allowed}/`)))
      .map((target) => `${relative(SRC, file)} → ${target}`),
  );
  expect(outside).toEqual([]);
});

/** A leaf's files: a folder's sources, or the one module it names. */
const leafSources = (leaf: string) => (existsSync(join(SRC, `${leaf}.ts`)) ? [join(SRC, `${leaf}.ts`)] : sources(join(SRC, leaf)));

test('the leaf libraries snp may use import nothing of ours but the error classes', () => {
  const outside = LEAVES.flatMap((leaf) =>
    leafSources(leaf).flatMap((file) =>
      relativeImports(file)
        .filter((target) => target !== 'errors' && !target.startsWith(`${leaf}/`) && target !== leaf)
        .map((target) => `${relative(SRC, file)} → ${target}`),
    ),
  );
  expect(outside).toEqual([]);
});
