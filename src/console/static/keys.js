// Operator only: a tenant's API keys (for its platform, or to sign in to this console as
// the tenant). A new key is shown once.
import { api, tenantPath } from './api.js';
import { h, field, input, table, section, clear } from './dom.js';
import { actionForm, removeButton, shownOnce } from './forms.js';
import { t, when } from './i18n.js';

export async function renderKeys(ctx) {
  const { main, tenantId } = ctx;
  const tenant = await api('GET', tenantPath(tenantId));
  if (ctx.stale()) return;
  main.append(h('h1', {}, t('keysTitle', { tenant: tenant.name })));
  const listBox = h('div', { id: 'key-list' });
  const status = h('div', { 'aria-live': 'polite' });
  const reload = async () => {
    const list = (await api('GET', tenantPath(tenantId, '/api-keys'))).filter((k) => !k.revokedAt);
    clear(listBox);
    if (!list.length) return listBox.append(h('p', {}, t('noKeys')));
    listBox.append(
      table(
        [t('prefix'), t('label'), t('created'), t('actions')],
        list.map((k) => {
          const revoke = removeButton(t('revoke'), {
            question: t('confirmRevoke', { username: k.prefix }),
            run: () => api('DELETE', tenantPath(tenantId, `/api-keys/${encodeURIComponent(k.id)}`)),
            reload,
            status,
            done: t('revoked', { username: k.prefix }),
          });
          return [h('code', {}, k.prefix), k.label ?? '', when(k.createdAt), revoke];
        }),
        t('keyList'),
      ),
    );
  };
  const label = input({ maxlength: 200, autocomplete: 'off' });
  const button = h('button', { type: 'submit' }, t('createKey'));
  const out = h('div', { 'aria-live': 'polite', id: 'new-key' });
  const form = actionForm(
    button,
    out,
    async () => {
      const k = await api('POST', tenantPath(tenantId, '/api-keys'), {
        json: label.value.trim() ? { label: label.value.trim() } : {},
      });
      label.value = '';
      out.append(shownOnce([t('apiKey'), k.key]));
      await reload();
    },
    field(t('label'), label),
    button,
    out,
  );
  main.append(
    section(t('newKey'), h('p', {}, t('keysIntro')), form),
    section(t('keyList'), status, listBox),
  );
  await reload();
}
