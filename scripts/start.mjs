#!/usr/bin/env node
// `npm start`: builds only when a source is newer than the build, then runs the relay in
// this process's place (signals reach it directly).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const BUILT = join('dist', 'src', 'main.js');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name === 'dist') continue;
    max = Math.max(max, newest(join(path, name)));
  }
  return max;
}

const sources = ['src', 'plugins', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']
  .filter(existsSync)
  .map(newest);
if (!existsSync(BUILT) || Math.max(...sources) > statSync(BUILT).mtimeMs) {
  process.stderr.write('building (a source is newer than dist/) …\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build', '--silent'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const main = await import(pathToFileURL(BUILT).href);
(main.runMain ?? main.default.runMain)();
