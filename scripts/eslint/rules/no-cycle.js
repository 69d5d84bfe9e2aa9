'use strict';
// skr/no-cycle: no file of src/ imports, directly or through others, a file that imports it.
//
// A cycle makes module load order matter (under CommonJS one side sees the other half-built) and
// means two files are one design unit split in two. Imports that are erased from the emitted
// JavaScript (`import type`, or every name marked `type`) are left out: they cannot change load
// order, and a type naming the type of its user is ordinary. Dynamic `import()` counts.
//
// The graph is read once per lint run from the files on disk (TypeScript's parser, no type
// checking); the linted file's own imports come from ESLint's parse of it.
const fs = require('node:fs');
const { isInside, toPosix } = require('../modules');
const { srcRootOf, forEachResolvedImport } = require('../context');
const { resolveImport, runtimeImportsOfFile } = require('../imports');
const path = require('node:path');

/** file -> { mtimeMs, targets }: the run-time imports of each file read so far. */
const graph = new Map();

function targetsOf(file) {
  const mtimeMs = fs.statSync(file).mtimeMs;
  const cached = graph.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return cached.targets;
  const targets = [];
  for (const specifier of runtimeImportsOfFile(file)) {
    const target = resolveImport(file, specifier);
    if (target !== undefined && target.endsWith('.ts')) targets.push(target);
  }
  graph.set(file, { mtimeMs, targets });
  return targets;
}

/** A path of imports from `start` back to `goal`, or undefined: depth-first, each file once. */
function pathBack(start, goal, srcRoot) {
  const seen = new Set();
  const walk = (file, trail) => {
    if (file === goal) return trail;
    if (seen.has(file) || !isInside(srcRoot, file)) return undefined;
    seen.add(file);
    for (const next of targetsOf(file)) {
      const found = walk(next, [...trail, next]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, [start]);
}

module.exports = {
  meta: {
    type: 'problem',
    docs: { description: 'no import cycles between files of src/' },
    messages: { cycle: 'import cycle: {{cycle}}' },
    schema: [],
  },
  create(context) {
    const srcRoot = srcRootOf(context);
    const file = context.filename;
    if (!isInside(srcRoot, file)) return {};
    return forEachResolvedImport(context, (entry, target) => {
      if (entry.typeOnly || !isInside(srcRoot, target) || !target.endsWith('.ts')) return;
      const back = pathBack(target, file, srcRoot);
      if (!back) return;
      const cycle = [file, ...back].map((f) => toPosix(path.relative(srcRoot, f))).join(' -> ');
      context.report({ node: entry.source, messageId: 'cycle', data: { cycle } });
    });
  },
};
