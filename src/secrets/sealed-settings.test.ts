import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { RelayError } from '../plugin/relay-error';
import { MasterKeyRing } from './key-vault';
import { SealedSettings } from './sealed-settings';

class Mailbox {
  host!: string;
  imap!: { user: string; pass?: string; oauth?: { token?: string } };
  apiKey?: string;
  port = 993;
}

const FIELDS = ['imap.pass', 'imap.oauth.token', 'apiKey'];
const owner = { tenantId: 'tenant-a', certificateId: 'mailbox' };
const settings = (): Mailbox =>
  Object.assign(new Mailbox(), {
    host: 'imap.example.net',
    imap: { user: 'seed', pass: 'hunter2', oauth: { token: 'tok-123' } },
  });
const codeOf = async (fn: () => unknown): Promise<string> => {
  try {
    await fn();
  } catch (e) {
    return e instanceof RelayError ? `${e.code}: ${e.message}` : 'other';
  }
  return 'none';
};

describe('sealed settings', () => {
  const ring = new MasterKeyRing(randomBytes(32));
  const fields = new SealedSettings(Mailbox, FIELDS, ring);

  it('splits the secrets out, seals them, and opens them again (nested paths)', () => {
    const { plain, sealed, secretPaths } = fields.seal(settings(), owner);
    assert.deepEqual(plain, {
      host: 'imap.example.net',
      imap: { user: 'seed', oauth: {} },
      port: 993,
    });
    assert.deepEqual(secretPaths, ['imap.pass', 'imap.oauth.token']);
    assert.ok(sealed && !sealed.includes('hunter2') && !sealed.includes('tok-123'));
    assert.deepEqual(fields.secrets(sealed, owner), {
      'imap.pass': 'hunter2',
      'imap.oauth.token': 'tok-123',
    });
    const opened = fields.open(plain, new Uint8Array(sealed), owner);
    assert.ok(opened instanceof Mailbox);
    assert.deepEqual({ ...opened }, { ...settings() });
  });

  it('stores no record without secrets, unless asked to', () => {
    const bare = { host: 'h', imap: { user: 'u' } };
    assert.equal(fields.seal(bare, owner).sealed, null);
    assert.deepEqual(fields.secrets(null, owner), {});
    assert.deepEqual(
      { ...fields.open(bare, null, owner) },
      { ...Object.assign(new Mailbox(), bare) },
    );
    const always = new SealedSettings(Mailbox, FIELDS, ring, { sealEmpty: true });
    const { sealed } = always.seal(bare, owner);
    assert.ok(sealed);
    assert.deepEqual(always.secrets(sealed, owner), {});
  });

  it('a record does not open for another owner (AAD)', async () => {
    const { sealed } = fields.seal(settings(), owner);
    const other = { ...owner, tenantId: 'tenant-b' };
    assert.match(await codeOf(() => fields.secrets(sealed, other)), /^key_unavailable/);
    assert.match(
      await codeOf(() => fields.open({}, sealed, { ...owner, certificateId: 'x' })),
      /^key_unavailable/,
    );
  });

  it('redacts the secrets the record holds, or every declared one', () => {
    const { plain, sealed } = fields.seal(settings(), owner);
    const shown = fields.view(plain, sealed, owner);
    assert.deepEqual(shown, {
      host: 'imap.example.net',
      imap: { user: 'seed', pass: '[redacted]', oauth: { token: '[redacted]' } },
      port: 993,
    });
    assert.equal(fields.redact(plain).apiKey, '[redacted]', 'by default every declared field');
    assert.deepEqual(plain.imap, { user: 'seed', oauth: {} }, 'the input is not changed');
    assert.deepEqual(fields.view({ host: 'h' }, null, owner), { host: 'h' });
  });

  it('a record that does not open: view throws, or redacts every declared field', async () => {
    const { plain, sealed } = fields.seal(settings(), owner);
    const foreign = new MasterKeyRing(randomBytes(32));
    const strict = new SealedSettings(Mailbox, FIELDS, foreign);
    assert.match(await codeOf(() => strict.view(plain, sealed, owner)), /^key_unavailable/);
    const lenient = new SealedSettings(Mailbox, FIELDS, foreign, {
      viewUnopenable: 'redact-declared',
    });
    const shown = lenient.view(plain, sealed, owner);
    assert.equal(shown.apiKey, '[redacted]');
    assert.deepEqual(lenient.view({ host: 'h' }, null, owner), { host: 'h' });
  });

  it('viewOnlyDeclared leaves out a held secret that is no longer declared', () => {
    const { plain, sealed } = fields.seal(settings(), owner);
    const fewer = new SealedSettings(Mailbox, ['imap.pass'], ring, { viewOnlyDeclared: true });
    assert.deepEqual(fewer.view(plain, sealed, owner).imap, {
      user: 'seed',
      pass: '[redacted]',
      oauth: {},
    });
    const all = new SealedSettings(Mailbox, ['imap.pass'], ring);
    assert.deepEqual(all.view(plain, sealed, owner).imap, {
      user: 'seed',
      pass: '[redacted]',
      oauth: { token: '[redacted]' },
    });
  });

  it('an update keeps a secret sent as "[redacted]" and takes a new one', async () => {
    const stored = settings();
    const update = {
      host: 'imap2.example.net',
      imap: { user: 'seed', pass: '[redacted]', oauth: { token: 'tok-new' } },
    };
    const merged = await fields.keepRedacted(update, () => stored);
    assert.deepEqual(merged, {
      host: 'imap2.example.net',
      imap: { user: 'seed', pass: 'hunter2', oauth: { token: 'tok-new' } },
    });
    assert.equal(update.imap.pass, '[redacted]', 'the update is not changed');
  });

  it('an update without "[redacted]" is returned as is, without loading the stored one', async () => {
    const update = { host: 'h', imap: { user: 'u' } };
    let loaded = false;
    const merged = await fields.keepRedacted(update, () => {
      loaded = true;
      return settings();
    });
    assert.equal(merged, update, 'an absent secret stays absent');
    assert.equal(loaded, false);
  });

  it('"[redacted]" with nothing stored to keep is refused', async () => {
    const update = { imap: { user: 'u', oauth: { token: '[redacted]' } } };
    assert.equal(
      await codeOf(() => fields.keepRedacted(update, async () => undefined)),
      'invalid_request: imap.oauth.token has no stored value to keep',
    );
    const stored = { host: 'h', imap: { user: 'u' } };
    assert.equal(
      await codeOf(() => fields.keepRedacted(update, () => stored)),
      'invalid_request: imap.oauth.token has no stored value to keep',
    );
    const worded = new SealedSettings(Mailbox, FIELDS, ring, {
      nothingToKeep: (p) => `${p}: there is no stored password to keep`,
    });
    assert.equal(
      await codeOf(() => worded.keepRedacted(update, () => undefined)),
      'invalid_request: imap.oauth.token: there is no stored password to keep',
    );
  });
});
