/**
 * The HTTP client platform adapters call their platform's API with: the egress guard
 * (PLATFORM_ALLOW_PRIVATE lets it reach private networks), no redirects, 15 s for an
 * answer, 1 MB of it read. A request that gets no answer is a transient FeedbackError; one
 * the guard refuses is permanent.
 */
import { Inject, Injectable } from '@nestjs/common';
import { ENVIRONMENT } from '../config/tokens';
import type { Environment } from '../config/environment';
import { FeedbackError, type HttpAnswer, type OutboundHttp } from '../plugin/contract';
import { guardedRequest } from '../egress/guarded-request';
import { checkUrl, EgressRefused } from '../egress/egress-guard';
import { RelayError } from '../plugin/relay-error';

export const PLATFORM_TIMEOUT_MS = 15_000;
const MAX_ANSWER_BYTES = 1024 * 1024;

@Injectable()
export class PlatformHttp implements OutboundHttp {
  constructor(@Inject(ENVIRONMENT) private readonly env: Environment) {}

  async request(
    url: string,
    init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  ): Promise<HttpAnswer> {
    const answer = await guardedRequest({
      url,
      method: init.method,
      headers: { 'user-agent': 'smime-relay', ...init.headers },
      body: init.body === undefined ? undefined : Buffer.from(init.body, 'utf8'),
      timeoutMs: PLATFORM_TIMEOUT_MS,
      maxBytes: MAX_ANSWER_BYTES,
      allowPrivate: this.env.PLATFORM_ALLOW_PRIVATE,
    });
    if (answer.status === null) {
      throw new FeedbackError(answer.error ?? 'no answer', answer.refused === true);
    }
    const text = answer.body.toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON: the text is what there is
    }
    return { status: answer.status, text, json };
  }

  /** At save time: the URL is http(s), carries no credentials and may be reached from here. */
  async checkUrl(field: string, url: string): Promise<void> {
    try {
      await checkUrl(url, { allowPrivate: this.env.PLATFORM_ALLOW_PRIVATE });
    } catch (e) {
      if (!(e instanceof EgressRefused)) throw e;
      const hint = this.env.PLATFORM_ALLOW_PRIVATE
        ? ''
        : ' (a platform on a private network needs PLATFORM_ALLOW_PRIVATE=true)';
      throw new RelayError(
        'invalid_request',
        `${field}: ${e.message.replace(/webhook /g, '')}${hint}`,
      );
    }
  }
}
