/**
 * Delivery through Mailgun's HTTP API: the signed message goes to
 * `POST /v3/{domain}/messages.mime` as the `message` file part, byte for byte, with every
 * envelope recipient as a `to` field and open and click tracking switched off for the
 * message (tracking rewrites links and adds a pixel inside the signed content).
 */
import { IsString, Matches } from 'class-validator';
import {
  DeliveryError,
  type DeliveryResult,
  type DeliveryTransport,
  type EgressPolicy,
  type Envelope,
  type SettingsFieldDeclaration,
} from '../../src/plugin/contract';
import { RegionalApiTransport, type ApiAnswer } from '../../src/plugin/http-api';
import {
  apiRootOf,
  ProviderApiSettings,
  providerApiFields,
} from '../../src/plugin/provider-settings';
import { oneLine } from '../../src/plugin/smtp-client';

export const MAILGUN_API_ROOTS = {
  us: 'https://api.mailgun.net',
  eu: 'https://api.eu.mailgun.net',
} as const;

/** Per-message options that keep Mailgun's hands off the content (documented `o:` fields). */
export const MAILGUN_TRACKING_OFF: readonly [string, string][] = [
  ['o:tracking', 'no'],
  ['o:tracking-opens', 'no'],
  ['o:tracking-clicks', 'no'],
];

const DOMAIN_NAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

/** The account's private API key (HTTP Basic password, user `api`), region us or eu. */
export class MailgunDeliverySettings extends ProviderApiSettings {
  /** The sending domain as Mailgun knows it, e.g. `mg.example.com`. */
  @IsString()
  @Matches(DOMAIN_NAME, { message: 'domain must be a domain name such as mg.example.com' })
  domain!: string;
}

/** The API root for these settings: `baseUrl` if set, else the region's. */
export const mailgunApiRoot = (s: MailgunDeliverySettings): string =>
  apiRootOf(s, MAILGUN_API_ROOTS);

const MEANINGS: Record<number, string> = {
  400: 'the request was refused',
  401: 'the API key was refused',
  403: 'the API key may not do this',
  404: 'Mailgun does not know this domain in this region',
  413: 'the message is too large for Mailgun',
  429: 'Mailgun is rate limiting; it will be retried',
};

/** 429 and 5xx are worth retrying; every other refusal stays a refusal. */
export function mailgunFailure(answer: ApiAnswer): DeliveryError {
  const { status } = answer;
  const transient = status === 429 || status >= 500;
  const meaning =
    MEANINGS[status] ??
    (status >= 500 ? 'Mailgun had a problem; it will be retried' : 'the request was refused');
  const detail = typeof answer.json?.message === 'string' ? answer.json.message : answer.text;
  const reply = oneLine(`${status} ${detail}`);
  return new DeliveryError(`Mailgun answered ${status}: ${meaning}`, !transient, reply);
}

export class MailgunTransport
  extends RegionalApiTransport
  implements DeliveryTransport<MailgunDeliverySettings>
{
  readonly id = 'mailgun';
  readonly settings = MailgunDeliverySettings;
  readonly secretFields = ['apiKey'];
  readonly fields: readonly SettingsFieldDeclaration[] = [
    ...providerApiFields(
      'Mailgun',
      'The private API key (Account → API security), not a sending key of another domain.',
    ),
    {
      name: 'domain',
      label: 'Sending domain',
      type: 'text',
      required: true,
      help: 'The domain as Mailgun lists it under Sending → Domains.',
      placeholder: 'mg.example.com',
    },
  ];

  constructor(
    egress: EgressPolicy,
    o: { timeoutMs?: number; documented?: (root: string) => boolean } = {},
  ) {
    super(egress, MAILGUN_API_ROOTS, o);
  }

  async send(
    signed: Buffer,
    envelope: Envelope,
    s: MailgunDeliverySettings,
  ): Promise<DeliveryResult> {
    if (envelope.to.length === 0) {
      throw new DeliveryError('the message has no recipients', true);
    }
    const form = new FormData();
    for (const rcpt of envelope.to) form.append('to', rcpt);
    form.append('message', new Blob([signed]), 'message.eml');
    for (const [name, value] of MAILGUN_TRACKING_OFF) form.append(name, value);
    const answer = await this.call(
      s,
      'POST',
      `/v3/${encodeURIComponent(s.domain)}/messages.mime`,
      form,
    );
    if (answer.status < 200 || answer.status >= 300) throw mailgunFailure(answer);
    const id = typeof answer.json?.id === 'string' ? answer.json.id : undefined;
    const message = typeof answer.json?.message === 'string' ? answer.json.message : answer.text;
    return {
      // Mailgun answers with the Message-ID in angle brackets; its events name it without.
      providerMessageId: id?.replace(/^<(.*)>$/, '$1'),
      response: oneLine(`${answer.status} ${message}`),
    };
  }

  /**
   * Reads the domain's tracking settings: proves the key and the domain, and refuses a domain
   * with unsubscribe tracking on (Mailgun then appends a footer to the signed content, and no
   * per-message option turns that off).
   */
  async verify(s: MailgunDeliverySettings): Promise<void> {
    const answer = await this.call(
      s,
      'GET',
      `/v3/domains/${encodeURIComponent(s.domain)}/tracking`,
    );
    if (answer.status !== 200) throw mailgunFailure(answer);
    const tracking = answer.json?.tracking as { unsubscribe?: { active?: unknown } } | undefined;
    if (tracking?.unsubscribe?.active === true) {
      throw new DeliveryError(
        `unsubscribe tracking is on for ${s.domain}: Mailgun would add its unsubscribe footer ` +
          "to every message, which breaks the signature. Turn it off in the domain's tracking " +
          'settings (PUT /v3/domains/{domain}/tracking/unsubscribe active=false).',
        true,
        oneLine(`${answer.status} unsubscribe tracking active`),
      );
    }
  }

  private async call(
    s: MailgunDeliverySettings,
    method: 'GET' | 'POST',
    path: string,
    body?: FormData,
  ): Promise<ApiAnswer> {
    const auth = `Basic ${Buffer.from(`api:${s.apiKey}`, 'utf8').toString('base64')}`;
    return this.api.call(
      'Mailgun',
      mailgunApiRoot(s) + path,
      { method, body, headers: { authorization: auth, accept: 'application/json' } },
      this.documented(mailgunApiRoot(s)),
    );
  }
}
