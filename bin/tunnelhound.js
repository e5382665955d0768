#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled TypeScript in dist/ (`npm run build`).
// `live` holds its signals from here on, before the slow part of start-up (see
// src/cli/early-signals.ts); other commands keep Node's defaults.
if (process.argv[2] === 'live') require('../dist/src/cli/early-signals.js').holdSignals();
const { main } = require('../dist/src/cli/main.js');

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`tunnelhound: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
