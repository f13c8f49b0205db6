/**
 * The listmonk platform adapter: recognises listmonk's messages submitted over SMTP by
 * their X-Listmonk-* header fields, and reports failed messages to listmonk's bounce
 * webhook (POST <root>/webhooks/bounce, Basic auth with an API user), so listmonk's own
 * bounce rules apply. Only a refusal of the address itself (enhanced status 5.1.x or
 * 5.2.1) is a hard bounce. Every other failure (a policy or authentication refusal, retries
 * running out, a message the relay would not sign) is soft: the subscriber's address is
 * not known to be bad, and a soft bounce does not blocklist under listmonk's defaults.
 */
import {
  FeedbackError,
  type FailedMessage,
  type HeaderLookup,
  type Integration,
  type OutboundHttp,
  type PlatformAdapter,
} from '../../src/plugin/contract';
import { rootOf, ListmonkSettings } from './listmonk.settings';
import { LISTMONK_INBOUND_PATH } from './postback.controller';

export class ListmonkAdapter implements PlatformAdapter<ListmonkSettings> {
  readonly platform = 'listmonk';
  readonly settings = ListmonkSettings;
  readonly secretFields = ['bounce.password'] as const;
  readonly inboundPath = LISTMONK_INBOUND_PATH;

  outboundUrls(s: ListmonkSettings): Record<string, string> {
    return s.bounce ? { rootUrl: `${rootOf(s)}/webhooks/bounce` } : {};
  }

  recognise(header: HeaderLookup): Record<string, string> | undefined {
    const campaign = header('x-listmonk-campaign');
    const subscriber = header('x-listmonk-subscriber');
    if (!campaign && !subscriber) return undefined;
    return {
      ...(campaign ? { campaignUuid: campaign } : {}),
      ...(subscriber ? { subscriberUuid: subscriber } : {}),
    };
  }

  async onMessageFailed(
    failure: FailedMessage,
    integration: Integration<ListmonkSettings>,
    http: OutboundHttp,
  ): Promise<string> {
    const { meta } = failure;
    if (meta.integrationId && meta.integrationId !== integration.id) {
      return 'not this integration’s message; nothing sent';
    }
    const login = integration.settings.bounce;
    if (!login) return 'no bounce login configured; nothing sent';
    const type = failure.recipientRefused ? 'hard' : 'soft';
    const authorization = `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`;
    for (const email of failure.recipients) {
      const answer = await http.request(`${rootOf(integration.settings)}/webhooks/bounce`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({
          email,
          ...(meta.subscriberUuid ? { subscriber_uuid: meta.subscriberUuid } : {}),
          ...(meta.campaignUuid ? { campaign_uuid: meta.campaignUuid } : {}),
          source: 'smime-relay',
          type,
          meta: JSON.stringify({
            messageId: failure.messageId,
            code: failure.error.code,
            message: failure.error.message,
            ...(failure.error.reply ? { reply: failure.error.reply } : {}),
          }),
        }),
      });
      if (answer.status >= 200 && answer.status < 300) continue;
      const said = answer.text.slice(0, 200).replace(/\s+/g, ' ');
      const transient = answer.status === 429 || answer.status >= 500;
      const hint =
        answer.status === 401 || answer.status === 403
          ? ' (check the API user and token, and that it may manage bounces)'
          : '';
      throw new FeedbackError(`listmonk answered ${answer.status}${hint}: ${said}`, !transient);
    }
    return `recorded ${type} bounce for ${failure.recipients.length} recipient(s)`;
  }
}
