import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { doctorCommand } from '../cli/doctor.command';
import { stubDns } from '../../test/domains/stub-dns';

describe('smime-relay doctor (DNS only)', () => {
  test('prints one line per check with its fix, and exits 1 when a check fails', async () => {
    const out: string[] = [];
    const dns = stubDns({ txt: { 'example.com': ['v=spf1 -all'] } });
    const code = await doctorCommand(['--domain', 'Example.com'], {
      dns,
      write: (s) => out.push(s),
    });
    assert.equal(code, 1);
    const text = out.join('\n');
    assert.match(text, /^PASS {2}spf {9}SPF record found, 0 of 10 DNS lookups$/m);
    assert.match(text, /^FAIL {2}dmarc {7}no DMARC record at _dmarc\.example\.com$/m);
    assert.match(text, /^ +fix: Publish TXT at _dmarc\.example\.com/m);
    assert.match(text, /^Overall: FAIL$/m);
  });

  test('exits 0 when nothing fails, and --json prints the report', async () => {
    const out: string[] = [];
    const dns = stubDns({
      txt: { 'example.com': ['v=spf1 -all'], '_dmarc.example.com': ['v=DMARC1; p=reject'] },
    });
    const code = await doctorCommand(['--domain', 'example.com', '--json'], {
      dns,
      write: (s) => out.push(s),
    });
    assert.equal(code, 0);
    const report = JSON.parse(out[0]);
    assert.equal(report.overall, 'pass');
    assert.deepEqual(
      report.items.map((i: { check: string }) => i.check),
      ['spf', 'dmarc'],
    );
  });

  test('refuses a missing or malformed domain', async () => {
    await assert.rejects(doctorCommand([], { dns: stubDns({}) }), /--domain needs a domain name/);
    await assert.rejects(
      doctorCommand(['--domain', 'not a domain'], { dns: stubDns({}) }),
      /--domain/,
    );
  });
});
