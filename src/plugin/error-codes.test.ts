import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES } from './error-codes';
import { RelayError } from './relay-error';

describe('error codes', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'error-codes.md'), 'utf8');

  it('documents every code in the table of docs/error-codes.md with its SMTP reply and HTTP status', () => {
    const rows = readme
      .split('\n')
      .filter((l) => l.startsWith('| `'))
      .map((l) => l.split('|').map((cell) => cell.trim()));
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      const row = rows.find((cells) => cells[1] === `\`${code}\``);
      assert.ok(row, `README has no row for ${code}`);
      assert.equal(row[2], info.category, `kind of ${code}`);
      assert.equal(row[3], `${info.smtp[0]} ${info.smtp[1]}`, `SMTP reply of ${code}`);
      assert.equal(row[4], String(info.http), `HTTP status of ${code}`);
    }
  });

  it('formats one line with the code and the hint', () => {
    const e = new RelayError('from_mismatch', 'From: is a@x, but the certificate names b@x');
    assert.equal(e.permanent, true);
    assert.equal(
      e.toLine(),
      'error [from_mismatch]: From: is a@x, but the certificate names b@x. ' +
        ERROR_CODES.from_mismatch.hint,
    );
    assert.equal(new RelayError('internal_error', 'x').permanent, false);
  });
});
