/**
 * Amazon SES API v2 delivery: SendEmail with Raw content (the signed bytes, unchanged), the
 * envelope recipients as Destination, the envelope sender as FeedbackForwardingEmailAddress,
 * and open and click tracking switched off for every message, because a tracking pixel or a
 * rewritten link changes the signed body.
 */
import {
  GetAccountCommand,
  SendEmailCommand,
  SESv2Client,
  type SendEmailCommandInput,
} from '@aws-sdk/client-sesv2';
import { IsOptional, IsString, IsUrl, Matches, MaxLength, MinLength } from 'class-validator';
import { createHash } from 'node:crypto';
import type { Agent } from 'node:http';
import {
  DeliveryError,
  type DeliveryResult,
  type DeliveryTransport,
  type EgressPolicy,
  type Envelope,
  type SettingsFieldDeclaration,
} from '../../src/plugin/contract';
import { guardedAgent } from '../../src/plugin/http-api';
import { sesDeliveryError } from './ses-errors';

export class SesDeliverySettings {
  /** The SES region the identities are verified in, e.g. `eu-west-1`. */
  @IsString()
  @Matches(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, {
    message: 'region must be an AWS region such as eu-west-1',
  })
  region!: string;

  @IsString()
  @Matches(/^\w{16,128}$/, { message: 'accessKeyId must be an AWS access key id (AKIA…)' })
  accessKeyId!: string;

  /** Encrypted at rest, redacted on read. */
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  secretAccessKey!: string;

  /** A configuration set without open or click tracking and without SES's own S/MIME signing. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, {
    message: 'configurationSet must be 1 to 64 letters, digits, "_" or "-"',
  })
  configurationSet?: string;

  /** Another endpoint than SES's public one: a VPC interface endpoint, a proxy, a test server. */
  @IsOptional()
  @IsUrl({ protocols: ['https', 'http'], require_protocol: true, require_tld: false })
  @MaxLength(2048)
  endpoint?: string;
}

/** Every message: no tracking pixel, no rewritten links, whatever the account or set says. */
const TRACKING_OFF: SendEmailCommandInput['ConfigurationOverrides'] = {
  Tracking: { OpenTrackingEnabled: 'DISABLED', ClickTrackingEnabled: 'DISABLED' },
};

export class SesTransport implements DeliveryTransport<SesDeliverySettings> {
  readonly id = 'ses';
  readonly settings = SesDeliverySettings;
  readonly secretFields = ['secretAccessKey'];
  readonly fields: readonly SettingsFieldDeclaration[] = [
    {
      name: 'region',
      label: 'Region',
      type: 'text',
      required: true,
      help: 'The SES region where the sending identities are verified.',
      placeholder: 'ap-northeast-1',
    },
    {
      name: 'accessKeyId',
      label: 'Access key ID',
      type: 'text',
      required: true,
      help: 'An IAM access key allowed ses:SendEmail (IAM → Users → Security credentials).',
      placeholder: 'AKIA…',
    },
    {
      name: 'secretAccessKey',
      label: 'Secret access key',
      type: 'secret',
      required: true,
      help: 'Shown once by IAM when the key is made; kept encrypted here.',
    },
    {
      name: 'configurationSet',
      label: 'Configuration set',
      type: 'text',
      help: "A set without open and click tracking (SES → Configuration sets). Empty: the account's default.",
    },
    {
      name: 'endpoint',
      label: 'Endpoint',
      type: 'url',
      help: "Another endpoint than SES's public one (a VPC interface endpoint). Usually empty.",
      placeholder: 'https://',
    },
  ];
  /** Another endpoint than SES's public one is the operator's to set. */
  readonly operatorFields = ['endpoint'];
  readonly destinationFields = [
    { path: 'endpoint', destination: 'provider-api', kind: 'url' },
  ] as const;
  /** One client (and keep-alive connection pool) per distinct settings; the key is a hash. */
  private readonly clients = new Map<string, SESv2Client>();
  /** Connections go through the egress policy (destination provider-api). */
  private readonly agents: { httpAgent: Agent; httpsAgent: Agent };

  /**
   * `timeoutMs` bounds each API call, connection included. `documented` tells whether an
   * endpoint counts as SES's own (default: none but the public one, used without `endpoint`);
   * answers of any other endpoint are kept to their status and error name.
   */
  constructor(
    private readonly egress: EgressPolicy,
    private readonly timeoutMs = 30_000,
    private readonly documented: (endpoint: string) => boolean = () => false,
  ) {
    const o = egress.options('provider-api');
    this.agents = { httpAgent: guardedAgent(o, false), httpsAgent: guardedAgent(o, true) };
  }

  private client(s: SesDeliverySettings): SESv2Client {
    const key = createHash('sha256')
      .update(JSON.stringify([s.region, s.endpoint ?? '', s.accessKeyId, s.secretAccessKey]))
      .digest('hex');
    let client = this.clients.get(key);
    if (!client) {
      client = new SESv2Client({
        region: s.region,
        endpoint: s.endpoint,
        // Static keys: the SDK never looks for credentials elsewhere (environment, IMDS).
        credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
        // One HTTP request per attempt: the relay's queue retries, logs and backs off.
        maxAttempts: 1,
        // Not `auto`, which may ask the instance metadata service where it runs.
        defaultsMode: 'legacy',
        // Every connection through the egress guard; the SDK follows no redirects.
        requestHandler: this.agents,
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** Runs one API call with the timeout; SDK errors come out classified. */
  private async call<T>(
    s: SesDeliverySettings,
    run: (client: SESv2Client, abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (s.endpoint) {
      try {
        this.egress.checkUrlWithoutDns('provider-api', s.endpoint); // an IP literal skips DNS
      } catch (e) {
        throw new DeliveryError(`SES endpoint refused: ${(e as Error).message}`, true);
      }
    }
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      return await run(this.client(s), signal);
    } catch (e) {
      if (signal.aborted) {
        const message = `SES did not answer within ${this.timeoutMs} ms`;
        throw new DeliveryError(message, false, undefined, { cause: e });
      }
      if ((e as Error)?.name === 'EgressRefused') {
        throw new DeliveryError(`SES endpoint refused: ${(e as Error).message}`, true);
      }
      throw sesDeliveryError(e, !s.endpoint || this.documented(s.endpoint));
    }
  }

  /**
   * SES replaces a Date header field with the time it accepted the message, and a
   * Message-ID with its own ("Header fields", SES Developer Guide), and asks senders who
   * DKIM-sign themselves not to sign either ("Manually signing email with DKIM").
   */
  rewrittenHeaders(): readonly string[] {
    return ['Date', 'Message-ID'];
  }

  async send(signed: Buffer, envelope: Envelope, s: SesDeliverySettings): Promise<DeliveryResult> {
    const input: SendEmailCommandInput = {
      Content: { Raw: { Data: signed } },
      Destination: { ToAddresses: envelope.to },
      ConfigurationOverrides: TRACKING_OFF,
    };
    // No FromEmailAddress: with Raw content SES would write it into the From header field,
    // dropping the display name, or worse, putting the bounce address where the signer's
    // address belongs. SES takes the sending identity from the From header field instead.
    // The envelope sender is where bounce and complaint notifications go.
    if (envelope.from) input.FeedbackForwardingEmailAddress = envelope.from;
    if (s.configurationSet) input.ConfigurationSetName = s.configurationSet;
    const out = await this.call(s, (client, abortSignal) =>
      client.send(new SendEmailCommand(input), { abortSignal }),
    );
    return {
      providerMessageId: out.MessageId,
      response: `${out.$metadata.httpStatusCode ?? 200} MessageId ${out.MessageId ?? '(none)'}`,
    };
  }

  /** GetAccount: the keys, the region and the endpoint work, and the account may send. */
  async verify(s: SesDeliverySettings): Promise<void> {
    const account = await this.call(s, (client, abortSignal) =>
      client.send(new GetAccountCommand({}), { abortSignal }),
    );
    if (account.SendingEnabled === false) {
      throw new DeliveryError(
        `sending is disabled for this SES account in ${s.region}`,
        true,
        `SendingEnabled false, EnforcementStatus ${account.EnforcementStatus ?? 'unknown'}`,
      );
    }
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }
}
