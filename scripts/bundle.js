'use strict';
// Bundles the compiled CLI (dist/cli/main.js, from tsc) into dist/skr.js, which bin/skr.js runs:
// Node then reads and compiles one file instead of some 860 modules, which was most of the time
// a restart of `npm start` took (1.1 s to 0.7 s to the first release, measured). The packages
// with native addons stay outside: they find their .node files by path at run time.
const { build } = require('esbuild');

build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/skr.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['better-sqlite3', 'pkcs11js'],
  logLevel: 'warning',
}).catch(() => {
  process.exitCode = 1;
});
