/**
 * Delivery through Postmark's SMTP service. The signed message goes out byte for byte, with
 * a few header fields in front of it (outside the signature): open tracking off, link
 * tracking off (links would be rewritten through Postmark's click domain), and the message
 * stream to send through.
 */
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { DeliveryError, SettingsFieldDeclaration } from '../../src/plugin/contract';
import {
  ProviderSmtpEndpoint,
  providerSmtpEndpointFields,
} from '../../src/plugin/provider-settings';
import {
  providerSmtpConnection,
  smtpDeliveryError,
  SmtpRelayTransport,
  type SmtpConnection,
} from '../../src/plugin/smtp-client';

export const POSTMARK_SMTP_HOST = 'smtp.postmarkapp.com';

export class PostmarkDeliverySettings extends ProviderSmtpEndpoint {
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

  /** Default smtp.postmarkapp.com, port 587 (STARTTLS); Postmark also listens on 25 and 2525. */
  override host = POSTMARK_SMTP_HOST;
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

export class PostmarkTransport extends SmtpRelayTransport<PostmarkDeliverySettings> {
  readonly id = 'postmark';
  readonly settings = PostmarkDeliverySettings;
  readonly secretFields = ['serverToken'];
  readonly fields: readonly SettingsFieldDeclaration[] = [
    {
      name: 'serverToken',
      label: 'Server API token',
      type: 'secret',
      required: true,
      help: "The server's API token (Servers → your server → API Tokens), not the Account token; SMTP must be enabled for the server.",
    },
    {
      name: 'messageStream',
      label: 'Message stream',
      type: 'text',
      help: 'The stream ID, e.g. broadcast for newsletters. Empty: the default transactional stream.',
      placeholder: 'broadcast',
    },
    ...providerSmtpEndpointFields('Postmark'),
  ];
  /** A relay host other than the provider's is the operator's to set (a proxy, a test host). */
  readonly operatorFields = ['host', 'port', 'rejectUnauthorized'];
  /** Postmark's own relays (the broadcast one for broadcast streams) and ports. */
  readonly tenantValues = {
    host: ['smtp.postmarkapp.com', 'smtp-broadcasts.postmarkapp.com'],
    port: [25, 587, 2525],
    rejectUnauthorized: [true],
  };
  readonly destinationFields = [
    { path: 'host', destination: 'smtp-upstream', kind: 'host' },
  ] as const;

  // Postmark does not document a message id in its SMTP reply: the reply is kept, and a
  // "queued as <id>" in it, if there is one, is taken as the id.
  protected connection(s: PostmarkDeliverySettings): SmtpConnection {
    return providerSmtpConnection(s, POSTMARK_SMTP_HOST, {
      user: s.serverToken,
      pass: s.serverToken,
    });
  }

  protected override headerLines(s: PostmarkDeliverySettings): Buffer {
    return postmarkHeaderLines(s);
  }

  protected override deliveryError(e: unknown): DeliveryError {
    return postmarkDeliveryError(e);
  }
}
