// Operator only: rename a tenant or change its signing policy, and delete it, which asks for
// the tenant's name typed out first.
import { api, tenantPath } from './api.js';
import { h, field, input, select, section } from './dom.js';
import { actionForm, say } from './forms.js';
import { t, errorBox, okBox } from './i18n.js';

function renameForm(ctx, tenant, onRenamed) {
  const name = input({ required: true, maxlength: 200, autocomplete: 'off', value: tenant.name });
  const policy = select(
    [
      ['require', t('policyRequire')],
      ['prefer', t('policyPrefer')],
    ],
    { value: tenant.signingPolicy },
  );
  const button = h('button', { type: 'submit' }, t('renameSave'));
  const out = h('div', { 'aria-live': 'polite', id: 'rename-result' });
  return actionForm(
    button,
    out,
    async () => {
      const updated = await api('PATCH', tenantPath(ctx.tenantId), {
        json: { name: name.value.trim(), signingPolicy: policy.value },
      });
      await onRenamed(updated);
      say(out, okBox(t('renamed', { name: updated.name })));
    },
    field(t('tenantName'), name),
    field(t('signingPolicy'), policy, t('policyHint')),
    button,
    out,
  );
}

function deleteForm(ctx, current) {
  const typed = input({ autocomplete: 'off', spellcheck: 'false', id: 'delete-name' });
  const label = h('span');
  const showName = () => (label.textContent = t('deleteConfirm', { name: current().name }));
  showName();
  const button = h('button', { type: 'submit', class: 'danger' }, t('deleteButton'));
  const out = h('div', { 'aria-live': 'polite', id: 'delete-result' });
  const form = actionForm(
    button,
    out,
    async () => {
      const { name } = current();
      if (typed.value.trim() !== name) {
        say(out, errorBox({ code: 'invalid_request' }, [t('deleteMismatch', { name })]));
        return;
      }
      await api('DELETE', tenantPath(ctx.tenantId));
      await ctx.refreshTenants();
      ctx.notice(t('deleted', { name }));
      location.hash = '#/tenants';
    },
    h('p', { class: 'warn', id: 'delete-warning' }, t('deleteWarning')),
    field(label, typed),
    button,
    out,
  );
  typed.setAttribute('aria-describedby', 'delete-warning');
  return { form, showName };
}

export async function renderTenantSettings(ctx) {
  const { main, tenantId } = ctx;
  let tenant = await api('GET', tenantPath(tenantId));
  if (ctx.stale()) return;
  const title = h('h1', {}, t('tenantTitle', { tenant: tenant.name }));
  main.append(title);
  const del = deleteForm(ctx, () => tenant);
  const rename = renameForm(ctx, tenant, async (updated) => {
    tenant = updated;
    title.textContent = t('tenantTitle', { tenant: updated.name });
    del.showName();
    await ctx.refreshTenants();
    // The header's tenant picker shows the new name too.
    const picker = document.getElementById('tenant-picker');
    const option = picker && [...picker.options].find((o) => o.value === tenantId);
    if (option) option.textContent = updated.name;
  });
  main.append(section(t('renameTitle'), rename), section(t('deleteTitle'), del.form));
}
