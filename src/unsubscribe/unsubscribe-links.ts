/**
 * Short one-click unsubscribe links for delivery paths that re-encode long List-Unsubscribe
 * fields. SendGrid is reported to MIME-encode a List-Unsubscribe field of 78 octets or more;
 * the encoded field no longer parses as RFC 2369 links (so RFC 8058 one-click stops working)
 * and no longer matches the relay's DKIM signature. listmonk's and Mautic 5.1's links are
 * longer than that. So on such a path each http(s) link is replaced by
 * `<UNSUBSCRIBE_BASE_URL>/u/<token>`, which forwards the one-click POST to the platform's
 * link and redirects a reader's GET there. mailto: links are kept when the field still fits,
 * dropped otherwise (one-click needs the https link, RFC 8058 §3.1).
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Environment } from '../config/environment';
import { ENVIRONMENT } from '../config/tokens';
import type { Database } from '../database/connection';
import { DATABASE } from '../database/database.module';
import { fieldLength, findListUnsubscribe, replaceListUnsubscribe } from './list-unsubscribe';

/** The base of the short links: UNSUBSCRIBE_BASE_URL, else PUBLIC_URL. */
export function unsubscribeBase(env: Environment, publicUrl: string): string {
  return (env.UNSUBSCRIBE_BASE_URL ?? publicUrl).replace(/\/+$/, '');
}

/** RFC 8058 needs an https link; plain http is allowed for loopback only (local tests). */
export function usableBase(base: string): boolean {
  const url = new URL(base);
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/.test(url.hostname);
}

@Injectable()
export class UnsubscribeLinks {
  private readonly log = new Logger('UnsubscribeLinks');
  private warned = false;

  constructor(
    @Inject(DATABASE) private readonly db: Database,
    @Inject(ENVIRONMENT) private readonly env: Environment,
  ) {}

  /** The token of the short link for one message's original link, made on first use. */
  private async token(tenantId: string, messageId: string, target: string): Promise<string> {
    const candidate = randomBytes(17).toString('base64url').slice(0, 22);
    const [row] = await this.db.session.query<{ token: string }>(
      `INSERT INTO unsubscribe_links (token, tenant_id, message_id, target)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (message_id, target) DO UPDATE SET target = EXCLUDED.target
       RETURNING token`,
      [candidate, tenantId, messageId, target],
    );
    return row.token;
  }

  /**
   * `signed` with its List-Unsubscribe field shortened below `limit` octets, when it is that
   * long; unchanged otherwise. The same message gets the same links on every attempt.
   */
  async shorten(
    tenantId: string,
    messageId: string,
    signed: Buffer,
    limit: number,
    base: string,
  ): Promise<Buffer> {
    const field = findListUnsubscribe(signed);
    if (!field || fieldLength(field) < limit) return signed;
    if (!usableBase(base)) {
      if (!this.warned) {
        this.warned = true;
        this.log.warn(
          `List-Unsubscribe fields of ${limit}+ octets are sent as they are: set ` +
            'UNSUBSCRIBE_BASE_URL (or PUBLIC_URL) to an https URL of this relay to shorten them',
        );
      }
      return signed;
    }
    const web: string[] = [];
    const mailto: string[] = [];
    for (const link of field.links) {
      if (/^https?:\/\//i.test(link)) {
        web.push(`${base}/u/${await this.token(tenantId, messageId, link)}`);
      } else if (/^mailto:/i.test(link)) mailto.push(link);
    }
    const withMailto = replaceListUnsubscribe(signed, field, [...mailto, ...web]);
    const kept = findListUnsubscribe(withMailto);
    if (kept && fieldLength(kept) < limit) return withMailto;
    return web.length ? replaceListUnsubscribe(signed, field, web) : signed;
  }

  /** The original link behind a token. */
  async target(token: string): Promise<{ target: string; tenantId: string } | undefined> {
    if (!/^[A-Za-z0-9_-]{22}$/.test(token)) return undefined;
    const [row] = await this.db.session.query<{ target: string; tenant_id: string }>(
      'SELECT target, tenant_id FROM unsubscribe_links WHERE token = $1',
      [token],
    );
    return row ? { target: row.target, tenantId: row.tenant_id } : undefined;
  }

  /** Forget links older than UNSUBSCRIBE_LINK_DAYS. */
  async purge(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - this.env.UNSUBSCRIBE_LINK_DAYS * 86_400_000);
    const rows = await this.db.session.query(
      'DELETE FROM unsubscribe_links WHERE created_at < $1 RETURNING token',
      [before],
    );
    return rows.length;
  }
}
