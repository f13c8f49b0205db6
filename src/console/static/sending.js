// Sending setup: SMTP credentials (password shown once), the delivery transport with a
// check, and ready-to-paste settings for listmonk and Mautic.
import { api, tenantPath } from './api.js';
import { h, field, input, select, table, section, busy, clear } from './dom.js';
import { actionForm, removeButton, shownOnce } from './forms.js';
import { t, lang, when, errorBox, okBox } from './i18n.js';
import { settingsProblemsJa } from './settings-words.js';
import { pasteBlocks } from './paste.js';
import { transitSection } from './transit.js';
import { providerForm } from './provider-form.js';

function credentialsSection(ctx, onCreated) {
  const { tenantId } = ctx;
  const listBox = h('div', { id: 'credential-list' });
  const created = h('div', { id: 'new-credential', 'aria-live': 'polite' });
  const status = h('div', { 'aria-live': 'polite' });
  const reload = async () => {
    const list = await api('GET', tenantPath(tenantId, '/smtp-credentials'));
    clear(listBox);
    const active = list.filter((c) => !c.revokedAt);
    if (!active.length) return listBox.append(h('p', {}, t('noCredentials')));
    listBox.append(
      table(
        [t('username'), t('label'), t('created'), t('actions')],
        active.map((c) => {
          const revoke = removeButton(t('revoke'), {
            question: t('confirmRevoke', { username: c.username }),
            run: () =>
              api('DELETE', tenantPath(tenantId, `/smtp-credentials/${encodeURIComponent(c.id)}`)),
            reload,
            status,
            done: t('revoked', { username: c.username }),
          });
          return [h('code', {}, c.username), c.label ?? '', when(c.createdAt), revoke];
        }),
        t('credentialsTitle'),
      ),
    );
  };
  const label = input({ maxlength: 200, autocomplete: 'off', placeholder: 'listmonk' });
  const button = h('button', { type: 'submit' }, t('createCredentials'));
  const form = actionForm(
    button,
    created,
    async () => {
      const c = await api('POST', tenantPath(tenantId, '/smtp-credentials'), {
        json: label.value.trim() ? { label: label.value.trim() } : {},
      });
      label.value = '';
      created.append(shownOnce([t('username'), c.username], [t('password'), c.password]));
      onCreated(c);
      await reload();
    },
    field(t('label'), label, t('labelHint')),
    button,
  );
  return { el: section(t('credentialsTitle'), form, created, status, listBox), reload };
}

/**
 * A refused save in the reader's language: the API's list of problems, which a Japanese
 * reader gets in Japanese (settings-words.js).
 */
function settingsError(err) {
  if (lang === 'ja' && err.code === 'invalid_request') {
    return errorBox(err, settingsProblemsJa(err.message));
  }
  return errorBox(err);
}

async function deliverySection(ctx) {
  const { tenantId, about, isOperator } = ctx;
  let current = {};
  try {
    current = await api('GET', tenantPath(tenantId, '/delivery'));
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  const transport = select(about.transports, { value: current.transport ?? 'smtp' });
  const box = h('div');
  let fields;
  const show = () => {
    clear(box);
    fields = providerForm(
      transport.value,
      about.transportFields[transport.value] ?? [],
      current.transport === transport.value ? current : {},
      isOperator,
    );
    box.append(fields.el);
  };
  transport.addEventListener('change', show);
  show();
  const out = h('div', { 'aria-live': 'polite', id: 'delivery-result' });
  const save = h('button', { type: 'submit' }, t('save'));
  const verify = h('button', { type: 'button', class: 'secondary' }, t('verifyDelivery'));
  verify.addEventListener('click', () =>
    busy(verify, async () => {
      clear(out);
      try {
        const r = await api('POST', tenantPath(tenantId, '/delivery/verify'));
        out.append(
          r.ok
            ? okBox(r.checked ? t('verifyOk') : t('verifyNotChecked'))
            : errorBox(
                r.error ?? { code: 'delivery_deferred' },
                // In Japanese the English message goes, but the upstream's own reply stays.
                lang === 'ja' && r.error?.reply
                  ? [t('upstreamSaid', { reply: r.error.reply })]
                  : undefined,
              ),
        );
      } catch (err) {
        out.append(errorBox(err));
      }
    }),
  );
  const form = h(
    'form',
    {
      onsubmit: (e) => {
        e.preventDefault();
        clear(out);
        busy(save, async () => {
          try {
            current = await api('PUT', tenantPath(tenantId, '/delivery'), { json: fields.value() });
            out.append(okBox(t('saved')));
          } catch (err) {
            out.append(settingsError(err));
          }
        });
      },
    },
    field(t('transport'), transport),
    box,
    h('div', { class: 'row' }, save, verify),
    out,
  );
  return section(t('deliveryTitle'), h('p', {}, t('deliveryIntro')), form);
}

export async function renderSending(ctx) {
  const { main, tenantId } = ctx;
  const tenant = await api('GET', tenantPath(tenantId));
  if (ctx.stale()) return;
  main.append(h('h1', {}, t('sendingTitle', { tenant: tenant.name })));
  const paste = pasteBlocks(ctx);
  const creds = credentialsSection(ctx, (c) => paste.useCredentials(c));
  main.append(creds.el);
  main.append(await deliverySection(ctx));
  main.append(paste.el);
  const transit = transitSection(ctx);
  main.append(transit.el);
  await creds.reload();
  await transit.reload();
}
