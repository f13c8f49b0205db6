/**
 * Calling a provider's HTTP API for transports (Mailgun, SparkPost): one request through the
 * egress guard (destination `provider-api`: the host is checked before connecting and in the
 * connection's own DNS lookup; redirects are never followed), with a time limit, keep-alive
 * connections, and its status, text and JSON body. A request that cannot be made is a
 * transient DeliveryError that names no URL query or header; one the guard refuses is a
 * permanent one. The answer of an API root that is not the provider's documented one (a
 * root the operator set) is kept to its status: its body is never passed on.
 */
import type { Agent } from 'node:http';
import { DeliveryError } from './contract';
import { oneLine } from './smtp-client';
import type { EgressPolicy } from '../egress/egress-policy';
import { guardedAgent, guardedRequest } from '../egress/guarded-request';

export { guardedAgent };

export const PROVIDER_API_TIMEOUT_MS = 30_000;
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface ApiAnswer {
  status: number;
  /** The parsed JSON body, or undefined when the body was not JSON. */
  json?: Record<string, unknown>;
  text: string;
}

/** Shown instead of the body of an answer from an API root the operator set. */
export const BODY_NOT_SHOWN = '(answer not shown: not the provider’s documented API root)';

export class ProviderApiClient {
  private readonly agents = new Map<string, Agent>();

  constructor(
    private readonly egress: EgressPolicy,
    private readonly timeoutMs = PROVIDER_API_TIMEOUT_MS,
  ) {}

  private agent(protocol: string): Agent {
    let a = this.agents.get(protocol);
    if (!a) {
      a = guardedAgent(this.egress.options('provider-api'), protocol === 'https:');
      this.agents.set(protocol, a);
    }
    return a;
  }

  /**
   * One call. `official` says whether `url` is under the provider's documented API root;
   * when it is not, the answer's body stays out of what is returned.
   */
  async call(
    provider: string,
    url: string,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string | FormData },
    official: boolean,
  ): Promise<ApiAnswer> {
    let body: Buffer | undefined;
    const headers = { ...init.headers };
    if (init.body instanceof FormData) {
      const encoded = new Response(init.body);
      headers['content-type'] = encoded.headers.get('content-type') ?? 'multipart/form-data';
      body = Buffer.from(await encoded.arrayBuffer());
    } else if (init.body !== undefined) body = Buffer.from(init.body, 'utf8');
    const options = this.egress.options('provider-api');
    let protocol = 'https:';
    try {
      protocol = new URL(url).protocol;
    } catch {
      // the guard says what is wrong with it
    }
    const answer = await guardedRequest({
      url,
      method: init.method,
      headers,
      body,
      timeoutMs: this.timeoutMs,
      maxBytes: MAX_ANSWER_BYTES,
      allowPrivate: options.allowPrivate,
      agent: protocol === 'http:' || protocol === 'https:' ? this.agent(protocol) : undefined,
    });
    if (answer.status === null) {
      const why = oneLine(answer.error ?? 'the request could not be made');
      throw new DeliveryError(`${provider} could not be reached: ${why}`, answer.refused === true);
    }
    if (!official) return { status: answer.status, text: BODY_NOT_SHOWN };
    const text = answer.body.toString('utf8');
    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
    } catch {
      // not JSON: keep the text
    }
    return { status: answer.status, json, text };
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}

/**
 * What a transport over a provider's HTTP API with regional roots shares (Mailgun,
 * SparkPost): a custom `baseUrl` is an operator field checked by the egress policy, the
 * regions' roots stay open to tenants, and answers of any other root are kept to their
 * status. `documented` overrides which roots count as the provider's own (test stand-ins).
 */
export abstract class RegionalApiTransport {
  readonly operatorFields = ['baseUrl'];
  readonly destinationFields = [
    { path: 'baseUrl', destination: 'provider-api', kind: 'url' },
  ] as const;
  readonly tenantValues: Readonly<Record<string, readonly unknown[]>>;
  protected readonly api: ProviderApiClient;

  constructor(
    egress: EgressPolicy,
    private readonly roots: Record<'us' | 'eu', string>,
    private readonly o: { timeoutMs?: number; documented?: (root: string) => boolean } = {},
  ) {
    this.api = new ProviderApiClient(egress, o.timeoutMs);
    this.tenantValues = { baseUrl: Object.values(roots) };
  }

  /** Whether `root` is one of the provider's own API roots. */
  protected documented(root: string): boolean {
    return this.o.documented
      ? this.o.documented(root)
      : Object.values(this.roots).includes(root.replace(/\/+$/, ''));
  }

  async close(): Promise<void> {
    this.api.close();
  }
}
