/**
 * Sending finished messages over SMTP for transports (any relay host, SendGrid, Postmark):
 * one nodemailer pool per distinct connection settings, the raw bytes sent as they are with
 * the given envelope, the pieces each transport needs to judge a failure, and the transport
 * they share. (The settings class for providers' relays is in smtp-settings.ts.)
 */
import { createHash } from 'node:crypto';
import { createTransport, type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import {
  DeliveryError,
  type DeliveryResult,
  type DeliveryTransport,
  type EgressPolicy,
  type Envelope,
  type SettingsFieldDeclaration,
} from './contract';
import { EgressRefused } from '../egress/egress-guard';

export type SmtpConnection = Omit<SMTPPool.Options, 'pool'>;

/** Time limits for connect, greeting and an idle socket. */
export const SMTP_TIMEOUTS = {
  connectionTimeout: 30_000,
  greetingTimeout: 30_000,
  socketTimeout: 120_000,
};

/** What nodemailer puts on the errors it throws. */
export interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** Node and nodemailer codes of a connection that failed, timed out or broke off. */
export const SMTP_CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EPROTOCOL',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
]);

/** A reply or message as one line of at most 500 characters. */
export const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 500);

/** How long an upstream host's checked address is reused before it is resolved again. */
const ADDRESS_TTL_MS = 60_000;

export class PooledSmtpClient {
  /** Keyed by a hash of the settings, so no password is kept as a map key. */
  private readonly pools = new Map<string, Transporter>();
  private readonly addresses = new Map<string, { address: string; until: number }>();

  constructor(private readonly egress: EgressPolicy) {}

  /**
   * The connection with the upstream's host replaced by the address the egress policy
   * checked (so the connection goes where the check looked), the name kept for TLS.
   */
  private async checked(connection: SmtpConnection): Promise<SmtpConnection> {
    const host = connection.host ?? 'localhost';
    let hit = this.addresses.get(host);
    if (!hit || hit.until < Date.now()) {
      let address: string;
      try {
        address = await this.egress.address('smtp-upstream', host);
      } catch (e) {
        if (!(e instanceof EgressRefused)) throw e;
        throw new DeliveryError(
          `the SMTP upstream is refused: ${e.message.replace('outbound connections may only go to public addresses', 'it must be public or on a network listed in SMTP_UPSTREAM_ALLOW')}`,
          true,
        );
      }
      hit = { address, until: Date.now() + ADDRESS_TTL_MS };
      this.addresses.set(host, hit);
    }
    const tls = { ...connection.tls, servername: connection.tls?.servername ?? host };
    return { ...connection, host: hit.address, tls, name: connection.name };
  }

  private async pool(given: SmtpConnection): Promise<Transporter> {
    const connection = await this.checked(given);
    const options = { ...SMTP_TIMEOUTS, ...connection, pool: true } as SMTPPool.Options;
    const key = createHash('sha256').update(JSON.stringify(options)).digest('hex');
    let pool = this.pools.get(key);
    if (!pool) {
      pool = createTransport(options);
      this.pools.set(key, pool);
    }
    return pool;
  }

  /**
   * Send `raw` unchanged with `envelope`; the upstream's "queued as X" becomes the message id.
   * nodemailer's errors are thrown as they are, for the transport to judge.
   */
  async send(connection: SmtpConnection, envelope: Envelope, raw: Buffer): Promise<DeliveryResult> {
    const info = await (
      await this.pool(connection)
    ).sendMail({
      envelope: { from: envelope.from, to: envelope.to },
      raw,
    });
    const response = typeof info.response === 'string' ? info.response : undefined;
    const queued = response && /queued as ([^\s]+)/i.exec(response);
    return { response, providerMessageId: queued ? queued[1] : undefined };
  }

  /** Connect, STARTTLS and AUTH on a connection of its own; no mail is sent. */
  async verify(given: SmtpConnection): Promise<void> {
    const connection = await this.checked(given);
    const probe = createTransport({ ...SMTP_TIMEOUTS, ...connection, pool: false });
    try {
      await probe.verify();
    } finally {
      probe.close();
    }
  }

  close(): void {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
    this.addresses.clear();
  }
}

/**
 * A provider's SMTP failure as a verdict: 4xx replies are deferrals and 5xx refusals unless
 * `special` says otherwise for a code (with its own sentence); connection failures are
 * tried again; nodemailer's EAUTH, ENOAUTH and ECONFIG mean the settings do not work.
 * Messages name the SMTP step and code, never a password or key.
 */
export function smtpDeliveryError(
  e: unknown,
  provider: string,
  special?: (code: number, at: string) => { message: string; permanent: boolean } | undefined,
): DeliveryError {
  if (e instanceof DeliveryError) return e; // a verdict already (the egress policy's refusal)
  const err = (e ?? {}) as SmtpFailure;
  const reply = typeof err.response === 'string' ? oneLine(err.response) : undefined;
  const step = err.command ? /^(MAIL FROM|RCPT TO|[A-Z]+)/.exec(err.command)?.[0] : undefined;
  const at = step ? ` at ${step}` : '';
  const code = err.responseCode;
  const fail = (message: string, permanent: boolean): DeliveryError =>
    new DeliveryError(message, permanent, reply, { cause: e });
  if (typeof code === 'number' && code >= 400 && code < 600) {
    const own = special?.(code, at);
    if (own) return fail(own.message, own.permanent);
    const permanent = code >= 500;
    const verdict = permanent ? 'refused the message' : 'deferred the message, try again later';
    return fail(`${provider} ${verdict}${at} (${code})`, permanent);
  }
  if (err.code && SMTP_CONNECTION_CODES.has(err.code)) {
    return fail(`${provider} could not be reached (${err.code})`, false);
  }
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH' || err.code === 'ECONFIG') {
    return fail(`the ${provider} settings do not work (${err.code})`, true);
  }
  return fail(`delivery to ${provider} failed (${err.code ?? 'unknown'})`, false);
}

/**
 * A delivery transport over SMTP: the signed bytes go out unchanged, after the transport's
 * header lines if it has any (outside the signature), on a pooled connection per distinct
 * settings. A failure is turned into the transport's own verdict, or passed on as it is
 * for the core to classify.
 */
export abstract class SmtpRelayTransport<S extends object> implements DeliveryTransport<S> {
  abstract readonly id: string;
  abstract readonly settings: new () => S;
  abstract readonly secretFields: readonly string[];
  abstract readonly fields: readonly SettingsFieldDeclaration[];
  private readonly client: PooledSmtpClient;

  constructor(egress: EgressPolicy) {
    this.client = new PooledSmtpClient(egress);
  }

  protected abstract connection(s: S): SmtpConnection;

  /** Header lines put in front of the signed message; none by default. */
  protected headerLines(_s: S): Buffer | undefined {
    return undefined;
  }

  /**
   * The failure as this transport's verdict: by default the one SMTP verdict
   * (smtpDeliveryError) every SMTP transport shares; providers add their own codes.
   */
  protected deliveryError(e: unknown): unknown {
    return smtpDeliveryError(e, 'the upstream');
  }

  async send(signed: Buffer, envelope: Envelope, s: S): Promise<DeliveryResult> {
    const head = this.headerLines(s);
    try {
      return await this.client.send(
        this.connection(s),
        envelope,
        head ? Buffer.concat([head, signed]) : signed,
      );
    } catch (e) {
      throw this.deliveryError(e);
    }
  }

  /** Connect, STARTTLS and AUTH; no mail is sent. */
  async verify(s: S): Promise<void> {
    try {
      await this.client.verify(this.connection(s));
    } catch (e) {
      throw this.deliveryError(e);
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** The connection to a provider's relay: STARTTLS required, authenticated as given. */
export function providerSmtpConnection(
  s: { host?: string; port?: number; rejectUnauthorized?: boolean },
  defaultHost: string,
  auth: { user: string; pass: string },
): SmtpConnection {
  return {
    host: s.host ?? defaultHost,
    port: s.port ?? 587,
    secure: false,
    requireTLS: true,
    auth,
    tls: { rejectUnauthorized: s.rejectUnauthorized ?? true },
  };
}
