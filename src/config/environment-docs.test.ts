/**
 * The configuration tables cannot drift from the code: every variable the service reads
 * (Environment, the SMTP plugin's settings, the secrets read by name) is documented in the
 * Configuration section of docs/operating.md or the SMTP plugin's guide, and every variable the tables
 * name is one the code reads.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Environment, SECRET_VARIABLES } from './environment';
import { SmtpConfig } from '../../plugins/smtp/smtp.config';

const ROOT = join(__dirname, '..', '..');
const section = (text: string, heading: string): string => {
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `${heading} is in docs/operating.md`);
  const end = text.indexOf('\n## ', start + heading.length + 2);
  return text.slice(start, end < 0 ? undefined : end);
};

const readme = section(
  readFileSync(join(ROOT, 'docs', 'operating.md'), 'utf8'),
  '## Configuration',
);
const smtpGuide = readFileSync(join(ROOT, 'plugins', 'smtp', 'README.md'), 'utf8');

/** Names in backticks in the first column of the tables of `text`. */
const tableNames = (text: string): string[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .flatMap((l) => [...l.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));

const READ_BY_NAME = ['DATABASE_URL', 'ADMIN_TOKEN', 'MASTER_KEY', 'MASTER_KEY_PREVIOUS', 'REDIS_SENTINELS', 'PUBLIC_URL', 'SMTPS_PORT', 'SMTP_TLS_CERT', 'SMTP_TLS_KEY', 'SMTP_HOSTNAME']; // prettier-ignore

const known = new Set([
  ...Object.keys(new Environment()),
  ...Object.keys(new SmtpConfig()),
  ...SECRET_VARIABLES,
  ...READ_BY_NAME,
]);

test('every variable the code reads is documented', () => {
  const documented = new Set([...readme.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));
  for (const name of tableNames(smtpGuide)) documented.add(name);
  const missing = [...known].filter((v) => !documented.has(v)).sort();
  assert.deepEqual(missing, [], 'variables without a row in the configuration tables');
});

test('every variable the tables name is read by the code', () => {
  const stale = [...tableNames(readme), ...tableNames(smtpGuide)].filter(
    (v) => !known.has(v) && !v.endsWith('_FILE'),
  );
  assert.deepEqual(stale, []);
});
