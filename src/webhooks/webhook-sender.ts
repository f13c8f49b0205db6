/**
 * One webhook delivery: a signed POST (Standard Webhooks headers) to a URL the egress guard
 * allows, no redirects followed, at most 512 bytes of the answer read, one deadline for
 * connecting, the response headers and the reading. HTTP and network failures are returned,
 * not thrown.
 */
import { StringDecoder } from 'node:string_decoder';
import { Webhook } from 'standardwebhooks';
import type { Lookup } from '../egress/egress-guard';
import { guardedRequest } from '../egress/guarded-request';

export const EXCERPT_BYTES = 512;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

export interface WebhookRequest {
  url: string;
  /** whsec_<base64 key> */
  secret: string;
  /** The webhook-id header: the same for every attempt of one event. */
  id: string;
  timestamp: Date;
  /** The JSON body, sent and signed exactly as given. */
  payload: string;
  timeoutMs?: number;
  allowPrivate: boolean;
  lookup?: Lookup;
}

export interface WebhookResponse {
  /** The HTTP status, or null when there was none (refused, network error, timeout). */
  status: number | null;
  latencyMs: number;
  /** The first 512 bytes of the response body as UTF-8 (an incomplete last character is dropped). */
  excerpt: string;
  /** Why there is no status: a timeout, a network error or an egress refusal. */
  error?: string;
  /** True when the egress guard refused the URL or the address it resolved to. */
  refused?: boolean;
}

export type WebhookOutcome = 'success' | 'retry' | 'fail' | 'gone';

/** What to do after a delivery: done, try again later, give up on this event, or the endpoint is gone. */
export function classifyWebhookResponse(r: WebhookResponse): WebhookOutcome {
  if (r.refused) return 'fail';
  if (r.status === null) return 'retry';
  if (r.status >= 200 && r.status < 300) return 'success';
  if (r.status === 410) return 'gone';
  if (r.status === 408 || r.status === 429 || (r.status >= 500 && r.status < 600)) return 'retry';
  return 'fail';
}

/** Sends one signed POST and reports what came back; never throws for HTTP or network failures. */
export async function sendWebhook(r: WebhookRequest): Promise<WebhookResponse> {
  const answer = await guardedRequest({
    url: r.url,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'smime-relay-webhooks',
      'webhook-id': r.id,
      'webhook-timestamp': String(Math.floor(r.timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(r.secret).sign(r.id, r.timestamp, r.payload),
    },
    body: Buffer.from(r.payload, 'utf8'),
    timeoutMs: r.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
    maxBytes: EXCERPT_BYTES,
    allowPrivate: r.allowPrivate,
    lookup: r.lookup,
  });
  const { body, ...rest } = answer;
  return { ...rest, excerpt: new StringDecoder('utf8').write(body) };
}
