/**
 * The part of the contract for marketing platforms (listmonk, Mautic): a plugin declares
 * an adapter with the settings a tenant stores for it (secret fields sealed by the core),
 * optionally recognises the platform's messages by their header fields, and reports
 * permanent failures back to the platform. The core stores integrations, runs the
 * feedback queue and makes the HTTP calls through its egress guard.
 */

/** A header field of the message being accepted, by name (case-insensitive), unfolded. */
export type HeaderLookup = (name: string) => string | undefined;

/** One integration of a tenant with a platform, its secrets opened. */
export interface Integration<S extends object = object> {
  id: string;
  tenantId: string;
  platform: string;
  settings: S;
}

/** A message that ended `failed`, as the core reports it to the platform's adapter. */
export interface FailedMessage {
  messageId: string;
  tenantId: string;
  /** The envelope recipients (one for a platform's per-subscriber message). */
  recipients: string[];
  /**
   * `delivery`: the upstream refused the message (`delivery_rejected`) or retries ran out
   * (`delivery_expired`). `signing`: the relay would not sign it (no valid certificate).
   */
  stage: 'delivery' | 'signing';
  error: { code: string; message: string; reply?: string };
  /**
   * True when the upstream refused the recipient's address itself (enhanced status 5.1.x or
   * 5.2.1): the one failure that says the subscriber's address is bad. Authentication,
   * policy and content refusals, outages and signing failures are not.
   */
  recipientRefused: boolean;
  /** What the adapter's `recognise` (or the inbound adapter) kept with the message. */
  meta: Record<string, string>;
}

export interface HttpAnswer {
  status: number;
  text: string;
  /** The body parsed as JSON, when it was JSON. */
  json?: unknown;
}

/** HTTP calls to a platform's API, through the core's egress guard and time limit. */
export interface OutboundHttp {
  request(
    url: string,
    init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  ): Promise<HttpAnswer>;
}

/**
 * A platform could not take the feedback. Transient ones (network, 5xx, 429) are tried
 * again with backoff; permanent ones (401, a refused request) are logged and dropped.
 */
export class FeedbackError extends Error {
  override readonly name = 'FeedbackError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export interface PlatformAdapter<S extends object = object> {
  /** 'listmonk', 'mautic'; also the path segment of /v1/tenants/:id/integrations/:platform. */
  readonly platform: string;
  /** A class-validator DTO for what the tenant stores. */
  readonly settings: new () => S;
  /** Dotted paths of secret fields in `settings`: sealed at rest, "[redacted]" on read. */
  readonly secretFields: readonly string[];
  /**
   * When set, creating an integration also makes a Basic-auth login (shown once) with
   * which the platform calls this path of the relay (for example a postback endpoint).
   */
  readonly inboundPath?: string;
  /** URLs in the settings the relay will call, by field: checked by the egress guard when saved. */
  outboundUrls?(settings: S): Record<string, string>;
  /** The meta to keep with a message whose header says it came from this platform. */
  recognise?(header: HeaderLookup): Record<string, string> | undefined;
  /**
   * Tell the platform about a failed message of one of its integrations. Returns one line
   * for the log; throws FeedbackError when the platform did not take it.
   */
  onMessageFailed?(
    failure: FailedMessage,
    integration: Integration<S>,
    http: OutboundHttp,
  ): Promise<string>;
}

/** The meta key naming the platform a message belongs to. */
export const PLATFORM_META = 'platform';

/** Where plugins register their platform adapters. */
export class PlatformRegistry {
  private readonly adapters = new Map<string, PlatformAdapter>();

  register(adapter: PlatformAdapter): void {
    if (this.adapters.has(adapter.platform)) {
      throw new Error(`a platform adapter "${adapter.platform}" is already registered`);
    }
    this.adapters.set(adapter.platform, adapter);
  }

  get(platform: string): PlatformAdapter | undefined {
    return this.adapters.get(platform);
  }

  all(): PlatformAdapter[] {
    return [...this.adapters.values()];
  }

  /** The first adapter that recognises the header, with its meta and the platform named. */
  recognise(header: HeaderLookup): Record<string, string> | undefined {
    for (const a of this.adapters.values()) {
      const meta = a.recognise?.(header);
      if (meta) return { ...meta, [PLATFORM_META]: a.platform };
    }
    return undefined;
  }
}

/** Basic-auth logins of integrations (a platform calling the relay). */
export interface IntegrationLogins {
  /** The integration this login belongs to, or undefined when it is not valid. */
  find(platform: string, username: string, password: string): Promise<Integration | undefined>;
}
export const INTEGRATION_LOGINS = Symbol('IntegrationLogins');

/** Where the core puts the integration whose login an inbound request (/v1/inbound/…) used. */
export const INBOUND_INTEGRATION = Symbol.for('smime-relay.inbound-integration');

/** The integration an inbound request was authenticated as, set before the body is read. */
export function inboundIntegration(req: object): Integration | undefined {
  return (req as Record<symbol, Integration | undefined>)[INBOUND_INTEGRATION];
}
