/**
 * Calling a provider's HTTP API for transports (Mailgun, SparkPost): one request with a
 * time limit, its status, text and JSON body; a request that cannot be made is a
 * transient DeliveryError that names no URL query or header.
 */
import { DeliveryError } from './contract';
import { oneLine } from './smtp-client';

export const PROVIDER_API_TIMEOUT_MS = 30_000;

export interface ApiAnswer {
  status: number;
  /** The parsed JSON body, or undefined when the body was not JSON. */
  json?: Record<string, unknown>;
  text: string;
}

export async function callProviderApi(
  provider: string,
  url: string,
  init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string | FormData },
): Promise<ApiAnswer> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(PROVIDER_API_TIMEOUT_MS) });
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: string; message?: string } };
    const why =
      err?.name === 'TimeoutError'
        ? `no answer within ${PROVIDER_API_TIMEOUT_MS / 1000} s`
        : // not the error's message: a refused header value would be quoted in it
          (err?.cause?.code ?? err?.cause?.message ?? 'the request could not be made');
    throw new DeliveryError(`${provider} could not be reached: ${oneLine(why)}`, false, undefined, {
      cause: e,
    });
  }
  // A body cut off after the status line still leaves the status to decide by.
  const text = await res.text().catch(() => '');
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, json, text };
}
