'use strict';
// ESLint for skr: the rules this codebase needs, each with the reason it is here. Formatting is
// Prettier's job (.prettierrc), so no stylistic rule is enabled.
const { defineConfig } = require('eslint/config');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const globals = require('globals');
const jest = require('eslint-plugin-jest');
const skr = require('./scripts/eslint');

module.exports = defineConfig(
  {
    ignores: ['dist/', 'dist-bench/', 'build/', 'coverage/', 'node_modules/', 'test/fixtures/', 'test/eslint/fixtures/', '.state/'],
  },
  // The recommended sets catch real mistakes (unreachable code, duplicate keys, `any` leaking
  // through, non-null assertions that hide a missing check, ...).
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Types marked `type` are erased from the JavaScript, so skr/no-cycle can tell an import
      // that runs from one that only names a type, and a reader can too. `typeof import('x')` in a
      // type argument (jest.requireActual) stays allowed.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // Unused code is dead code. A leading underscore marks a parameter a signature requires;
      // `const { a, ...rest } = o` is how a field is left out.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // `let x;` assigned once after the closures that read it are defined is not a constant.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `==` converts types: a claim "1" would equal 1. `== null` (null or undefined) is the one use.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    // Type-aware rules through the TypeScript project service, on src/ only: checking the types
    // of test/ as well nearly doubles the time of the lint step (jest's rules below cover the
    // promise a test forgets to await).
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    plugins: { skr },
    rules: {
      // A promise nobody awaits loses its rejection: an unhandled failure on a request path or a
      // release that is reported as done before it is.
      '@typescript-eslint/no-floating-promises': 'error',
      // An async function where a void callback is expected (an event handler, a setTimeout)
      // fails without anyone hearing it.
      '@typescript-eslint/no-misused-promises': 'error',
      // Errors are SkrError subclasses with a code: a thrown string or object has none.
      '@typescript-eslint/only-throw-error': 'error',
      // The services log through pino and the CLI writes its JSON to process.stdout; console
      // output would bypass both. Tests, benchmarks and scripts print as they like.
      'no-console': 'error',
      // Module boundaries of src/ (scripts/eslint/modules.js): doors, dependency direction, no cycles.
      'skr/door': 'error',
      'skr/layers': 'error',
      'skr/no-cycle': 'error',
    },
  },
  {
    // Tests read JSON answers loosely and load fresh module instances with require() inside
    // jest.isolateModules.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    plugins: { jest },
    rules: {
      // `expect(p).rejects...` not awaited passes whatever p does.
      'jest/valid-expect': 'error',
      // A test.only left behind silently skips the rest of its file.
      'jest/no-focused-tests': 'error',
      // Two tests of one name make a failure report ambiguous.
      'jest/no-identical-title': 'error',
    },
  },
  {
    // Plain CommonJS scripts and configs run by Node.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
