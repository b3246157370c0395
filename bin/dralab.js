#!/usr/bin/env node
'use strict';
require('../dist/src/cli/main.js').main(process.argv).catch((err) => {
  process.stderr.write(`dralab: ${err && err.message ? err.message : String(err)}\n`);
  process.exitCode = process.exitCode || 1;
});
