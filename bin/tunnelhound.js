#!/usr/bin/env node
'use strict';
// Thin launcher: the CLI is compiled TypeScript in dist/ (`npm run build`).
const { main } = require('../dist/src/cli/main.js');

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`tunnelhound: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 1;
  },
);
