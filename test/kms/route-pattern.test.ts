import { routePatternOf } from '../../src/kms/routes/route-pattern';

/** The pattern recorded for a path no route answered: literal segments kept, the caller's own text never. */
test.each([
  ['a release', '/keys/demo/release', '/keys/:name/release'],
  ['a release of a version', '/keys/demo/0123456789abcdef0123456789abcdef/release', '/keys/:name/:version/release'],
  ['an operation in capitals', '/keys/Demo/WRAPKEY', '/keys/:name/wrapkey'],
  ['a recovery', '/deletedkeys/old/recover', '/deletedkeys/:name/recover'],
  ['a secret version', '/secrets/db-password/0123456789abcdef0123456789abcdef', '/secrets/:name/:version'],
  ['a secret recovery', '/deletedsecrets/old/recover', '/deletedsecrets/:name/recover'],
  ['a role', '/admin/roles/4f1c', '/admin/roles/:id'],
  ['the API description', '/openapi.json', '/openapi.json'],
  ['the root', '/', '/'],
  ['an unknown path', '/etc/passwd', '/:param/:param'],
  ['a huge, deep path', `/keys/${'x'.repeat(10_000)}/a/b/c/d/e/f`, '/keys/:name/:version/:param/:param/…'],
])('%s', (_what, path, pattern) => {
  expect(routePatternOf(path)).toBe(pattern);
});
