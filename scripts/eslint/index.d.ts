import type { Rule } from 'eslint';

/** skr's own ESLint rules (index.js). */
declare const plugin: {
  meta: { name: string };
  rules: { door: Rule.RuleModule; layers: Rule.RuleModule; 'no-cycle': Rule.RuleModule };
};
export = plugin;
