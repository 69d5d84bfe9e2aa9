import fc from 'fast-check';
import { parseResourcePath, resourcePathOf, secretNameOf, type ResourcePath } from '../../src/kbs/resource-path';

const FIRST = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'.split('');
const REST = [...FIRST, '.'];
const segment = fc.tuple(fc.constantFrom(...FIRST), fc.array(fc.constantFrom(...REST), { maxLength: 12 })).map(([first, rest]) => first + rest.join(''));
const path = fc.tuple(segment, segment, segment).map((p) => p as unknown as ResourcePath);

describe('the resource path → Key Vault secret name mapping', () => {
  test('names are valid Key Vault secret names and decode back to their path', () => {
    fc.assert(
      fc.property(path, (p) => {
        const name = secretNameOf(p);
        expect(name).toMatch(/^[0-9a-z-]{1,127}$/);
        expect(resourcePathOf(name)).toEqual([...p]);
      }),
      { numRuns: 2000 },
    );
  });

  test("is injective even under Key Vault's case-insensitive names", () => {
    fc.assert(
      fc.property(path, path, (a, b) => {
        fc.pre(a.join('/') !== b.join('/'));
        expect(secretNameOf(a).toLowerCase()).not.toBe(secretNameOf(b).toLowerCase());
      }),
      { numRuns: 5000 },
    );
    // Paths that differ only by case, or by which separator a character sits next to.
    expect(secretNameOf(['a', 'B', 'c'])).not.toBe(secretNameOf(['a', 'b', 'c']));
    expect(secretNameOf(['a-2f', 'b', 'c'])).not.toBe(secretNameOf(['a', '2f-b', 'c']));
  });

  test('the documented example', () => {
    expect(secretNameOf(['default', 'key', 'Tag_1'])).toBe('kbs-default-2fkey-2f-54ag-5f1');
  });

  test('a path too long for a Key Vault name is refused, not shortened', () => {
    expect(() => secretNameOf(['A'.repeat(40), 'b', 'c'])).toThrow(expect.objectContaining({ code: 'kbs_resource_name_unmappable' }));
  });

  test.each([[['a', 'b']], [['a', 'b', 'c', 'd']], [['..', 'b', 'c']], [['.a', 'b', 'c']], [['a/b', 'c', 'd']], [['', 'b', 'c']]])('%j is not a resource path', (segments) => {
    expect(() => parseResourcePath(segments)).toThrow(expect.objectContaining({ code: 'kbs_resource_path_invalid' }));
  });
});
