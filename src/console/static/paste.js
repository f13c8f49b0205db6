// Ready-to-paste settings: listmonk's SMTP server form, Mautic's DSN, and listmonk's
// postback messenger (created through the listmonk integration route).
import { api, tenantPath } from './api.js';
import { h, field, input, section, clear, pasteBlock } from './dom.js';
import { actionForm, shownOnce } from './forms.js';
import { t } from './i18n.js';

/** Mautic's DSN; placeholders stay readable, real credentials are percent-encoded. */
const dsn = (creds, host, port) => {
  const enc = creds.placeholder ? (s) => s : encodeURIComponent;
  return `smtp://${enc(creds.username)}:${enc(creds.password)}@${host}:${port}`;
};

export function pasteBlocks(ctx) {
  const { smtp } = ctx.about;
  let creds = { username: t('placeholderUser'), password: t('placeholderPass'), placeholder: true };
  const blocks = h('div', { id: 'paste-blocks' });
  const draw = () => {
    clear(blocks);
    const tls = smtp.starttls ? 'STARTTLS' : t('tlsNone');
    blocks.append(
      pasteBlock(
        t('listmonkSmtp'),
        [
          `${t('pHost')}: ${smtp.host}`,
          `${t('pPort')}: ${smtp.port}`,
          `${t('pAuth')}: login`,
          `${t('username')}: ${creds.username}`,
          `${t('password')}: ${creds.password}`,
          `TLS: ${tls}`,
          smtp.starttls ? `${t('pSkipTls')}: off` : null,
          `${t('pMaxConns')}: 10`,
        ]
          .filter(Boolean)
          .join('\n'),
        t('copy'),
        t('copied'),
      ),
      pasteBlock(t('mauticDsn'), dsn(creds, smtp.host, smtp.port), t('copy'), t('copied')),
    );
    if (smtp.tlsPort) blocks.append(h('p', {}, t('smtpsPort', { port: smtp.tlsPort })));
  };
  draw();

  const rootUrl = input({
    type: 'url',
    required: true,
    placeholder: 'https://listmonk.example.com',
  });
  const button = h('button', { type: 'submit' }, t('createPostback'));
  const out = h('div', { 'aria-live': 'polite', id: 'postback-result' });
  const postback = actionForm(
    button,
    out,
    async () => {
      const r = await api('POST', tenantPath(ctx.tenantId, '/integrations/listmonk'), {
        json: { rootUrl: rootUrl.value.trim() },
      });
      out.append(
        shownOnce(
          [t('postbackUrl'), r.postbackUrl],
          [t('username'), r.username],
          [t('password'), r.password],
        ),
        h('p', {}, t('postbackHowTo')),
      );
    },
    field(t('listmonkRootUrl'), rootUrl, t('listmonkRootUrlHint')),
    button,
    out,
  );

  return {
    el: section(
      t('pasteTitle'),
      h('p', {}, t('pasteIntro')),
      blocks,
      h('h3', {}, t('listmonkPostback')),
      h('p', {}, t('postbackIntro')),
      postback,
    ),
    useCredentials(c) {
      creds = { username: c.username, password: c.password };
      draw();
    },
  };
}
