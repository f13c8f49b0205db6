/**
 * Delivery through Postmark's SMTP service. The signed message goes out byte for byte, with
 * a few header fields in front of it (outside the signature): open tracking off, link
 * tracking off (links would be rewritten through Postmark's click domain), and the message
 * stream to send through.
 */
import { Type } from 'class-transformer';
import {
  IsBoolean,
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

export const POSTMARK_SMTP_HOST = 'smtp.postmarkapp.com';

export class PostmarkDeliverySettings {
  /** The Server API token: Postmark's SMTP username and password (secret). */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  @Matches(/^\S+$/, { message: 'serverToken must not contain spaces or line breaks' })
  serverToken!: string;

  /** The message stream ID (X-PM-Message-Stream); unset: the server's default transactional stream. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/, {
    message: 'messageStream must be a stream ID: letters, digits, "-" and "_"',
  })
  messageStream?: string;

  /** For broadcast streams, proxies and tests; default smtp.postmarkapp.com. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9.-]{1,253}$/, { message: 'host must be a host name or an IP address' })
  host = POSTMARK_SMTP_HOST;

  /** Default 587 (STARTTLS, required); Postmark also listens on 25 and 2525. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  port = 587;

  /** Check the server's certificate (default true; false only for a private test host). */
  @IsOptional()
  @IsBoolean()
  rejectUnauthorized = true;
}

/**
 * The header lines put in front of the signed message
 * (https://postmarkapp.com/developer/user-guide/send-email-with-smtp): no open-tracking pixel,
 * no link rewriting, and the stream when one is set.
 */
export function postmarkHeaderLines(s: Pick<PostmarkDeliverySettings, 'messageStream'>): Buffer {
  const lines = ['X-PM-TrackOpens: false', 'X-PM-TrackLinks: None'];
  if (s.messageStream) lines.push(`X-PM-Message-Stream: ${s.messageStream}`);
  return Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1');
}

const TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 120_000 };

function options(s: PostmarkDeliverySettings): SMTPPool.Options {
  return {
    pool: true,
    host: s.host ?? POSTMARK_SMTP_HOST,
    port: s.port ?? 587,
    secure: false,
    requireTLS: true,
    auth: { user: s.serverToken, pass: s.serverToken },
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
 * Postmark's SMTP replies as a verdict: 4xx (421, 451, 452 …) are tried again; 535 means the
 * token is wrong (an Account token instead of a Server token, another server's token, or SMTP
 * access is off for the server: https://postmarkapp.com/support/article/common-smtp-connection-errors)
 * and, like every other 5xx, is permanent. A connection that fails or breaks off is tried
 * again. The message never contains the token.
 */
export function postmarkDeliveryError(e: unknown): DeliveryError {
  const err = (e ?? {}) as SmtpFailure;
  const reply = typeof err.response === 'string' ? oneLine(err.response) : undefined;
  const step = err.command ? /^(MAIL FROM|RCPT TO|[A-Z]+)/.exec(err.command)?.[0] : undefined;
  const at = step ? ` at ${step}` : '';
  const code = err.responseCode;
  if (typeof code === 'number' && code >= 400 && code < 600) {
    if (code === 535) {
      return new DeliveryError(
        `Postmark refused the token${at} (535): use the Server API token, with SMTP enabled for the server`,
        true,
        reply,
        { cause: e },
      );
    }
    const permanent = code >= 500;
    const verdict = permanent ? 'refused the message' : 'deferred the message, try again later';
    return new DeliveryError(`Postmark ${verdict}${at} (${code})`, permanent, reply, { cause: e });
  }
  if (err.code && CONNECTION_CODES.has(err.code)) {
    return new DeliveryError(`Postmark could not be reached (${err.code})`, false, reply, {
      cause: e,
    });
  }
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH' || err.code === 'ECONFIG') {
    return new DeliveryError(`the Postmark settings do not work (${err.code})`, true, reply, {
      cause: e,
    });
  }
  return new DeliveryError(`delivery to Postmark failed (${err.code ?? 'unknown'})`, false, reply, {
    cause: e,
  });
}

export class PostmarkTransport implements DeliveryTransport<PostmarkDeliverySettings> {
  readonly id = 'postmark';
  readonly settings = PostmarkDeliverySettings;
  readonly secretFields = ['serverToken'];
  /** One pool per distinct settings (keyed by a hash, so no token is kept in a map key). */
  private readonly pools = new Map<string, Transporter>();

  private pool(s: PostmarkDeliverySettings): Transporter {
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
    s: PostmarkDeliverySettings,
  ): Promise<DeliveryResult> {
    let info: { response?: unknown };
    try {
      info = await this.pool(s).sendMail({
        envelope: { from: envelope.from, to: envelope.to },
        raw: Buffer.concat([postmarkHeaderLines(s), signed]),
      });
    } catch (e) {
      throw postmarkDeliveryError(e);
    }
    // Postmark does not document a message id in its SMTP reply: the reply is kept, and a
    // "queued as <id>" in it, if there is one, is taken as the id.
    const response = typeof info.response === 'string' ? info.response : undefined;
    const queued = response && /queued as ([^\s]+)/i.exec(response);
    return { response, providerMessageId: queued ? queued[1] : undefined };
  }

  /** Connect, STARTTLS and AUTH with the token; no mail is sent. */
  async verify(s: PostmarkDeliverySettings): Promise<void> {
    const probe = createTransport({ ...options(s), pool: false });
    try {
      await probe.verify();
    } catch (e) {
      throw postmarkDeliveryError(e);
    } finally {
      probe.close();
    }
  }

  async close(): Promise<void> {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
