/**
 * A real IMAP server for the tests: Debian's Dovecot (`dovecot-imapd`), started from its own
 * configuration in a temporary directory, listening on a free loopback port, with Maildir
 * mailboxes for the users given. As root (CI), Dovecot's login and mail processes run as its
 * own unprivileged users (dovenull, dovecot), which is what it requires.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { ImapFlow } from 'imapflow';
import { freePort } from './ports';
import { runOk } from './pki-exec';

export const DOVECOT = '/usr/sbin/dovecot';

export interface Dovecot {
  port: number;
  /** Append a raw message to a user's INBOX (as a delivering MTA would). */
  deliver(user: string, raw: Buffer): Promise<void>;
  /** The raw messages in a user's INBOX. */
  messages(user: string): Promise<Buffer[]>;
  stop(): Promise<void>;
}

async function uidOf(name: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await runOk('id', ['-u', name])).stdout.trim());
  const gid = Number((await runOk('id', ['-g', name])).stdout.trim());
  return { uid, gid };
}

function listening(port: number, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = connect(port, '127.0.0.1');
      s.once('data', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`Dovecot did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** Starts Dovecot with the users (name → password) given. */
export async function startDovecot(users: Record<string, string>): Promise<Dovecot> {
  if (!existsSync(DOVECOT)) {
    throw new Error(
      `${DOVECOT} is missing: the transit-check tests need Debian's dovecot-imapd. ` +
        'Install it with `apt-get install -y dovecot-imapd` (.ci/run does this).',
    );
  }
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync('/tmp/smime-dovecot-');
  chmodSync(dir, 0o755);
  const mail = join(dir, 'mail');
  mkdirSync(mail);
  const me = userInfo().username;
  const owner = root ? await uidOf('dovecot') : { uid: userInfo().uid, gid: userInfo().gid };
  if (root) chownSync(mail, owner.uid, owner.gid);
  const port = await freePort();
  writeFileSync(
    join(dir, 'users'),
    Object.entries(users)
      .map(([u, p]) => `${u}:{PLAIN}${p}:${owner.uid}:${owner.gid}::${join(mail, u)}`)
      .join('\n') + '\n',
  );
  const config = [
    'protocols = imap',
    'listen = 127.0.0.1',
    `base_dir = ${join(dir, 'run')}`,
    `state_dir = ${join(dir, 'state')}`,
    `instance_name = smime-test-${port}`,
    `log_path = ${join(dir, 'dovecot.log')}`,
    'ssl = no',
    'disable_plaintext_auth = no',
    'auth_mechanisms = plain login',
    'mail_location = maildir:~/Maildir',
    `default_internal_user = ${root ? 'dovecot' : me}`,
    `default_internal_group = ${root ? 'dovecot' : me}`,
    `default_login_user = ${root ? 'dovenull' : me}`,
    'first_valid_uid = 0',
    `passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%n ${join(dir, 'users')}\n}`,
    `userdb {\n  driver = passwd-file\n  args = username_format=%n ${join(dir, 'users')}\n}`,
    `service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    port = 0\n  }\n  chroot =\n}`,
    'service anvil {\n  chroot =\n}',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'dovecot.conf'), config);
  const proc: ChildProcess = spawn(DOVECOT, ['-c', join(dir, 'dovecot.conf'), '-F'], {
    stdio: 'ignore',
  });
  const cleanup = (): void => {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  await listening(port, Date.now() + 20_000);

  const client = async (user: string): Promise<ImapFlow> => {
    const c = new ImapFlow({
      host: '127.0.0.1',
      port,
      secure: false,
      doSTARTTLS: false,
      auth: { user, pass: users[user] },
      logger: false,
    });
    await c.connect();
    return c;
  };
  return {
    port,
    async deliver(user, raw) {
      const c = await client(user);
      try {
        await c.append('INBOX', raw);
      } finally {
        await c.logout();
      }
    },
    async messages(user) {
      const c = await client(user);
      const out: Buffer[] = [];
      try {
        const lock = await c.getMailboxLock('INBOX');
        try {
          for await (const m of c.fetch('1:*', { source: true })) if (m.source) out.push(m.source);
        } catch {
          // an empty mailbox has no 1:*
        } finally {
          lock.release();
        }
      } finally {
        await c.logout();
      }
      return out;
    },
    async stop() {
      process.removeListener('exit', cleanup);
      proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      cleanup();
    },
  };
}
