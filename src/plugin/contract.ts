/**
 * The contract between the core and its plugins. An inbound adapter hands finished messages
 * to Intake; an outbound transport delivers signed bytes unchanged. Plugins import only
 * this folder; the core never imports a plugin.
 */

import type { Destination, EgressPolicy } from '../egress/egress-policy';

export interface Envelope {
  /** MAIL FROM (the bounce address); may be empty for a null sender. */
  from: string;
  /** RCPT TO, one entry per recipient. */
  to: string[];
}

/** What every inbound adapter hands to Intake. */
export interface RelayMessage {
  tenantId: string;
  envelope: Envelope;
  /** The finished RFC 5322 message from the platform. */
  raw: Buffer;
  /** 'smtp', 'listmonk', … */
  source: string;
  /** A retried hand-off with the same key is accepted once. */
  idempotencyKey?: string;
  /** Adapter data kept with the message, for feedback (campaign and subscriber ids, …). */
  meta?: Record<string, string>;
  /** The sender's network address (SMTP submission), kept with a refusal. */
  remoteAddress?: string;
}

/** A hand-off the relay refused, as an adapter knows it; every field but `source` optional. */
export interface Refusal {
  tenantId?: string;
  source: string;
  envelope?: Envelope;
  /** The message as far as it arrived: its header is read for From, Subject and Message-ID. */
  raw?: Buffer;
  /** Its size, when it was not kept (a message over the size limit). */
  size?: number;
  remoteAddress?: string;
}

export interface Accepted {
  messageId: string;
  /**
   * Every message made of it: more than one when the tenant's per-domain rules split the
   * recipients (the first is `messageId`).
   */
  messageIds: string[];
  /** true when the idempotency key matched a message accepted earlier. */
  duplicate: boolean;
  /** true when the tenant's policy `prefer` lets this one go out unsigned. */
  unsigned: boolean;
}

/** Checks a message and commits it to the spool; throws a RelayError when it refuses. */
export interface Intake {
  /** Accept a message, or throw the refusal (which is then recorded with the tenant's refusals). */
  accept(message: RelayMessage): Promise<Accepted>;
  /**
   * Record a refusal an adapter made itself (a message over the size limit, a postback that
   * does not parse), so it shows with the tenant's refusals. A refusal accept() threw is
   * recorded already: reporting that same error again adds nothing.
   */
  refused(refusal: Refusal, error: unknown): void;
}
export const INTAKE = Symbol('Intake');

/** SMTP AUTH for inbound submission: the tenant a username and password belong to. */
export interface SubmissionCredentials {
  tenantFor(username: string, password: string): Promise<string | undefined>;
}
export const SUBMISSION_CREDENTIALS = Symbol('SubmissionCredentials');

export interface DeliveryResult {
  /** The provider's id for the message, or the upstream SMTP reply's queue id. */
  providerMessageId?: string;
  /** The upstream's reply, for the attempt log. */
  response?: string;
}

/**
 * One field of a transport's settings as a form shows it. The core adds what it knows from
 * the transport (secret, operator-only, the default, the values a tenant may choose) and
 * GET /v1/about publishes the result, so the console draws every transport's form.
 */
export interface SettingsFieldDeclaration {
  /** The JSON path in the settings object: "host", "auth.pass". */
  name: string;
  /** A short English label (the console has its own words for other languages). */
  label: string;
  /** How it is entered: `secret` is a password box, `choice` one of `choices`. */
  type: 'text' | 'secret' | 'integer' | 'boolean' | 'choice' | 'url';
  /** The settings are refused without it (a field with a default is never required). */
  required?: boolean;
  /** One or two sentences: what it is and where the provider's screens show it. */
  help: string;
  choices?: readonly (string | number)[];
  min?: number;
  max?: number;
  /** An example value, shown greyed in an empty box. */
  placeholder?: string;
}

/** A declared field as GET /v1/about publishes it. */
export interface SettingsField extends SettingsFieldDeclaration {
  required: boolean;
  /** Encrypted at rest and "[redacted]" on read (the transport's secretFields). */
  secret: boolean;
  /** Only the operator may set it (operatorFields), except for `tenantChoices`. */
  operatorOnly: boolean;
  tenantChoices?: readonly unknown[];
  default?: unknown;
}

/** One per outbound provider. Errors it throws are classified by the core. */
export interface DeliveryTransport<S extends object = object> {
  /** 'smtp', 'ses', 'mailgun', … */
  readonly id: string;
  readonly settings: new () => S;
  /** Every field of `settings`, in the order a form shows them. */
  readonly fields: readonly SettingsFieldDeclaration[];
  /**
   * Dotted paths of settings only the operator may set (an API root other than the
   * provider's documented ones, a proxy host): a tenant's PUT may not change them.
   */
  readonly operatorFields?: readonly string[];
  /** Values of operator fields that a tenant may choose all the same (documented hosts, ports). */
  readonly tenantValues?: Readonly<Record<string, readonly unknown[]>>;
  /**
   * Settings that name a place to connect to: checked against the egress policy when the
   * settings are saved (a URL, or a host), besides at each connection.
   */
  readonly destinationFields?: readonly {
    path: string;
    destination: Destination;
    kind: 'url' | 'host';
  }[];
  /**
   * Dotted paths of fields in `settings` that are secrets: encrypted at rest and replaced by
   * "[redacted]" on read (for example `auth.pass`).
   */
  readonly secretFields: readonly string[];
  /**
   * The S/MIME format this transport needs for these settings; default `detached`. A path
   * that re-wraps encoded lines (SendGrid) needs `opaque`.
   */
  signatureFormat?(settings: S): 'detached' | 'opaque';
  /**
   * Header fields the provider is documented to replace in transit (SES: Date and
   * Message-ID). The relay's DKIM signature leaves them out, so that it survives.
   */
  rewrittenHeaders?(settings: S): readonly string[];
  /**
   * The provider re-encodes a List-Unsubscribe field of this many octets or more (SendGrid):
   * the relay shortens longer ones with its own one-click links, so that RFC 8058 one-click
   * and DKIM survive.
   */
  listUnsubscribeLimit?(settings: S): number | undefined;
  /**
   * Deliver the signed message. Extra header fields may be put in front of it (they stay
   * outside the signature); the signed bytes themselves must go out unchanged.
   */
  send(signed: Buffer, envelope: Envelope, settings: S): Promise<DeliveryResult>;
  /** Check that the settings work (connect, authenticate) without sending mail. */
  verify?(settings: S): Promise<void>;
  /** Release pooled connections (at shutdown). */
  close?(): Promise<void>;
}

/**
 * A transport failure, classified: transient ones are retried, permanent ones end the
 * message as failed. `reply` is the upstream's answer, kept in the attempt log.
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly reply?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Where plugins register their transports; the core looks them up by id. */
export class TransportRegistry {
  private readonly transports = new Map<string, DeliveryTransport>();

  register(transport: DeliveryTransport): void {
    if (this.transports.has(transport.id)) {
      throw new Error(`a delivery transport "${transport.id}" is already registered`);
    }
    this.transports.set(transport.id, transport);
  }

  get(id: string): DeliveryTransport | undefined {
    return this.transports.get(id);
  }

  ids(): string[] {
    return [...this.transports.keys()].sort();
  }

  /** Each transport's fields as a form needs them, by transport id. */
  fields(): Record<string, SettingsField[]> {
    const out: Record<string, SettingsField[]> = {};
    for (const id of this.ids()) {
      const t = this.transports.get(id)!;
      const defaults = new t.settings() as Record<string, unknown>;
      out[id] = t.fields.map((f) => {
        const d = f.name
          .split('.')
          .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], defaults);
        const tenantChoices = t.tenantValues?.[f.name];
        return {
          ...f,
          required: f.required ?? false,
          secret: t.secretFields.includes(f.name),
          operatorOnly: t.operatorFields?.includes(f.name) ?? false,
          ...(tenantChoices ? { tenantChoices } : {}),
          ...(d !== undefined ? { default: d } : {}),
        };
      });
    }
    return out;
  }

  all(): DeliveryTransport[] {
    return [...this.transports.values()];
  }
}

export * from './platform';

/** What a process does: `all` of it, or one part when scaled out (`serve --role`). */
export const ROLES = ['all', 'api', 'smtp', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export { EgressPolicy, type Destination } from '../egress/egress-policy';

/** A counter of /metrics. */
export interface PluginCounter {
  inc(labels: { reason: string }): void;
}

export interface PluginMetrics {
  smtpAuthFailures: PluginCounter;
  smtpConnectionsRefused: PluginCounter;
}

/** What the core tells a plugin module when it registers it. */
export interface PluginContext {
  role: Role;
  /**
   * The one egress policy: every outbound connection to a destination a tenant can set
   * (provider API roots, SMTP upstreams) goes through it.
   */
  egress: EgressPolicy;
  /** The counters plugins report to (GET /metrics). */
  metrics: PluginMetrics;
  /** The process environment, for the plugin's own variables (it validates them itself). */
  env: Record<string, string | undefined>;
  /** The largest message Intake accepts, in bytes. */
  maxMessageBytes: number;
}

/** Whether a process with `role` runs the part `part`. */
export const runs = (role: Role, part: Exclude<Role, 'all'>): boolean =>
  role === 'all' || role === part;
