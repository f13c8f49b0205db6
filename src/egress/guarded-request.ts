/**
 * One HTTP request to a URL the egress guard allows (checked before connecting and inside
 * the connection's own DNS lookup), no redirects followed, one deadline for connecting,
 * the response headers and the reading, and at most `maxBytes` of the answer kept. HTTP
 * and network failures are returned, not thrown. Webhooks, platform feedback, unsubscribe
 * links and provider APIs use it.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  checkUrlWithoutDns,
  EgressRefused,
  guardedLookup,
  type EgressOptions,
  type Lookup,
} from './egress-guard';

export interface GuardedRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  /** Reading stops once this many bytes of the answer have arrived. */
  maxBytes: number;
  allowPrivate: EgressOptions['allowPrivate'];
  lookup?: Lookup;
  /**
   * A keep-alive agent to reuse connections (provider APIs); it must have been made with
   * guardedAgent() for the same destination. Without it every request connects afresh.
   */
  agent?: HttpAgent;
}

/** A keep-alive agent whose every new connection goes through the guard's lookup. */
export function guardedAgent(o: EgressOptions, secure: boolean): HttpAgent {
  const options = { keepAlive: true, maxSockets: 16, lookup: guardedLookup(o) };
  return secure ? new HttpsAgent(options) : new HttpAgent(options);
}

export interface GuardedResponse {
  /** The HTTP status, or null when there was none (refused, network error, timeout). */
  status: number | null;
  latencyMs: number;
  /** The start of the answer's body, at most maxBytes. */
  body: Buffer;
  /** Why there is no status: a timeout, a network error or an egress refusal. */
  error?: string;
  /** True when the egress guard refused the URL or the address it resolved to. */
  refused?: boolean;
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

export async function guardedRequest(r: GuardedRequest): Promise<GuardedResponse> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);

  let target: URL;
  try {
    target = checkUrlWithoutDns(r.url, { allowPrivate: r.allowPrivate });
  } catch (e) {
    if (!(e instanceof EgressRefused)) throw e;
    return {
      status: null,
      latencyMs: elapsed(),
      body: Buffer.alloc(0),
      error: e.message,
      refused: true,
    };
  }
  const headers = { ...r.headers, ...(r.body ? { 'content-length': String(r.body.length) } : {}) };
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise<GuardedResponse>((resolve) => {
    let settled = false;
    let response: IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    const finish = (result: Omit<GuardedResponse, 'latencyMs' | 'body'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      response?.destroy();
      req.destroy();
      const body = Buffer.concat(chunks).subarray(0, r.maxBytes);
      resolve({ ...result, body, latencyMs: elapsed() });
    };

    const req = request(
      target,
      r.agent
        ? { method: r.method, headers, agent: r.agent }
        : {
            method: r.method,
            headers,
            agent: false,
            lookup: guardedLookup({ allowPrivate: r.allowPrivate, lookup: r.lookup }),
          },
    );
    const deadline = setTimeout(
      () => finish({ status: null, error: `no answer within ${seconds(r.timeoutMs)}` }),
      r.timeoutMs,
    );

    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof EgressRefused) {
        finish({ status: null, error: err.message, refused: true });
      } else {
        finish({ status: null, error: describeNetworkError(err, target.host) });
      }
    });

    req.on('response', (res) => {
      response = res;
      const status = res.statusCode ?? null;
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= r.maxBytes) finish({ status });
      });
      // 'close' also covers a body cut short: the status has arrived, which is what counts.
      res.on('end', () => finish({ status }));
      res.on('close', () => finish({ status }));
      res.on('error', () => finish({ status }));
    });

    req.end(r.body);
  });
}
