/** The reliability suite (test/reliability): hostile input, faults and load, run apart from `npm test` by `npm run test:reliability`. */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/reliability'],
  testPathIgnorePatterns: ['/node_modules/'],
  // One file at a time: the load test measures the sidecar, not a neighbour's property run.
  maxWorkers: 1,
  testTimeout: 300_000,
};
