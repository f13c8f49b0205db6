/**
 * The Mautic platform adapter. Mautic sends through its mailer DSN (our SMTP port); its
 * messages carry X-EMAIL-ID (the Mautic email's id) or Mautic's own unsubscribe link in
 * List-Unsubscribe, which mark them as Mautic's. When the upstream refuses the contact's
 * address itself (5.1.x, 5.2.1), the contact is found by address through Mautic's REST API
 * and gets a Do-Not-Contact entry with reason "bounced" on the email channel, tied to that
 * email, with our error code in the comment. Other failures (policy, authentication, an
 * outage, signing) are not the contact's fault and are not reported, since a DNC entry
 * stops every later email; signing failures can be, with dncOnSigningFailure. Basic auth
 * or OAuth2 client credentials.
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

/**
 * Mautic's own unsubscribe page in List-Unsubscribe: `/email/unsubscribe/{idHash}` up to
 * Mautic 5.0, `/email/unsubscribe/{idHash}/{urlEmail}/{secretHash}` from 5.1.0 (route
 * mautic_email_unsubscribe in app/bundles/EmailBundle/Config/config.php, mautic/mautic
 * PR #10846), with the index.php front controller in front when URL rewriting is off.
 */
const MAUTIC_UNSUBSCRIBE =
  /<(https?:\/\/[^>\s]*\/email\/unsubscribe\/[0-9a-z]+(?:\/[^/>\s?#]+\/[0-9a-z]+)?)\/?(?:[?#][^>\s]*)?>/i;

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
    if (emailId && /^\d+$/.test(emailId)) return { mauticEmailId: emailId };
    const unsubscribe = MAUTIC_UNSUBSCRIBE.exec(header('list-unsubscribe') ?? '');
    return unsubscribe ? { mauticUnsubscribe: unsubscribe[1] } : undefined;
  }

  private async authorization(
    i: Integration<MauticSettings>,
    http: OutboundHttp,
    fresh = false,
  ): Promise<string> {
    const c = i.settings.credentials;
    if (c.type === 'basic') {
      return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    }
    const cached = this.tokens.get(i.id);
    if (!fresh && cached && cached.until > Date.now()) return `Bearer ${cached.token}`;
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
    if (answer.status !== 200 || !json?.access_token) {
      this.tokens.delete(i.id);
      throw refused('refused the OAuth2 token', answer);
    }
    const lifetime = Math.max((json.expires_in ?? 3600) - 60, 0) * 1000;
    this.tokens.set(i.id, { token: json.access_token, until: Date.now() + lifetime });
    return `Bearer ${json.access_token}`;
  }

  /** A call with the integration's credentials; a cached OAuth2 token refused once is renewed. */
  private async call(
    i: Integration<MauticSettings>,
    http: OutboundHttp,
    url: string,
    init: { method: 'GET' | 'POST'; body?: string },
  ): Promise<HttpAnswer> {
    const send = async (fresh: boolean) =>
      http.request(url, {
        ...init,
        headers: {
          authorization: await this.authorization(i, http, fresh),
          accept: 'application/json',
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
      });
    const answer = await send(false);
    if (answer.status !== 401 || i.settings.credentials.type !== 'oauth2') return answer;
    return send(true);
  }

  /**
   * The id of the contact whose address is exactly `email` (case-insensitive), or undefined.
   * Mautic's `email:` search may also match similar addresses, so every result is checked.
   */
  private async contactId(
    i: Integration<MauticSettings>,
    email: string,
    http: OutboundHttp,
  ): Promise<string | undefined> {
    const query = new URLSearchParams({ search: `email:${email}`, limit: '20' });
    const answer = await this.call(i, http, `${baseOf(i.settings)}/api/contacts?${query}`, {
      method: 'GET',
    });
    if (answer.status !== 200) throw refused('refused the contact search', answer);
    type Contact = { id?: number | string; fields?: { all?: { email?: string } } };
    const contacts = (answer.json as { contacts?: Record<string, Contact> | Contact[] })?.contacts;
    const match = Object.values(contacts ?? {}).find(
      (c) => c.fields?.all?.email?.toLowerCase() === email.toLowerCase(),
    );
    return match?.id === undefined ? undefined : String(match.id);
  }

  async onMessageFailed(
    failure: FailedMessage,
    integration: Integration<MauticSettings>,
    http: OutboundHttp,
  ): Promise<string> {
    if (failure.stage === 'signing' && !integration.settings.dncOnSigningFailure) {
      return `signing failure (${failure.error.code}) not reported: dncOnSigningFailure is off`;
    }
    if (failure.stage === 'delivery' && !failure.recipientRefused) {
      return `${failure.error.code} not reported: the upstream did not refuse the address itself`;
    }
    const done: string[] = [];
    for (const email of failure.recipients) {
      const id = await this.contactId(integration, email, http);
      if (!id) {
        done.push(`no contact for ${email}`);
        continue;
      }
      const emailId = failure.meta.mauticEmailId;
      const url = `${baseOf(integration.settings)}/api/contacts/${id}/dnc/email/add`;
      const answer = await this.call(integration, http, url, {
        method: 'POST',
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
