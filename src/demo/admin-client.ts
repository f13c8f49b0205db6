/**
 * The relay's admin API as the demo uses it: JSON over fetch with the operator token. A
 * refused request becomes a RelayError with the code and message the API answered.
 */
import { ERROR_CODES, type ErrorCode } from '../plugin/error-codes';
import { RelayError } from '../plugin/relay-error';

export class AdminClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
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
    if (!res.ok) {
      const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      const code =
        error?.code && error.code in ERROR_CODES ? (error.code as ErrorCode) : 'internal_error';
      const message = error?.message ?? `HTTP ${res.status}`;
      throw new RelayError(code, `${method} ${path} was refused: ${message.replace(/\.$/, '')}`);
    }
    return json as T;
  }
}
