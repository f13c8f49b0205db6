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
import {
  DeliveryError,
  type DeliveryResult,
  type DeliveryTransport,
  type Envelope,
} from '../../src/plugin/contract';
import {
  PooledSmtpClient,
  smtpDeliveryError,
  type SmtpConnection,
} from '../../src/plugin/smtp-client';

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

function connection(s: PostmarkDeliverySettings): SmtpConnection {
  return {
    host: s.host ?? POSTMARK_SMTP_HOST,
    port: s.port ?? 587,
    secure: false,
    requireTLS: true,
    auth: { user: s.serverToken, pass: s.serverToken },
    tls: { rejectUnauthorized: s.rejectUnauthorized ?? true },
  };
}

/**
 * Postmark's SMTP replies as a verdict: 4xx (421, 451, 452 …) are tried again; 535 means the
 * token is wrong (an Account token instead of a Server token, another server's token, or SMTP
 * access is off for the server: https://postmarkapp.com/support/article/common-smtp-connection-errors)
 * and, like every other 5xx, is permanent. A connection that fails or breaks off is tried
 * again. The message never contains the token.
 */
export function postmarkDeliveryError(e: unknown): DeliveryError {
  return smtpDeliveryError(e, 'Postmark', (code, at) =>
    code === 535
      ? {
          message: `Postmark refused the token${at} (535): use the Server API token, with SMTP enabled for the server`,
          permanent: true,
        }
      : undefined,
  );
}

export class PostmarkTransport implements DeliveryTransport<PostmarkDeliverySettings> {
  readonly id = 'postmark';
  readonly settings = PostmarkDeliverySettings;
  readonly secretFields = ['serverToken'];
  private readonly client = new PooledSmtpClient();

  async send(
    signed: Buffer,
    envelope: Envelope,
    s: PostmarkDeliverySettings,
  ): Promise<DeliveryResult> {
    // Postmark does not document a message id in its SMTP reply: the reply is kept, and a
    // "queued as <id>" in it, if there is one, is taken as the id.
    try {
      return await this.client.send(
        connection(s),
        envelope,
        Buffer.concat([postmarkHeaderLines(s), signed]),
      );
    } catch (e) {
      throw postmarkDeliveryError(e);
    }
  }

  /** Connect, STARTTLS and AUTH with the token; no mail is sent. */
  async verify(s: PostmarkDeliverySettings): Promise<void> {
    try {
      await this.client.verify(connection(s));
    } catch (e) {
      throw postmarkDeliveryError(e);
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
