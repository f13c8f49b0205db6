/**
 * The demo newsletter's way through the relay: submitted over SMTP with AUTH PLAIN (as a
 * marketing platform would), then followed through the message API until it is delivered.
 */
import { createTransport } from 'nodemailer';
import { ERROR_CODES, type ErrorCode } from '../plugin/error-codes';
import { RelayError } from '../plugin/relay-error';
import type { AdminClient } from './admin-client';
import { demoNewsletter } from './demo-newsletter';

export interface MessageStatus {
  id: string;
  state: string;
  attempts: number;
  lastError: { code: string; message: string } | null;
  attemptLog: { outcome: string; reply: string | null }[];
}

const knownCode = (code: string | undefined): ErrorCode =>
  code !== undefined && code in ERROR_CODES ? (code as ErrorCode) : 'internal_error';

/** Submits the newsletter; resolves to the relay's message id from its 250 reply. */
export async function submitNewsletter(
  smtpPort: number,
  credentials: { username: string; password: string },
): Promise<string> {
  const client = createTransport({
    host: '127.0.0.1',
    port: smtpPort,
    secure: false,
    ignoreTLS: true,
    auth: { user: credentials.username, pass: credentials.password },
    authMethod: 'PLAIN',
  });
  try {
    const info = await client.sendMail(demoNewsletter());
    const id = /queued as ([0-9a-f-]{36})/.exec(String(info.response))?.[1];
    if (!id) {
      throw new RelayError(
        'internal_error',
        `no message id in the relay's reply "${info.response}"`,
      );
    }
    return id;
  } catch (e) {
    if (e instanceof RelayError) throw e;
    // "550 5.7.1 [from_mismatch] what is wrong. What to do." → that code and sentence.
    const reply = String((e as { response?: string }).response ?? (e as Error).message);
    const code = knownCode(/\[(\w+)\]/.exec(reply)?.[1]);
    const sentence = reply.replace(ERROR_CODES[code].hint, '').trim().replace(/\.$/, '');
    throw new RelayError(code, `the relay did not accept the newsletter: ${sentence}`);
  } finally {
    client.close();
  }
}

const describeLast = (m: MessageStatus): string =>
  m.lastError
    ? `last error [${m.lastError.code}] ${m.lastError.message.replace(/\.$/, '')}`
    : 'no error recorded';

/** Polls the message until it is delivered; a final other state or the time limit throws. */
export async function waitForDelivery(
  admin: AdminClient,
  tenantId: string,
  messageId: string,
  timeoutMs: number,
): Promise<MessageStatus> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await admin.request<MessageStatus>(
      'GET',
      `/v1/tenants/${tenantId}/messages/${messageId}`,
    );
    if (m.state === 'delivered') return m;
    if (m.state === 'failed' || m.state === 'sent_unsigned') {
      throw new RelayError(
        knownCode(m.lastError?.code),
        `message ${messageId} ended as ${m.state}, not delivered signed (${describeLast(m)})`,
      );
    }
    if (Date.now() > until) {
      throw new RelayError(
        knownCode(m.lastError?.code),
        `message ${messageId} was not delivered within ${Math.round(timeoutMs / 1000)} s: ` +
          `state ${m.state} after ${m.attempts} attempt(s), ${describeLast(m)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
