import { randomBytes } from 'node:crypto';
import { KeyUnwrapError } from '../../src/errors';
import { decodeKeyHsm, encodeKeyHsm, KEY_HSM_SCHEMA_VERSION } from '../../src/keywrap';
import { thrown } from './keys';

const b64u = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('key_hsm envelope', () => {
  test('encodes base64url (unpadded) JSON {schema_version, header:{kid, alg:"dir", enc}, ciphertext} and decodes it back', () => {
    const ciphertext = randomBytes(296);
    const text = encodeKeyHsm({ kid: 'runtime-key-1', enc: 'RSA_AES_KEY_WRAP_384', ciphertext });
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))).toEqual({
      schema_version: KEY_HSM_SCHEMA_VERSION,
      header: { kid: 'runtime-key-1', alg: 'dir', enc: 'RSA_AES_KEY_WRAP_384' },
      ciphertext: ciphertext.toString('base64url'),
    });
    expect(decodeKeyHsm(text)).toEqual({ schemaVersion: '1.0.0', kid: 'runtime-key-1', alg: 'dir', enc: 'RSA_AES_KEY_WRAP_384', ciphertext });
  });

  test('accepts padded base64url (as Microsoft pads) and BYOK extras such as generator', () => {
    const body = { schema_version: '1.0.0', header: { kid: 'k', alg: 'dir', enc: 'CKM_RSA_AES_KEY_WRAP' }, ciphertext: 'AAECAw==', generator: 'BYOK tool' };
    const padded = Buffer.from(JSON.stringify(body)).toString('base64');
    expect(decodeKeyHsm(padded.replace(/\+/g, '-').replace(/\//g, '_')).ciphertext).toEqual(Buffer.from([0, 1, 2, 3]));
  });

  const good = { schema_version: '1.0.0', header: { kid: 'k', alg: 'dir', enc: 'CKM_RSA_AES_KEY_WRAP' }, ciphertext: 'AAECAw' };
  test.each([
    ['empty', ''],
    ['standard base64 with + and /', Buffer.from('{"a":">>>???"}').toString('base64')],
    ['not JSON', b64u('not json')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')],
    ['a JSON array', b64u([good])],
    ['missing ciphertext', b64u({ ...good, ciphertext: undefined })],
    ['empty ciphertext', b64u({ ...good, ciphertext: '' })],
    ['ciphertext with stray characters', b64u({ ...good, ciphertext: 'AAEC Aw' })],
    ['ciphertext as a number', b64u({ ...good, ciphertext: 42 })],
    ['missing schema_version', b64u({ ...good, schema_version: undefined })],
    ['missing header', b64u({ ...good, header: undefined })],
    ['header as a string', b64u({ ...good, header: 'dir' })],
    ['header.kid as a number', b64u({ ...good, header: { ...good.header, kid: 7 } })],
    ['header.enc as an object', b64u({ ...good, header: { ...good.header, enc: {} } })],
    ['too long', 'A'.repeat(64 * 1024 + 4)],
  ])('refuses %s with key_hsm_malformed', (_name, text) => {
    const error = thrown(() => decodeKeyHsm(text));
    expect(error).toBeInstanceOf(KeyUnwrapError);
    expect(error).toMatchObject({ code: 'key_unwrap_failed', details: { reason: 'key_hsm_malformed' } });
  });
});
