/**
 * The Mautic platform adapter. Mautic sends through its mailer DSN (our SMTP port); its
 * messages carry X-EMAIL-ID (the Mautic email's id), which marks them as Mautic's. When
 * one fails for good, the contact is found by address through Mautic's REST API and gets
 * a Do-Not-Contact entry with reason "bounced" on the email channel, tied to that email,
 * with our error code in the comment. Basic auth or OAuth2 client credentials.
 */
import {
  FeedbackError,
  type FailedMessage,
  type HeaderLookup,
  type HttpAnswer,
  type Integration,
  type OutboundHttp,
  type PlatformAdapter,
} from '../../src/plugin/contract';
import { baseOf, MauticSettings } from './mautic.settings';

/** Mautic's DoNotContact reasons: 1 unsubscribed, 2 bounced, 3 manual. */
const DNC_BOUNCED = 2;

function refused(what: string, a: HttpAnswer): FeedbackError {
  const said = a.text.slice(0, 200).replace(/\s+/g, ' ');
  const hint =
    a.status === 401 || a.status === 403
      ? ' (check the credentials, and that the API is enabled under Configuration → API Settings)'
      : '';
  return new FeedbackError(
    `Mautic ${what}: ${a.status}${hint}: ${said}`,
    !(a.status === 429 || a.status >= 500),
  );
}

export class MauticAdapter implements PlatformAdapter<MauticSettings> {
  readonly platform = 'mautic';
  readonly settings = MauticSettings;
  readonly secretFields = ['credentials.password', 'credentials.clientSecret'] as const;
  /** OAuth2 access tokens by integration id, until shortly before they expire. */
  private readonly tokens = new Map<string, { token: string; until: number }>();

  outboundUrls(s: MauticSettings): Record<string, string> {
    return { baseUrl: `${baseOf(s)}/api/contacts` };
  }

  recognise(header: HeaderLookup): Record<string, string> | undefined {
    const emailId = header('x-email-id');
    return emailId && /^\d+$/.test(emailId) ? { mauticEmailId: emailId } : undefined;
  }

  private async authorization(i: Integration<MauticSettings>, http: OutboundHttp): Promise<string> {
    const c = i.settings.credentials;
    if (c.type === 'basic') {
      return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    }
    const cached = this.tokens.get(i.id);
    if (cached && cached.until > Date.now()) return `Bearer ${cached.token}`;
    const answer = await http.request(`${baseOf(i.settings)}/oauth/v2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: c.clientId ?? '',
        client_secret: c.clientSecret ?? '',
      }).toString(),
    });
    const json = answer.json as { access_token?: string; expires_in?: number } | undefined;
    if (answer.status !== 200 || !json?.access_token)
      throw refused('refused the OAuth2 token', answer);
    const lifetime = Math.max((json.expires_in ?? 3600) - 60, 0) * 1000;
    this.tokens.set(i.id, { token: json.access_token, until: Date.now() + lifetime });
    return `Bearer ${json.access_token}`;
  }

  /** The contact's id, or undefined when Mautic has no contact with this address. */
  private async contactId(
    base: string,
    email: string,
    headers: Record<string, string>,
    http: OutboundHttp,
  ): Promise<string | undefined> {
    const query = new URLSearchParams({ search: `email:${email}`, limit: '1', minimal: 'true' });
    const answer = await http.request(`${base}/api/contacts?${query}`, { method: 'GET', headers });
    if (answer.status !== 200) throw refused('refused the contact search', answer);
    const contacts = (answer.json as { contacts?: Record<string, { id?: number | string }> })
      ?.contacts;
    const first = contacts && Object.values(contacts)[0];
    return first?.id === undefined ? undefined : String(first.id);
  }

  async onMessageFailed(
    failure: FailedMessage,
    integration: Integration<MauticSettings>,
    http: OutboundHttp,
  ): Promise<string> {
    if (failure.stage === 'signing' && !integration.settings.dncOnSigningFailure) {
      return `signing failure (${failure.error.code}) not reported: dncOnSigningFailure is off`;
    }
    const base = baseOf(integration.settings);
    const headers = {
      authorization: await this.authorization(integration, http),
      accept: 'application/json',
    };
    const done: string[] = [];
    for (const email of failure.recipients) {
      const id = await this.contactId(base, email, headers, http);
      if (!id) {
        done.push(`no contact for ${email}`);
        continue;
      }
      const emailId = failure.meta.mauticEmailId;
      const answer = await http.request(`${base}/api/contacts/${id}/dnc/email/add`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          reason: DNC_BOUNCED,
          comments: `smime-relay [${failure.error.code}] ${failure.error.message} (message ${failure.messageId})`,
          ...(emailId ? { channelId: Number(emailId) } : {}),
        }),
      });
      if (answer.status !== 200 && answer.status !== 201) {
        throw refused('refused the Do-Not-Contact entry', answer);
      }
      done.push(`contact ${id} marked Do-Not-Contact (bounced)`);
    }
    return done.join('; ');
  }
}
