/**
 * Delivery through SparkPost's Transmissions API: the signed message goes as RFC822 content
 * (`content.email_rfc822`, a JSON string holding exactly its bytes), the envelope recipients
 * as inline recipients, the envelope sender as `return_path`, and open and click tracking
 * switched off (tracking rewrites links and adds pixels inside the signed content).
 */
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
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
import { readHeader, valuesOf } from '../../src/plugin/header-reader';

export const SPARKPOST_API_ROOTS = {
  us: 'https://api.sparkpost.com',
  eu: 'https://api.eu.sparkpost.com',
} as const;

/** Transmission options that keep SparkPost's hands off the content. */
export const SPARKPOST_CONTENT_OPTIONS = {
  open_tracking: false,
  click_tracking: false,
  inline_css: false,
} as const;

/**
 * An API key with the "Transmissions: Read/Write" permission (and "Account: Read-only" for
 * verify); region us (api.sparkpost.com) or eu (api.eu.sparkpost.com).
 */
export class SparkPostDeliverySettings extends ProviderApiSettings {
  /**
   * Send the envelope sender as `return_path`. Its domain must be a verified bounce domain at
   * SparkPost; `false` leaves the return path to SparkPost's default.
   */
  @IsOptional()
  @IsBoolean()
  useEnvelopeSender = true;

  /**
   * `opaque` signs as application/pkcs7-mime, which SparkPost's substitution cannot reach;
   * `detached` (multipart/signed, readable everywhere) is the default.
   */
  @IsOptional()
  @IsIn(['detached', 'opaque'])
  signatureFormat: 'detached' | 'opaque' = 'detached';
}

/** The API root for these settings: `baseUrl` if set, else the region's. */
export const sparkpostApiRoot = (s: SparkPostDeliverySettings): string =>
  apiRootOf(s, SPARKPOST_API_ROOTS);

interface ApiError {
  message?: string;
  description?: string;
  code?: string;
}

function describeErrors(errors: unknown): string | undefined {
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return (errors as ApiError[])
    .map(
      (e) => [e.message, e.description].filter(Boolean).join(': ') + (e.code ? ` (${e.code})` : ''),
    )
    .join('; ');
}

const MEANINGS: Record<number, string> = {
  400: 'the request was refused',
  401: 'the API key was refused or lacks the permission',
  403: 'the API key or plan does not allow this',
  404: 'no such API endpoint (check region and baseUrl)',
  413: 'the message is too large for SparkPost',
  420: 'a sending limit is reached; it will be retried',
  422: 'the transmission was refused',
  429: 'SparkPost is rate limiting; it will be retried',
};

/**
 * 429 and 5xx are worth retrying, and so is 420: hourly and daily sending limits reset (a
 * monthly one outlasts the retry window and ends as failed). Every other 4xx is a refusal.
 */
export function sparkpostFailure(answer: ApiAnswer): DeliveryError {
  const { status } = answer;
  const transient = status === 420 || status === 429 || status >= 500;
  const meaning =
    MEANINGS[status] ??
    (status >= 500 ? 'SparkPost had a problem; it will be retried' : 'the request was refused');
  const detail = describeErrors(answer.json?.errors) ?? answer.text;
  return new DeliveryError(
    `SparkPost answered ${status}: ${meaning}`,
    !transient,
    oneLine(`${status} ${detail}`),
  );
}

/**
 * The message as a JSON string whose UTF-8 encoding is exactly its bytes: 7-bit bytes (what
 * the signer writes) read as latin1, otherwise the bytes must be valid UTF-8.
 */
export function rfc822String(raw: Buffer): string {
  if (!raw.some((b) => b > 0x7f)) return raw.toString('latin1');
  const text = raw.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(raw)) return text;
  throw new DeliveryError(
    'the message has 8-bit bytes that are not UTF-8, and SparkPost takes it as a JSON string',
    true,
  );
}

/**
 * SparkPost applies its substitution language to the first text/plain and text/html parts of
 * RFC822 content. In a multipart/signed message those parts are signed, so `{{` there would
 * be replaced and the signature broken: such a message is refused rather than sent broken.
 */
function checkSubstitutionSafe(raw: Buffer): void {
  const header = readHeader(raw);
  if (!header.blankLine) return;
  if (!valuesOf(header, 'content-type').some((v) => /^multipart\/signed/i.test(v))) return;
  if (raw.indexOf('{{', header.headerEnd) >= 0) {
    throw new DeliveryError(
      'the signed content contains "{{", which SparkPost would treat as substitution syntax ' +
        'and replace, breaking the signature; use signatureFormat "opaque" for this tenant',
      true,
    );
  }
}

export class SparkPostTransport
  extends RegionalApiTransport
  implements DeliveryTransport<SparkPostDeliverySettings>
{
  readonly id = 'sparkpost';
  readonly settings = SparkPostDeliverySettings;
  readonly secretFields = ['apiKey'];
  readonly fields: readonly SettingsFieldDeclaration[] = [
    ...providerApiFields(
      'SparkPost',
      'A key with Transmissions: Read/Write (and Account: Read-only for the check), from Configuration → API Keys.',
    ),
    {
      name: 'useEnvelopeSender',
      label: 'Use the envelope sender as return path',
      type: 'boolean',
      help: 'Its domain must be a verified bounce domain at SparkPost; off leaves the return path to SparkPost.',
    },
    {
      name: 'signatureFormat',
      label: 'Signature format',
      type: 'choice',
      choices: ['detached', 'opaque'],
      help: "detached (multipart/signed) is read everywhere; opaque is out of reach of SparkPost's substitution.",
    },
  ];

  constructor(
    egress: EgressPolicy,
    o: { timeoutMs?: number; documented?: (root: string) => boolean } = {},
  ) {
    super(egress, SPARKPOST_API_ROOTS, o);
  }

  signatureFormat(s: SparkPostDeliverySettings): 'detached' | 'opaque' {
    return s.signatureFormat ?? 'detached';
  }

  async send(
    signed: Buffer,
    envelope: Envelope,
    s: SparkPostDeliverySettings,
  ): Promise<DeliveryResult> {
    if (envelope.to.length === 0) {
      throw new DeliveryError('the message has no recipients', true);
    }
    checkSubstitutionSafe(signed);
    const transmission: Record<string, unknown> = {
      options: SPARKPOST_CONTENT_OPTIONS,
      recipients: envelope.to.map((email) => ({ address: { email } })),
      content: { email_rfc822: rfc822String(signed) },
    };
    if ((s.useEnvelopeSender ?? true) && envelope.from) transmission.return_path = envelope.from;
    const answer = await this.call(
      s,
      'POST',
      '/api/v1/transmissions',
      JSON.stringify(transmission),
    );
    if (answer.status < 200 || answer.status >= 300) throw sparkpostFailure(answer);
    const results = (answer.json?.results ?? {}) as Record<string, unknown>;
    const id = typeof results.id === 'string' ? results.id : undefined;
    const accepted = Number(results.total_accepted_recipients ?? envelope.to.length);
    const rejected = Number(results.total_rejected_recipients ?? 0);
    const rcptErrors = describeErrors(results.rcpt_to_errors);
    const summary = oneLine(
      `${answer.status} transmission ${id ?? '(no id)'}: ${accepted} accepted, ${rejected} rejected` +
        (rcptErrors ? ` (${rcptErrors})` : ''),
    );
    if (accepted === 0) {
      throw new DeliveryError('SparkPost accepted none of the recipients', true, summary);
    }
    return { providerMessageId: id, response: summary };
  }

  /** Reads the account with the key: proves the key (it needs "Account: Read-only"). */
  async verify(s: SparkPostDeliverySettings): Promise<void> {
    const answer = await this.call(s, 'GET', '/api/v1/account');
    if (answer.status !== 200) throw sparkpostFailure(answer);
  }

  private async call(
    s: SparkPostDeliverySettings,
    method: 'GET' | 'POST',
    path: string,
    body?: string,
  ): Promise<ApiAnswer> {
    const headers: Record<string, string> = { authorization: s.apiKey, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return this.api.call(
      'SparkPost',
      sparkpostApiRoot(s) + path,
      { method, body, headers },
      this.documented(sparkpostApiRoot(s)),
    );
  }
}
