#!/usr/bin/env node
'use strict';
// Runs the built CLI (dist/, made by `npm run build`); in a source checkout without a
// build it runs the TypeScript sources directly.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const built = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
let cli;
if (existsSync(built)) {
  cli = require(built);
} else {
  require('@swc-node/register');
  cli = require(join(__dirname, '..', 'src', 'cli', 'main.ts'));
}
cli.run(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
});
