#!/usr/bin/env node
'use strict';
// The CLI, compiled and bundled into one file; `npm ci` builds it through the prepare script.
require('../dist/skr.js').main(process.argv.slice(2));
