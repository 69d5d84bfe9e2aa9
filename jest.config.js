/** Unit and end-to-end tests; the long reliability suite lives in test/reliability and runs separately. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/test/reliability/'],
  // Type checking is done once by `tsc --noEmit` in `npm test`; per-file transpilation keeps jest fast.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
  // Key generation (RSA-4096 for the virtual ARK and ASK) is slow on a loaded 2-core machine.
  testTimeout: 60_000,
  setupFiles: ['<rootDir>/test/setup-env.js'],
};
