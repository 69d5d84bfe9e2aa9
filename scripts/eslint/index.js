'use strict';
// skr's own ESLint rules: the module boundaries of src/ (see modules.js).
module.exports = {
  meta: { name: 'eslint-plugin-skr' },
  rules: {
    door: require('./rules/door'),
    layers: require('./rules/layers'),
    'no-cycle': require('./rules/no-cycle'),
  },
};
