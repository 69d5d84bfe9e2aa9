'use strict';
// skr/layers: an import between two modules of src/ must be one the module map in ../modules.js
// allows, and every file of src/ must belong to a module of the map (deny by default: a new
// folder is added to the map with the modules it may use).
//
// Only files in src/ are checked; test/ may import any module.
const { LAYERS, moduleOf, folderOf, isInside, mayImport } = require('../modules');
const { srcRootOf, forEachResolvedImport } = require('../context');

module.exports = {
  meta: {
    type: 'problem',
    docs: { description: 'imports between modules of src/ follow the dependency direction of the module map' },
    messages: {
      layer: "module '{{from}}' may not import module '{{to}}' (scripts/eslint/modules.js: '{{from}}' may import {{allowed}})",
      unmapped: "'{{folder}}' is not in the module map: add it to scripts/eslint/modules.js with the modules it may import",
    },
    schema: [],
  },
  create(context) {
    const srcRoot = srcRootOf(context);
    const file = context.filename;
    if (!isInside(srcRoot, file)) return {};
    const from = moduleOf(srcRoot, file);
    if (from === undefined) {
      return {
        Program(program) {
          context.report({ node: program, messageId: 'unmapped', data: { folder: folderOf(srcRoot, file) } });
        },
      };
    }
    return forEachResolvedImport(context, (entry, target) => {
      if (!isInside(srcRoot, target)) return;
      const to = moduleOf(srcRoot, target);
      if (to === undefined) {
        context.report({ node: entry.source, messageId: 'unmapped', data: { folder: folderOf(srcRoot, target) } });
        return;
      }
      if (mayImport(from, to)) return;
      const allowed = LAYERS[from].length === 0 ? 'nothing of ours' : LAYERS[from].map((m) => `'${m}'`).join(', ');
      context.report({ node: entry.source, messageId: 'layer', data: { from, to, allowed } });
    });
  },
};
