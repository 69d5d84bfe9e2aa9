import { parseStoreLocation } from '../../src/kms/store/store-url';

const DEFAULT = '/state/kms/keys.sqlite';

describe('--store / SKR_STORE', () => {
  test.each([
    [undefined, { kind: 'sqlite', path: DEFAULT }],
    ['', { kind: 'sqlite', path: DEFAULT }],
    ['sqlite:/var/lib/skr/keys.sqlite', { kind: 'sqlite', path: '/var/lib/skr/keys.sqlite' }],
    ['postgres://skr@db.internal:5432/vault', { kind: 'postgres', url: 'postgres://skr@db.internal:5432/vault', display: 'postgres://skr@db.internal:5432/vault' }],
    [
      'postgresql://skr:s3cret@db.internal/vault?sslmode=require',
      { kind: 'postgres', url: 'postgresql://skr:s3cret@db.internal/vault?sslmode=require', display: 'postgresql://skr:***@db.internal/vault?sslmode=require' },
    ],
  ])('%s is read as %o', (value, expected) => {
    expect(parseStoreLocation(value, DEFAULT)).toEqual(expected);
  });

  test('a relative sqlite path is taken from the working directory', () => {
    expect(parseStoreLocation('sqlite:keys.sqlite', DEFAULT)).toEqual({ kind: 'sqlite', path: `${process.cwd()}/keys.sqlite` });
  });

  test.each([
    ['sqlite:', /file path/],
    ['mysql://root:hunter2@db/vault', /scheme mysql: is not/],
    ['postgres://:hunter2@db/vault', /names no user/],
    ['postgres://skr:hunter2@db', /names no database/],
    ['postgres://skr:hunter2@/vault', /not a URL|names no host/],
    ['not a url at all hunter2', /not a URL/],
  ])('%s is refused with a reason that never echoes it', (value, reason) => {
    let thrown: unknown;
    try {
      parseStoreLocation(value, DEFAULT);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'store_url_invalid', status: 400, message: expect.stringMatching(reason) });
    expect(JSON.stringify(thrown) + String((thrown as Error).message)).not.toContain('hunter2');
  });
});
