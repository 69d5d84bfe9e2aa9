'use strict';
// skr/door: a module of src/ is entered only through its door.
//
// Modules are the entries of the map in ../modules.js (top-level folders of src/, and the
// sub-folders named there: maa/service, kms/policy, deploy/key). From outside a module, code
// imports the module's index.ts and nothing deeper, so the door is the whole public surface a
// reviewer has to read, and a module can rearrange its files without touching its users. Inside a
// module, files import one another freely: a module is one unit, reviewed as one. Its sub-folders
// with an index.ts of their own (snp/device, snp/virtual, kms/vault, ...) are parts of it, not
// modules: other modules reach what they hold through the module's door, which re-exports it.
//
// The shared base (errors.ts, lib/, tls/) is a toolbox of one-job files imported file by file: a
// door there would tie code that needs base64url to the HTTP client and its TLS trust. A folder in
// the base that has an index.ts (lib/cbor) is still entered through it.
//
// Only files in src/ are checked: unit tests in test/ reach into modules on purpose.
const fs = require('node:fs');
const path = require('node:path');
const { BASE, moduleOf, isInside, toPosix } = require('../modules');
const { srcRootOf, forEachResolvedImport } = require('../context');

module.exports = {
  meta: {
    type: 'problem',
    docs: { description: "imports from another module of src/ go through that module's index.ts" },
    messages: {
      door: "'{{specifier}}' reaches inside module '{{module}}': import its door '{{door}}'",
      noDoor: "module '{{module}}' has no door: create src/{{module}}/index.ts and import that",
    },
    schema: [],
  },
  create(context) {
    const srcRoot = srcRootOf(context);
    const file = context.filename;
    if (!isInside(srcRoot, file)) return {};
    const from = moduleOf(srcRoot, file);
    return forEachResolvedImport(context, (entry, target) => {
      if (!isInside(srcRoot, target)) return;
      const to = moduleOf(srcRoot, target);
      if (to === undefined || to === from) return;
      const door = BASE.includes(to) ? baseDoor(srcRoot, to, target) : path.join(srcRoot, to, 'index.ts');
      if (door === undefined || door === target) return;
      if (!fs.existsSync(door)) {
        context.report({ node: entry.source, messageId: 'noDoor', data: { module: to } });
        return;
      }
      const relative = toPosix(path.relative(path.dirname(file), path.dirname(door)));
      const specifier = relative.startsWith('.') ? relative : `./${relative}`;
      context.report({ node: entry.source, messageId: 'door', data: { specifier: entry.source.value, module: to, door: specifier } });
    });
  },
};

/** In a base module, the index.ts of the outermost folder below the module that holds `target` and has one. */
function baseDoor(srcRoot, module, target) {
  const moduleRoot = path.join(srcRoot, module);
  const folders = [];
  for (let dir = path.dirname(target); isInside(moduleRoot, dir); dir = path.dirname(dir)) folders.unshift(dir);
  for (const dir of folders) {
    const index = path.join(dir, 'index.ts');
    if (fs.existsSync(index)) return index;
  }
  return undefined;
}
