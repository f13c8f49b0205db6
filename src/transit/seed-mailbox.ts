/**
 * Reading a check message back from the seed mailbox over IMAP (imapflow). The server goes
 * through the egress guard first (IMAP_ALLOW_PRIVATE lets it be on a private network), and
 * the connection goes to the address that was checked, with the host name kept for TLS.
 * Plain IMAP without TLS is refused except on loopback, so the password never crosses a
 * network in clear.
 */
import { ImapFlow } from 'imapflow';
import { checkedAddress, EgressRefused } from '../egress/egress-guard';
import type { SeedImapSettings } from './transit-settings';

export class SeedMailboxError extends Error {
  override readonly name = 'SeedMailboxError';
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** The header that marks a check message: `X-Smime-Relay-Check: <check id>`. */
export const CHECK_HEADER = 'X-Smime-Relay-Check';

function describe(e: unknown): string {
  const err = e as {
    message?: string;
    responseText?: string;
    code?: string;
    authenticationFailed?: boolean;
  };
  if (err.authenticationFailed)
    return 'the IMAP server refused the login (check imap.user and imap.pass)';
  return err.responseText || err.message || String(e);
}

export async function openSeedMailbox(
  s: SeedImapSettings,
  o: { allowPrivate: boolean; timeoutMs: number },
): Promise<ImapFlow> {
  const host = s.host.replace(/^\[(.*)\]$/, '$1');
  if (s.tls === 'none' && !LOOPBACK.test(host)) {
    throw new SeedMailboxError(
      'imap.tls "none" is allowed for a loopback server only; use implicit or starttls',
    );
  }
  let address: string;
  try {
    address = await checkedAddress(host, { allowPrivate: o.allowPrivate });
  } catch (e) {
    if (!(e instanceof EgressRefused)) throw e;
    const hint = o.allowPrivate
      ? ''
      : ' (a seed mailbox on a private network needs IMAP_ALLOW_PRIVATE=true)';
    throw new SeedMailboxError(
      `imap.host: ${e.message.replace(/outbound connections may only go to/, 'seed mailboxes must be at')}${hint}`,
    );
  }
  const client = new ImapFlow({
    host: address,
    port: s.port,
    secure: s.tls === 'implicit',
    doSTARTTLS: s.tls === 'starttls' ? true : s.tls === 'none' ? false : undefined,
    servername: host,
    tls: { rejectUnauthorized: s.rejectUnauthorized, servername: host },
    auth: { user: s.user, pass: s.pass },
    logger: false,
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: Math.max(o.timeoutMs, 30_000),
    disableAutoIdle: true,
  });
  client.on('error', () => undefined); // reported through the command that fails
  try {
    await client.connect();
  } catch (e) {
    throw new SeedMailboxError(`cannot read the seed mailbox at ${host}:${s.port}: ${describe(e)}`);
  }
  return client;
}

/**
 * The raw copy of check `checkId` in the mailbox, removed from it once read; undefined when
 * it has not arrived (yet).
 */
export async function takeCheckCopy(
  client: ImapFlow,
  mailbox: string,
  checkId: string,
): Promise<Buffer | undefined> {
  let lock;
  try {
    lock = await client.getMailboxLock(mailbox);
  } catch (e) {
    throw new SeedMailboxError(`cannot open the mailbox "${mailbox}": ${describe(e)}`);
  }
  try {
    const found = await client.search({ header: { [CHECK_HEADER]: checkId } }, { uid: true });
    if (!found || found.length === 0) return undefined;
    const uid = found[found.length - 1];
    const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
    const source = message ? message.source : undefined;
    await client.messageDelete(found.join(','), { uid: true }).catch(() => undefined);
    return source ?? undefined;
  } finally {
    lock.release();
  }
}

/** Checks that the mailbox can be opened with these settings (at save time). */
export async function checkSeedMailbox(
  s: SeedImapSettings,
  o: { allowPrivate: boolean; timeoutMs: number },
): Promise<void> {
  const client = await openSeedMailbox(s, o);
  try {
    const lock = await client.getMailboxLock(s.mailbox).catch((e: unknown) => {
      throw new SeedMailboxError(`cannot open the mailbox "${s.mailbox}": ${describe(e)}`);
    });
    lock.release();
  } finally {
    await client.logout().catch(() => client.close());
  }
}
