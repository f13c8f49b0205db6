/**
 * Delivery through SendGrid's SMTP relay. The signed message goes out byte for byte, with one
 * extra header field in front of it (outside the signature): an X-SMTPAPI instruction that
 * switches off every SendGrid feature that rewrites the body (click and open tracking,
 * subscription links, footers, Google Analytics link parameters). SendGrid also re-wraps
 * encoded lines, which no detached signature survives, so messages are signed opaque by
 * default.
 */
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
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

export const SENDGRID_SMTP_HOST = 'smtp.sendgrid.net';
/** SendGrid's SMTP username is this literal string; the API key is the password. */
export const SENDGRID_SMTP_USER = 'apikey';

const SIGNATURE_FORMATS = ['opaque', 'detached'] as const;

/** The List-Unsubscribe field length (octets, unfolded) from which SendGrid re-encodes it. */
export const SENDGRID_LIST_UNSUBSCRIBE_LIMIT = 78;

export class SendgridDeliverySettings extends ProviderSmtpEndpoint {
  /** A SendGrid API key with the "Mail Send" permission (secret). */
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  @Matches(/^\S+$/, { message: 'apiKey must not contain spaces or line breaks' })
  apiKey!: string;

  /** Default smtp.sendgrid.net, port 587 (STARTTLS). */
  override host = SENDGRID_SMTP_HOST;

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

/**
 * SendGrid's documented SMTP replies as a verdict
 * (https://www.twilio.com/docs/sendgrid/for-developers/sending-email/smtp-errors-and-troubleshooting):
 * 4xx are deferrals (421, 450, 451 including "Maximum credits exceeded", 452 throttled),
 * except 403 (the From address is not a verified Sender Identity: nothing is sent until an
 * operator fixes it); 535 (bad API key) and every other 5xx are refusals. A connection that
 * fails or breaks off is tried again. The message never contains the API key.
 */
export function sendgridDeliveryError(e: unknown): DeliveryError {
  return smtpDeliveryError(e, 'SendGrid', (code, at) => {
    if (code === 535) {
      return {
        message: `SendGrid refused the API key${at} (535): check apiKey and its Mail Send permission`,
        permanent: true,
      };
    }
    if (code === 403) {
      return {
        message: `SendGrid refused the sender${at} (403): the From address is not a verified Sender Identity`,
        permanent: true,
      };
    }
    return undefined;
  });
}

export class SendgridTransport extends SmtpRelayTransport<SendgridDeliverySettings> {
  readonly id = 'sendgrid';
  readonly settings = SendgridDeliverySettings;
  readonly secretFields = ['apiKey'];
  readonly fields: readonly SettingsFieldDeclaration[] = [
    {
      name: 'apiKey',
      label: 'API key',
      type: 'secret',
      required: true,
      help: 'A key with the Mail Send permission (Settings → API Keys); the SMTP username is apikey.',
      placeholder: 'SG.…',
    },
    {
      name: 'signatureFormat',
      label: 'Signature format',
      type: 'choice',
      choices: SIGNATURE_FORMATS,
      help: "opaque survives SendGrid's re-wrapping of long lines; detached shows in every reader.",
    },
    ...providerSmtpEndpointFields('SendGrid'),
  ];
  /** A relay host other than the provider's is the operator's to set (a proxy, a test host). */
  readonly operatorFields = ['host', 'port', 'rejectUnauthorized'];
  /** SendGrid's own relay and ports. */
  readonly tenantValues = {
    host: [SENDGRID_SMTP_HOST],
    port: [25, 587, 2525],
    rejectUnauthorized: [true],
  };
  readonly destinationFields = [
    { path: 'host', destination: 'smtp-upstream', kind: 'host' },
  ] as const;

  signatureFormat(s: SendgridDeliverySettings): 'detached' | 'opaque' {
    return s.signatureFormat === 'detached' ? 'detached' : 'opaque';
  }

  /**
   * SendGrid is reported to MIME-encode a List-Unsubscribe field of 78 octets or more, which
   * breaks RFC 8058 one-click and the DKIM signature over it; listmonk's and Mautic 5.1's
   * links are longer. The relay shortens such fields (see src/unsubscribe).
   */
  listUnsubscribeLimit(): number {
    return SENDGRID_LIST_UNSUBSCRIBE_LIMIT;
  }

  protected connection(s: SendgridDeliverySettings): SmtpConnection {
    return providerSmtpConnection(s, SENDGRID_SMTP_HOST, {
      user: SENDGRID_SMTP_USER,
      pass: s.apiKey,
    });
  }

  protected override headerLines(): Buffer {
    return SENDGRID_HEADER_LINES;
  }

  protected override deliveryError(e: unknown): DeliveryError {
    return sendgridDeliveryError(e);
  }
}
