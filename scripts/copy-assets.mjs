#!/usr/bin/env node
// Copies the files tsc does not emit next to the compiled code in dist/: the SQL migrations
// and the admin console's static files (HTML, ES modules, CSS).
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const copies = [
  [join('src', 'database', 'migrations'), 'migration'],
  [join('src', 'console', 'static'), 'console'],
];
for (const [from, what] of copies) {
  const to = join('dist', from);
  cpSync(from, to, { recursive: true });
  console.log(`copied ${readdirSync(from).length} ${what} file(s) to ${to}`);
}
