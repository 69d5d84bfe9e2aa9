'use strict';
// What the three rules share: where src/ is and, for a linted file, each relative import with the
// file it names.
const path = require('node:path');
const { importsOfProgram, resolveImport } = require('./imports');

/** src/ of the project: `settings.skr.srcRoot` (relative to the working directory) or `src`. */
function srcRootOf(context) {
  const configured = context.settings?.skr?.srcRoot ?? 'src';
  return path.resolve(context.cwd, configured);
}

/** Calls `check(entry, target)` for every relative import of the linted file that resolves. */
function forEachResolvedImport(context, check) {
  return {
    'Program:exit'(program) {
      for (const entry of importsOfProgram(program)) {
        const target = resolveImport(context.filename, entry.source.value);
        if (target !== undefined) check(entry, target);
      }
    },
  };
}

module.exports = { srcRootOf, forEachResolvedImport };
