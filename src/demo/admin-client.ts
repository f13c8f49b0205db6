/**
 * The one HTTP client of the relay's admin API, for the demo, the benchmark and the tests.
 * send() answers every HTTP status as it came (tests look at 4xx answers); request() is
 * JSON with the client's token and turns a refusal into a RelayError with the code and
 * message the API answered.
 */
import { ERROR_CODES, type ErrorCode } from '../plugin/error-codes';
import { RelayError } from '../plugin/relay-error';

/** How long one call may take, unless the client is told otherwise. */
const DEFAULT_TIMEOUT_MS = 30_000;

export interface SendOptions {
  /** The bearer token; without it the client's own, and '' sends none. */
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is (content-type application/json unless `headers` say otherwise); wins over body. */
  raw?: string;
  /** Extra headers; they win over the ones the client sets. */
  headers?: Record<string, string>;
}

export interface AdminReply {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is empty or not JSON. */
  json: unknown;
}

export class AdminClient {
  private readonly timeoutMs: number;

  constructor(
    private readonly baseUrl: string,
    private readonly token?: string,
    options: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** One call; any HTTP status is an answer. Only a call that gets none (refused connection, timeout) throws. */
  async send(method: string, path: string, opts: SendOptions = {}): Promise<AdminReply> {
    const headers = new Headers();
    const token = opts.token ?? this.token;
    if (token) headers.set('authorization', `Bearer ${token}`);
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) body = JSON.stringify(opts.body);
    if (body !== undefined) headers.set('content-type', 'application/json');
    for (const [name, value] of Object.entries(opts.headers ?? {})) headers.set(name, value);
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new RelayError('internal_error', `${method} ${path} failed: ${(e as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  /** A JSON call with the client's token: the answer's JSON, or a RelayError when refused. */
  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const res = await this.send(method, path, { body });
    if (res.status < 200 || res.status > 299) {
      const error = (res.json as { error?: { code?: string; message?: string } } | undefined)
        ?.error;
      const code =
        error?.code && error.code in ERROR_CODES ? (error.code as ErrorCode) : 'internal_error';
      const message = error?.message ?? `HTTP ${res.status}`;
      throw new RelayError(code, `${method} ${path} was refused: ${message.replace(/\.$/, '')}`);
    }
    return res.json as T;
  }
}
