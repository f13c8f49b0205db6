#!/usr/bin/env node
// Copies the files tsc does not emit (SQL migrations) next to the compiled code in dist/.
import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const from = join('src', 'database', 'migrations');
const to = join('dist', 'src', 'database', 'migrations');
cpSync(from, to, { recursive: true });
console.log(`copied ${readdirSync(from).length} migration file(s) to ${to}`);
