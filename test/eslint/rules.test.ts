import { join } from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import plugin from '../../scripts/eslint';

/** The module map, as the rules read it. */
const { LAYERS } = require('../../scripts/eslint/modules') as { LAYERS: Record<string, readonly string[] | '*'> };

// A small src/ tree with the map's folders (fixtures/README.md); the rules resolve imports
// against it.
const SRC = join(__dirname, 'fixtures', 'src');
const at = (file: string) => join(SRC, file);

const tester = new RuleTester({
  languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
  settings: { skr: { srcRoot: SRC } },
});

describe('skr/door', () => {
  tester.run('door', plugin.rules.door, {
    valid: [
      { name: 'another module through its door', filename: at('sidecar/app.ts'), code: "import { verifyReport } from '../snp';" },
      { name: 'a door named by its index', filename: at('sidecar/app.ts'), code: "import { verifyReport } from '../snp/index';" },
      { name: 'files of its own module', filename: at('snp/verify.ts'), code: "import { openDevice } from './device/open';" },
      { name: 'a sub-module through its door', filename: at('kms/server.ts'), code: "import { parseReleasePolicy } from './policy';" },
      { name: 'the verifier service through its door', filename: at('cli/main.ts'), code: "import { startVerifier } from '../maa/service';" },
      {
        name: 'the shared base file by file',
        filename: at('sidecar/app.ts'),
        code: "import { SkrError } from '../errors';\nimport { base64url } from '../lib/base64url';\nimport { outboundTrust } from '../tls/trust';",
      },
      { name: 'a base folder with an index through it', filename: at('snp/verify.ts'), code: "import { decodeCbor } from '../lib/cbor';" },
      { name: 'packages', filename: at('sidecar/app.ts'), code: "import { readFile } from 'node:fs/promises';\nimport express from 'express';" },
      { name: 'test/ reaches inside modules', filename: join(SRC, '..', 'verify.test.ts'), code: "import { verifyReport } from './src/snp/verify';" },
    ],
    invalid: [
      {
        name: "a file behind another module's door",
        filename: at('sidecar/app.ts'),
        code: "import { verifyReport } from '../snp/verify';",
        errors: [{ messageId: 'door', data: { specifier: '../snp/verify', module: 'snp', door: '../snp' } }],
      },
      {
        name: 'a folder door inside another module',
        filename: at('sidecar/app.ts'),
        code: "import { openDevice } from '../snp/device';",
        errors: [{ messageId: 'door', data: { specifier: '../snp/device', module: 'snp', door: '../snp' } }],
      },
      {
        name: 'a type only, still through the door',
        filename: at('maa/client.ts'),
        code: "import type { verifyReport } from '../snp/verify';",
        errors: [{ messageId: 'door' }],
      },
      {
        name: 'a re-export',
        filename: at('maa/index.ts'),
        code: "export { verifyReport } from '../snp/verify';",
        errors: [{ messageId: 'door' }],
      },
      {
        name: 'a dynamic import',
        filename: at('cli/main.ts'),
        code: "export const load = () => import('../snp/device/open');",
        errors: [{ messageId: 'door', data: { specifier: '../snp/device/open', module: 'snp', door: '../snp' } }],
      },
      {
        name: 'a file of a sub-module from its parent',
        filename: at('kms/server.ts'),
        code: "import { parseReleasePolicy } from './policy/parse';",
        errors: [{ messageId: 'door', data: { specifier: './policy/parse', module: 'kms/policy', door: './policy' } }],
      },
      {
        name: 'a file of the parent from a sub-module',
        filename: at('maa/service/server.ts'),
        code: "import { MaaClient } from '../client';",
        errors: [{ messageId: 'door', data: { specifier: '../client', module: 'maa', door: '..' } }],
      },
      {
        name: "a file behind a base folder's index",
        filename: at('snp/verify.ts'),
        code: "import { decodeCbor } from '../lib/cbor/decode';",
        errors: [{ messageId: 'door', data: { specifier: '../lib/cbor/decode', module: 'lib', door: '../lib/cbor' } }],
      },
      {
        name: 'a module without a door',
        filename: at('cli/main.ts'),
        code: "import { startDevStack } from '../dev/stack';",
        errors: [{ messageId: 'noDoor', data: { module: 'dev' } }],
      },
    ],
  });
});

describe('skr/layers', () => {
  tester.run('layers', plugin.rules.layers, {
    valid: [
      {
        name: 'the sidecar uses the attester, the MAA client and keywrap',
        filename: at('sidecar/app.ts'),
        code: "import { verifyReport } from '../snp';\nimport { MaaClient } from '../maa';\nimport { unwrapKeyMaterial } from '../keywrap';",
      },
      { name: 'the verifier service uses the attester', filename: at('maa/service/server.ts'), code: "import { verifyReport } from '../../snp';" },
      { name: 'the KMS uses its policy engine', filename: at('kms/server.ts'), code: "import { parseReleasePolicy } from './policy';" },
      { name: 'the attester uses the base', filename: at('snp/verify.ts'), code: "import { SkrError } from '../errors';\nimport { decodeCbor } from '../lib/cbor';" },
      {
        name: 'the CLI uses anything',
        filename: at('cli/main.ts'),
        code: "import { startKms } from '../kms';\nimport { startSidecar } from '../sidecar';\nimport { startVerifier } from '../maa/service';",
      },
      { name: 'test/ uses anything', filename: join(SRC, '..', 'kms.test.ts'), code: "import { startKms } from './src/kms';" },
    ],
    invalid: [
      {
        name: 'the attester depends on nothing of ours but the base',
        filename: at('snp/verify.ts'),
        code: "import { MaaClient } from '../maa';",
        errors: [{ messageId: 'layer', data: { from: 'snp', to: 'maa', allowed: "'errors', 'lib'" } }],
      },
      { name: 'the sidecar does not reach the KMS service', filename: at('sidecar/app.ts'), code: "import { startKms } from '../kms';", errors: [{ messageId: 'layer' }] },
      { name: 'the sidecar does not reach the verifier service', filename: at('sidecar/app.ts'), code: "import { startVerifier } from '../maa/service';", errors: [{ messageId: 'layer' }] },
      {
        name: 'the MAA client does not reach the verifier service',
        filename: at('maa/client.ts'),
        code: "import { startVerifier } from './service';",
        errors: [{ messageId: 'layer', data: { from: 'maa', to: 'maa/service', allowed: "'errors', 'lib', 'snp', 'oidc'" } }],
      },
      {
        name: 'the policy engine does not reach up into the KMS',
        filename: at('kms/policy/parse.ts'),
        code: "import { startKms } from '..';",
        errors: [{ messageId: 'layer', data: { from: 'kms/policy', to: 'kms', allowed: "'errors', 'lib'" } }],
      },
      { name: 'the base does not reach a role', filename: at('lib/base64url.ts'), code: "import { verifyReport } from '../snp';", errors: [{ messageId: 'layer' }] },
      { name: 'a type-only import is a dependency too', filename: at('snp/verify.ts'), code: "import type { MaaClient } from '../maa';", errors: [{ messageId: 'layer' }] },
      { name: 'a file in a folder the map does not know', filename: at('unknown/thing.ts'), code: 'export const thing = 1;', errors: [{ messageId: 'unmapped', data: { folder: 'unknown' } }] },
      {
        name: 'an import of a folder the map does not know',
        filename: at('cli/main.ts'),
        code: "import { thing } from '../unknown/thing';",
        errors: [{ messageId: 'unmapped', data: { folder: 'unknown' } }],
      },
    ],
  });
});

describe('skr/no-cycle', () => {
  tester.run('no-cycle', plugin.rules['no-cycle'], {
    valid: [
      { name: 'an import that does not lead back', filename: at('kms/server.ts'), code: "import { parseReleasePolicy } from './policy';" },
      { name: 'a cycle through a type-only import is erased', filename: at('kms/named.ts'), code: "import { typed } from './typed';" },
      { name: 'the linted side of a cycle as a type only', filename: at('kms/first.ts'), code: "import type { second } from './second';" },
      { name: 'every name marked type', filename: at('kms/first.ts'), code: "import { type second } from './second';" },
      { name: 'files outside src/ are not checked', filename: join(SRC, '..', 'first.test.ts'), code: "import { first } from './src/kms/first';" },
    ],
    invalid: [
      {
        name: 'two files that import each other',
        filename: at('kms/first.ts'),
        code: "import { second } from './second';",
        errors: [{ messageId: 'cycle', data: { cycle: 'kms/first.ts -> kms/second.ts -> kms/first.ts' } }],
      },
      {
        name: 'a dynamic import back',
        filename: at('kms/second.ts'),
        code: "export const load = () => import('./first');",
        errors: [{ messageId: 'cycle', data: { cycle: 'kms/second.ts -> kms/first.ts -> kms/second.ts' } }],
      },
    ],
  });
});

describe('the module map', () => {
  test('every module a module may import is itself in the map', () => {
    const unknown = Object.entries(LAYERS).flatMap(([from, allowed]) => (allowed === '*' ? [] : allowed.filter((to) => !(to in LAYERS)).map((to) => `${from} -> ${to}`)));
    expect(unknown).toEqual([]);
  });

  test('only the wiring (cli, dev) may import every module', () => {
    expect(
      Object.keys(LAYERS)
        .filter((m) => LAYERS[m] === '*')
        .sort(),
    ).toEqual(['cli', 'dev']);
  });
});
