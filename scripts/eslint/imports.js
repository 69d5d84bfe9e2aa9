'use strict';
// Resolving relative import specifiers the way TypeScript does for this project (a `.ts` file or
// a folder's `index.ts`), and reading the imports of files that are not the one being linted,
// for the cycle check.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

/** The file a relative specifier names, or undefined for a package or a file that is not there. */
function resolveImport(fromFile, specifier) {
  if (!specifier.startsWith('./') && !specifier.startsWith('../') && specifier !== '.' && specifier !== '..') return undefined;
  const base = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * The import declarations of a parsed module (ESTree, as ESLint gives it): each with its
 * specifier node and whether it is erased from the emitted JavaScript (type-only).
 */
function importsOfProgram(program) {
  const found = [];
  const visit = (node) => {
    if (!node || typeof node.type !== 'string') return;
    switch (node.type) {
      case 'ImportDeclaration':
        found.push({ node, source: node.source, typeOnly: node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type')) });
        return;
      case 'ExportNamedDeclaration':
        if (node.source) found.push({ node, source: node.source, typeOnly: node.exportKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.exportKind === 'type')) });
        break;
      case 'ExportAllDeclaration':
        found.push({ node, source: node.source, typeOnly: node.exportKind === 'type' });
        return;
      case 'ImportExpression':
        if (node.source.type === 'Literal' && typeof node.source.value === 'string') found.push({ node, source: node.source, typeOnly: false });
        break;
    }
    for (const key of Object.keys(node)) {
      if (key === 'parent') continue;
      const child = node[key];
      if (Array.isArray(child)) child.forEach(visit);
      else if (child && typeof child.type === 'string') visit(child);
    }
  };
  visit(program);
  return found;
}

/** The relative specifiers a file imports at run time (type-only imports left out). */
function runtimeImportsOfFile(file) {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers = [];
  const visit = (node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly && ts.isStringLiteral(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier.text);
      return;
    }
    if (ts.isExportDeclaration(node)) {
      const typeOnly =
        node.isTypeOnly || (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!typeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier.text);
      return;
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

module.exports = { resolveImport, importsOfProgram, runtimeImportsOfFile };
