/**
 * SMTP submission: the way every platform can hand mail to the relay. AUTH PLAIN or LOGIN
 * with the tenant's SMTP credentials, STARTTLS (and implicit TLS on a second port) when a
 * certificate is configured, SIZE announced and enforced. At the end of DATA the message
 * goes to Intake, and the reply is 250 only after its row is committed.
 */
import { Logger } from '@nestjs/common';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Intake, PluginMetrics, SubmissionCredentials } from '../../src/plugin/contract';
import { ConnectionLimits, DEFAULT_THROTTLE, LoginThrottle } from './login-throttle';
import { ERROR_CODES } from '../../src/plugin/error-codes';
import { RelayError } from '../../src/plugin/relay-error';
import type { SmtpConfig, SmtpTls } from './smtp.config';

/** An smtp-server error reply; enhanced status codes are written into the text. */
export function smtpReply(code: number, enhanced: string, text: string): Error {
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code });
}

/** A refusal as the SMTP client sees it: "550 5.7.1 [from_mismatch] …. What to do." */
export function replyFor(e: unknown): Error {
  if (e instanceof RelayError) {
    const [code, enhanced] = ERROR_CODES[e.code].smtp;
    return smtpReply(code, enhanced, `[${e.code}] ${e.message}. ${e.hint}`);
  }
  return smtpReply(
    451,
    '4.3.0',
    '[internal_error] the message could not be stored; try again later',
  );
}

/** The SMTP envelope of a session: MAIL FROM (empty for <>) and every accepted RCPT TO. */
function envelopeOf(session: SMTPServerSession): { from: string; to: string[] } {
  const mailFrom = session.envelope.mailFrom;
  return {
    from: mailFrom ? mailFrom.address : '',
    to: session.envelope.rcptTo.map((r) => r.address),
  };
}

export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/i, '');
  return isIP(a) === 4 ? a.startsWith('127.') : a === '::1';
}

export interface SubmissionOptions {
  config: SmtpConfig;
  tls?: SmtpTls;
  maxMessageBytes: number;
  intake: Intake;
  credentials: SubmissionCredentials;
  metrics?: PluginMetrics;
  /** Brakes on password guessing; default DEFAULT_THROTTLE. */
  throttle?: LoginThrottle;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SubmissionServer {
  private readonly log = new Logger('SmtpSubmission');
  private readonly servers: SMTPServer[] = [];
  /** Bound ports, after listen() (port 0 picks a free one). */
  readonly ports: { submission?: number; smtps?: number } = {};

  private readonly throttle: LoginThrottle;
  private readonly limits: ConnectionLimits;

  constructor(private readonly o: SubmissionOptions) {
    this.throttle =
      o.throttle ??
      new LoginThrottle({
        ...DEFAULT_THROTTLE,
        perAddress: o.config.SMTP_AUTH_FAILURES_PER_ADDRESS,
        perUsername: o.config.SMTP_AUTH_FAILURES_PER_USERNAME,
      });
    this.limits = new ConnectionLimits(
      o.config.SMTP_MAX_CONNECTIONS_PER_ADDRESS,
      o.config.SMTP_MAX_CONNECTIONS,
    );
  }

  private options(secure: boolean): SMTPServerOptions {
    const { config, tls } = this.o;
    return {
      secure,
      ...(tls ? { key: tls.key, cert: tls.cert } : {}),
      hideSTARTTLS: !tls || secure,
      name: config.SMTP_HOSTNAME ?? hostname(),
      banner: 'smime-relay S/MIME signing relay',
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: false,
      // Checked in onAuth: loopback and SMTP_ALLOW_INSECURE_AUTH may authenticate in clear.
      allowInsecureAuth: true,
      size: this.o.maxMessageBytes,
      disabledCommands: [],
      logger: false,
      // At shutdown, sessions get this long to finish before they are closed.
      closeTimeout: 10_000,
      onConnect: (session, done) => {
        const refused = this.limits.take(session.remoteAddress);
        if (!refused) return done();
        (session as { refusedConnection?: boolean }).refusedConnection = true;
        this.o.metrics?.smtpConnectionsRefused.inc({ reason: refused });
        const text =
          refused === 'too_many_total'
            ? 'too many connections; try again later'
            : 'too many connections from your address; try again later';
        // smtp-server closes the connection after this reply; no slot was taken
        done(smtpReply(421, '4.7.0', text));
      },
      onClose: (session) => {
        // smtp-server calls onClose for refused connections too: only free a taken slot
        if (!(session as { refusedConnection?: boolean }).refusedConnection) {
          this.limits.release(session.remoteAddress);
        }
      },
      onAuth: (auth, session, done) => {
        this.authenticate(auth.username ?? '', auth.password ?? '', session).then(
          (tenantId) => done(null, { user: tenantId }),
          (e: Error) => done(e),
        );
      },
      onData: (stream, session, done) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => {
          if (!stream.sizeExceeded) chunks.push(c);
        });
        stream.on('error', () => undefined); // the client left mid-DATA: nothing is stored
        stream.on('end', () => {
          if (stream.sizeExceeded) {
            const limit = this.o.maxMessageBytes;
            const head = Buffer.concat(chunks);
            this.o.intake.refused(
              {
                tenantId: String(session.user),
                source: 'smtp',
                envelope: envelopeOf(session),
                raw: head,
                size: stream.byteLength ?? head.length,
                remoteAddress: session.remoteAddress,
              },
              new RelayError('too_large', `the message is larger than the limit of ${limit} bytes`),
            );
            done(smtpReply(552, '5.3.4', `[too_large] the limit is ${limit} bytes`));
            return;
          }
          this.submit(Buffer.concat(chunks), session).then(
            (id) => done(null, `2.6.0 queued as ${id}`),
            (e: unknown) => done(replyFor(e)),
          );
        });
      },
    };
  }

  private async authenticate(
    username: string,
    password: string,
    session: SMTPServerSession,
  ): Promise<string> {
    if (
      !session.secure &&
      !this.o.config.SMTP_ALLOW_INSECURE_AUTH &&
      !isLoopback(session.remoteAddress)
    ) {
      throw smtpReply(538, '5.7.11', 'encryption required: issue STARTTLS before AUTH');
    }
    const address = session.remoteAddress;
    if (this.throttle.lockedFor(address, username) > 0) {
      this.o.metrics?.smtpAuthFailures.inc({ reason: 'throttled' });
      throw smtpReply(454, '4.7.0', 'too many failed logins; try again later');
    }
    let tenantId: string | undefined;
    try {
      tenantId = await this.o.credentials.tenantFor(username, password);
    } catch (e) {
      this.log.warn(`AUTH could not be checked: ${(e as Error).message}`);
      throw smtpReply(454, '4.7.0', 'temporary authentication failure; try again later');
    }
    if (!tenantId) {
      const delay = this.throttle.failed(address, username);
      this.o.metrics?.smtpAuthFailures.inc({ reason: 'bad_credentials' });
      // The username is not secret (it names a login, not a tenant); never the password.
      this.log.warn(
        `SMTP AUTH failed for ${JSON.stringify(username.slice(0, 64))} from ${address}`,
      );
      await sleep(delay);
      throw smtpReply(535, '5.7.8', '[unauthorized] authentication credentials invalid');
    }
    this.throttle.succeeded(username);
    return tenantId;
  }

  private async submit(raw: Buffer, session: SMTPServerSession): Promise<string> {
    const accepted = await this.o.intake.accept({
      tenantId: String(session.user),
      envelope: envelopeOf(session),
      raw,
      source: 'smtp',
      remoteAddress: session.remoteAddress,
    });
    // Split by the tenant's per-domain rules: every message id, the first one first.
    return accepted.messageIds.join(', ');
  }

  async listen(): Promise<void> {
    const { config, tls } = this.o;
    const start = async (secure: boolean, port: number): Promise<number> => {
      const server = new SMTPServer(this.options(secure));
      server.on('error', (e) => this.log.warn(`SMTP connection error: ${e.message}`));
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(port, config.SMTP_HOST, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
      this.servers.push(server);
      return (server.server.address() as { port: number }).port;
    };
    this.ports.submission = await start(false, config.SMTP_PORT);
    this.log.log(
      `SMTP submission on ${config.SMTP_HOST}:${this.ports.submission}${tls ? ' (STARTTLS)' : ''}`,
    );
    if (config.SMTPS_PORT !== undefined) {
      this.ports.smtps = await start(true, config.SMTPS_PORT);
      this.log.log(`SMTP submission with implicit TLS on ${config.SMTP_HOST}:${this.ports.smtps}`);
    }
  }

  /** Stop accepting connections; sessions in progress are given a moment to finish. */
  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.length = 0;
  }
}
