/**
 * One webhook delivery: a signed POST (Standard Webhooks headers) to a URL the egress guard
 * allows, no redirects followed, at most 512 bytes of the answer read, one deadline for
 * connecting, the response headers and the reading. HTTP and network failures are returned,
 * not thrown.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { Webhook } from 'standardwebhooks';
import {
  checkWebhookUrlWithoutDns,
  EgressRefused,
  guardedLookup,
  type Lookup,
} from './egress-guard';

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

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

/** A plain sentence for a failed connection or request. */
function describeNetworkError(err: NodeJS.ErrnoException, host: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `${host} refused the connection`;
    case 'ECONNRESET':
      return `${host} closed the connection before answering`;
    case 'ENOTFOUND':
      return `${host} does not resolve`;
    case 'EAI_AGAIN':
      return `${host} could not be resolved just now (temporary DNS failure)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${host} cannot be reached from here`;
    default:
      return `the request to ${host} failed: ${err.message}`;
  }
}

/** Sends one signed POST and reports what came back; never throws for HTTP or network failures. */
export async function sendWebhook(r: WebhookRequest): Promise<WebhookResponse> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const timeoutMs = r.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;

  let target: URL;
  try {
    target = checkWebhookUrlWithoutDns(r.url, { allowPrivate: r.allowPrivate });
  } catch (e) {
    if (!(e instanceof EgressRefused)) throw e;
    return { status: null, latencyMs: elapsed(), excerpt: '', error: e.message, refused: true };
  }

  const body = Buffer.from(r.payload, 'utf8');
  const headers = {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': 'smime-relay-webhooks',
    'webhook-id': r.id,
    'webhook-timestamp': String(Math.floor(r.timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(r.secret).sign(r.id, r.timestamp, r.payload),
  };
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise<WebhookResponse>((resolve) => {
    let settled = false;
    let response: IncomingMessage | undefined;
    const finish = (result: Omit<WebhookResponse, 'latencyMs'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      response?.destroy();
      req.destroy();
      resolve({ ...result, latencyMs: elapsed() });
    };

    const req = request(target, {
      method: 'POST',
      headers,
      agent: false,
      lookup: guardedLookup({ allowPrivate: r.allowPrivate, lookup: r.lookup }),
    });
    const deadline = setTimeout(
      () => finish({ status: null, excerpt: '', error: `no answer within ${seconds(timeoutMs)}` }),
      timeoutMs,
    );

    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof EgressRefused) {
        finish({ status: null, excerpt: '', error: err.message, refused: true });
      } else {
        finish({ status: null, excerpt: '', error: describeNetworkError(err, target.host) });
      }
    });

    req.on('response', (res) => {
      response = res;
      const status = res.statusCode ?? null;
      const chunks: Buffer[] = [];
      let received = 0;
      const excerpt = (): string =>
        new StringDecoder('utf8').write(Buffer.concat(chunks).subarray(0, EXCERPT_BYTES));
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= EXCERPT_BYTES) finish({ status, excerpt: excerpt() });
      });
      // 'close' also covers a body cut short: the status has arrived, which is what counts.
      res.on('end', () => finish({ status, excerpt: excerpt() }));
      res.on('close', () => finish({ status, excerpt: excerpt() }));
      res.on('error', () => finish({ status, excerpt: excerpt() }));
    });

    req.end(body);
  });
}
