/**
 * Delivery through SendGrid's SMTP relay. The signed message goes out byte for byte, with one
 * extra header field in front of it (outside the signature): an X-SMTPAPI instruction that
 * switches off every SendGrid feature that rewrites the body (click and open tracking,
 * subscription links, footers, Google Analytics link parameters). SendGrid also re-wraps
 * encoded lines, which no detached signature survives, so messages are signed opaque by
 * default.
 */
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { createHash } from 'node:crypto';
import { createTransport, type Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import {
  DeliveryError,
  type DeliveryResult,
  type DeliveryTransport,
  type Envelope,
} from '../../src/plugin/contract';

export const SENDGRID_SMTP_HOST = 'smtp.sendgrid.net';
/** SendGrid's SMTP username is this literal string; the API key is the password. */
export const SENDGRID_SMTP_USER = 'apikey';

const SIGNATURE_FORMATS = ['opaque', 'detached'] as const;

export class SendgridDeliverySettings {
  /** A SendGrid API key with the "Mail Send" permission (secret). */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  @Matches(/^\S+$/, { message: 'apiKey must not contain spaces or line breaks' })
  apiKey!: string;

  /** For proxies and tests; default smtp.sendgrid.net. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9.-]{1,253}$/, { message: 'host must be a host name or an IP address' })
  host = SENDGRID_SMTP_HOST;

  /** For proxies and tests; default 587 (STARTTLS, required). */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  port = 587;

  /** Check the relay's certificate (default true; false only for a private test host). */
  @IsOptional()
  @IsBoolean()
  rejectUnauthorized = true;

  /** `opaque` (default) survives SendGrid's re-wrapping; `detached` shows in every reader. */
  @IsOptional()
  @IsIn(SIGNATURE_FORMATS)
  signatureFormat: (typeof SIGNATURE_FORMATS)[number] = 'opaque';
}

/**
 * Per-message SendGrid settings: every filter that changes the content is disabled
 * (https://www.twilio.com/docs/sendgrid/for-developers/sending-email/smtp-filters).
 */
export const SENDGRID_SMTPAPI = {
  filters: {
    clicktrack: { settings: { enable: 0 } },
    opentrack: { settings: { enable: 0 } },
    subscriptiontrack: { settings: { enable: 0 } },
    footer: { settings: { enable: 0 } },
    ganalytics: { settings: { enable: 0 } },
  },
};

/** The header lines put in front of the signed message: one field, one line, CRLF. */
export const SENDGRID_HEADER_LINES = Buffer.from(
  `X-SMTPAPI: ${JSON.stringify(SENDGRID_SMTPAPI)}\r\n`,
  'latin1',
);

const TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 120_000 };

function options(s: SendgridDeliverySettings): SMTPPool.Options {
  return {
    pool: true,
    host: s.host ?? SENDGRID_SMTP_HOST,
    port: s.port ?? 587,
    secure: false,
    requireTLS: true,
    auth: { user: SENDGRID_SMTP_USER, pass: s.apiKey },
    tls: { rejectUnauthorized: s.rejectUnauthorized ?? true },
    ...TIMEOUTS,
  };
}

/** What nodemailer puts on its errors. */
interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** Node and nodemailer codes of a connection that failed, timed out or broke off. */
const CONNECTION_CODES = new Set([
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

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim().slice(0, 500);

/**
 * SendGrid's documented SMTP replies as a verdict
 * (https://www.twilio.com/docs/sendgrid/for-developers/sending-email/smtp-errors-and-troubleshooting):
 * 4xx are deferrals (421, 450, 451 including "Maximum credits exceeded", 452 throttled),
 * except 403 (the From address is not a verified Sender Identity: nothing is sent until an
 * operator fixes it); 535 (bad API key) and every other 5xx are refusals. A connection that
 * fails or breaks off is tried again. The message never contains the API key.
 */
export function sendgridDeliveryError(e: unknown): DeliveryError {
  const err = (e ?? {}) as SmtpFailure;
  const reply = typeof err.response === 'string' ? oneLine(err.response) : undefined;
  const step = err.command ? /^(MAIL FROM|RCPT TO|[A-Z]+)/.exec(err.command)?.[0] : undefined;
  const at = step ? ` at ${step}` : '';
  const code = err.responseCode;
  if (typeof code === 'number' && code >= 400 && code < 600) {
    if (code === 535) {
      return new DeliveryError(
        `SendGrid refused the API key${at} (535): check apiKey and its Mail Send permission`,
        true,
        reply,
        { cause: e },
      );
    }
    if (code === 403) {
      return new DeliveryError(
        `SendGrid refused the sender${at} (403): the From address is not a verified Sender Identity`,
        true,
        reply,
        { cause: e },
      );
    }
    const permanent = code >= 500;
    const verdict = permanent ? 'refused the message' : 'deferred the message, try again later';
    return new DeliveryError(`SendGrid ${verdict}${at} (${code})`, permanent, reply, { cause: e });
  }
  if (err.code && CONNECTION_CODES.has(err.code)) {
    return new DeliveryError(`SendGrid could not be reached (${err.code})`, false, reply, {
      cause: e,
    });
  }
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH' || err.code === 'ECONFIG') {
    return new DeliveryError(`the SendGrid settings do not work (${err.code})`, true, reply, {
      cause: e,
    });
  }
  return new DeliveryError(`delivery to SendGrid failed (${err.code ?? 'unknown'})`, false, reply, {
    cause: e,
  });
}

export class SendgridTransport implements DeliveryTransport<SendgridDeliverySettings> {
  readonly id = 'sendgrid';
  readonly settings = SendgridDeliverySettings;
  readonly secretFields = ['apiKey'];
  /** One pool per distinct settings (keyed by a hash, so no key is kept in a map key). */
  private readonly pools = new Map<string, Transporter>();

  signatureFormat(s: SendgridDeliverySettings): 'detached' | 'opaque' {
    return s.signatureFormat === 'detached' ? 'detached' : 'opaque';
  }

  private pool(s: SendgridDeliverySettings): Transporter {
    const key = createHash('sha256')
      .update(JSON.stringify(options(s)))
      .digest('hex');
    let pool = this.pools.get(key);
    if (!pool) {
      pool = createTransport(options(s));
      this.pools.set(key, pool);
    }
    return pool;
  }

  async send(
    signed: Buffer,
    envelope: Envelope,
    s: SendgridDeliverySettings,
  ): Promise<DeliveryResult> {
    let info: { response?: unknown };
    try {
      info = await this.pool(s).sendMail({
        envelope: { from: envelope.from, to: envelope.to },
        raw: Buffer.concat([SENDGRID_HEADER_LINES, signed]),
      });
    } catch (e) {
      throw sendgridDeliveryError(e);
    }
    const response = typeof info.response === 'string' ? info.response : undefined;
    const queued = response && /queued as ([^\s]+)/i.exec(response);
    return { response, providerMessageId: queued ? queued[1] : undefined };
  }

  /** Connect, STARTTLS and AUTH with the API key; no mail is sent. */
  async verify(s: SendgridDeliverySettings): Promise<void> {
    const probe = createTransport({ ...options(s), pool: false });
    try {
      await probe.verify();
    } catch (e) {
      throw sendgridDeliveryError(e);
    } finally {
      probe.close();
    }
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
