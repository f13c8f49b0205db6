// Mautic: the tenant's connections to Mautic for Do-Not-Contact feedback (the API's
// /integrations/mautic routes). A password or client secret goes in once and is never shown
// back: the API reads it back as "[redacted]", and this screen does not show even that.
import { api, tenantPath } from './api.js';
import { h, field, input, select, section, table, clear } from './dom.js';
import { actionForm, disclosure, removeButton, say } from './forms.js';
import { t, when, okBox } from './i18n.js';

const base = (tenantId, rest = '') => tenantPath(tenantId, `/integrations/mautic${rest}`);

function feedbackTable(list) {
  if (!list.length) return h('p', {}, t('mauticNoFeedback'));
  return table(
    [t('when'), t('feedbackMessage'), t('attempt'), t('outcome'), t('feedbackDetail')],
    list.map((a) => [
      when(a.at),
      h('code', {}, a.messageId ?? '—'),
      String(a.attempt),
      t(`feedback_${a.outcome}`),
      a.detail ? h('code', { class: 'reply' }, a.detail) : '',
    ]),
    t('mauticFeedback'),
  );
}

function integrationRow(ctx, i, reload, status) {
  const path = base(ctx.tenantId, `/${encodeURIComponent(i.id)}`);
  const s = i.settings;
  const c = s.credentials ?? {};
  const basic = c.type === 'basic';
  const out = h('div', { 'aria-live': 'polite' });
  const log = disclosure(t('mauticFeedback'), out, async () =>
    feedbackTable(await api('GET', `${path}/deliveries?limit=50`)),
  );
  const remove = removeButton(t('remove'), {
    question: t('confirmRemoveMautic', { url: s.baseUrl }),
    run: () => api('DELETE', path),
    reload,
    status,
    done: t('mauticRemoved', { url: s.baseUrl }),
  });
  return h(
    'li',
    { class: 'webhook mautic' },
    h('p', {}, h('code', {}, s.baseUrl)),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, t('mauticAuth')),
      h('dd', {}, basic ? t('mauticBasic') : t('mauticOauth')),
      h('dt', {}, basic ? t('mauticUser') : t('mauticClientId')),
      h('dd', {}, h('code', {}, (basic ? c.username : c.clientId) ?? '—')),
      h('dt', {}, basic ? t('mauticPassword') : t('mauticClientSecret')),
      h('dd', { class: 'secret-stored' }, t('secretStored')),
      h('dt', {}, t('mauticDnc')),
      h('dd', {}, s.dncOnSigningFailure ? t('yes') : t('no')),
      h('dt', {}, t('created')),
      h('dd', {}, when(i.createdAt)),
    ),
    h('div', { class: 'row' }, log, remove),
    out,
  );
}

function newForm(ctx, reload) {
  const baseUrl = input({
    type: 'url',
    required: true,
    placeholder: 'https://mautic.example.com',
    autocomplete: 'off',
  });
  const type = select([
    ['basic', t('mauticBasic')],
    ['oauth2', t('mauticOauth')],
  ]);
  const secret = () => input({ type: 'password', autocomplete: 'new-password' });
  const fields = {
    basic: [input({ autocomplete: 'off' }), secret()],
    oauth2: [input({ autocomplete: 'off', spellcheck: 'false' }), secret()],
  };
  const basicBox = h(
    'div',
    { class: 'grid' },
    field(t('mauticUser'), fields.basic[0]),
    field(t('mauticPassword'), fields.basic[1], t('mauticSecretHint')),
  );
  const oauthBox = h(
    'div',
    { class: 'grid', hidden: true },
    field(t('mauticClientId'), fields.oauth2[0]),
    field(t('mauticClientSecret'), fields.oauth2[1], t('mauticSecretHint')),
  );
  const showType = () => {
    const oauth = type.value === 'oauth2';
    basicBox.hidden = oauth;
    oauthBox.hidden = !oauth;
    for (const f of fields.basic) f.required = !oauth;
    for (const f of fields.oauth2) f.required = oauth;
  };
  type.addEventListener('change', showType);
  showType();
  // A checkbox's field is a row: its hint goes under it, tied to it by aria-describedby.
  const dncHint = h('p', { class: 'hint', id: 'mautic-dnc-hint' }, t('mauticDncHint'));
  const dnc = input({ type: 'checkbox', 'aria-describedby': dncHint.id });
  const button = h('button', { type: 'submit' }, t('mauticSave'));
  const out = h('div', { 'aria-live': 'polite', id: 'mautic-result' });
  const form = actionForm(
    button,
    out,
    async () => {
      const [id, pass] = fields[type.value];
      const credentials =
        type.value === 'basic'
          ? { type: 'basic', username: id.value.trim(), password: pass.value }
          : { type: 'oauth2', clientId: id.value.trim(), clientSecret: pass.value };
      const created = await api('POST', base(ctx.tenantId), {
        json: { baseUrl: baseUrl.value.trim(), credentials, dncOnSigningFailure: dnc.checked },
      });
      // The secret leaves the page: it is in Mautic's settings now, and in no field here.
      for (const f of [...fields.basic, ...fields.oauth2]) f.value = '';
      baseUrl.value = '';
      await reload();
      say(out, okBox(t('mauticSaved', { url: created.settings.baseUrl })));
    },
    field(t('mauticBaseUrl'), baseUrl, t('mauticBaseUrlHint')),
    field(t('mauticAuth'), type),
    basicBox,
    oauthBox,
    field(t('mauticDnc'), dnc),
    dncHint,
    button,
    out,
  );
  return form;
}

export async function renderMautic(ctx) {
  const { main, tenantId } = ctx;
  const tenant = await api('GET', tenantPath(tenantId));
  if (ctx.stale()) return;
  main.append(h('h1', {}, t('mauticTitle', { tenant: tenant.name })));
  const listBox = h('div', { id: 'mautic-list' });
  const status = h('div', { 'aria-live': 'polite' });
  const reload = async () => {
    const list = await api('GET', base(tenantId));
    clear(listBox);
    if (!list.length) return listBox.append(h('p', {}, t('mauticNone')));
    listBox.append(
      h(
        'ul',
        { class: 'plain' },
        list.map((i) => integrationRow(ctx, i, reload, status)),
      ),
    );
  };
  main.append(
    section(
      t('mauticNew'),
      h('p', {}, t('mauticIntro')),
      h('p', { class: 'hint' }, t('mauticApiHint')),
      newForm(ctx, reload),
    ),
    section(t('mauticList'), h('p', { class: 'hint' }, t('mauticChangeHint')), status, listBox),
  );
  await reload();
}
