// Operator view: a small dashboard (messages per state, certificates expiring soon), the
// activity of every tenant per hour or day, the certificate expiry timeline, the latest
// refusals at intake, the tenant list, and a form to create a tenant.
import { api } from './api.js';
import { h, field, input, select, table, section, busy, clear } from './dom.js';
import { t, day, when, errorBox, stateWords } from './i18n.js';
import { daysLeft, expiryBadge } from './expiry.js';
import { activitySection, expirySection } from './charts.js';
import { refusalsSection } from './refusals.js';

export async function renderTenants(ctx) {
  const [overview] = await Promise.all([api('GET', '/v1/overview'), ctx.refreshTenants()]);
  if (ctx.stale()) return;
  const { main } = ctx;
  main.append(h('h1', {}, t('tenantsTitle')));

  const counts = Object.entries(overview.messages);
  main.append(
    section(
      t('dashboard'),
      h(
        'ul',
        { class: 'stats' },
        counts.map(([state, n]) =>
          h(
            'li',
            { class: `stat state-${state}` },
            h('span', { class: 'n' }, String(n)),
            stateWords(state),
          ),
        ),
      ),
      h('h3', {}, t('expiringSoon', { days: overview.expiryWindowDays })),
      overview.expiringCertificates.length === 0
        ? h('p', {}, t('noneExpiring'))
        : table(
            [t('tenant'), t('addresses'), t('expires'), t('daysLeft')],
            overview.expiringCertificates.map((c) => [
              h('a', { href: `#/t/${encodeURIComponent(c.tenantId)}/certificates` }, c.tenantName),
              c.emailAddresses.join(', '),
              day(c.notAfter),
              expiryBadge(daysLeft(c.notAfter)),
            ]),
            t('expiringSoon', { days: overview.expiryWindowDays }),
          ),
    ),
  );

  const activity = activitySection(ctx, null);
  main.append(activity.el);
  main.append(
    expirySection(
      overview.certificateTimeline.map((c) => ({
        label: `${c.tenantName}: ${c.emailAddresses.join(', ')}`,
        notAfter: c.notAfter,
        href: `#/t/${encodeURIComponent(c.tenantId)}/certificates`,
      })),
      t('timelineTitle'),
    ),
  );
  const refusals = refusalsSection(ctx, null);
  main.append(refusals.el);

  const rows = ctx.tenants.map((x) => [
    h('a', { href: `#/t/${encodeURIComponent(x.id)}/certificates` }, x.name),
    x.signingPolicy === 'prefer' ? t('policyPrefer') : t('policyRequire'),
    when(x.createdAt),
    h('code', {}, x.id),
  ]);
  main.append(
    section(
      t('tenantsList'),
      rows.length
        ? table([t('name'), t('signingPolicy'), t('created'), t('id')], rows, t('tenantsList'))
        : h('p', {}, t('noTenants')),
    ),
  );

  const name = input({ required: true, maxlength: 200, autocomplete: 'off' });
  const policy = select([
    ['require', t('policyRequire')],
    ['prefer', t('policyPrefer')],
  ]);
  const button = h('button', { type: 'submit' }, t('createTenant'));
  const out = h('div', { 'aria-live': 'polite' });
  main.append(
    section(
      t('newTenant'),
      h(
        'form',
        {
          onsubmit: (e) => {
            e.preventDefault();
            clear(out);
            busy(button, async () => {
              try {
                const created = await api('POST', '/v1/tenants', {
                  json: { name: name.value.trim(), signingPolicy: policy.value },
                });
                location.hash = `#/t/${encodeURIComponent(created.id)}/certificates`;
              } catch (err) {
                out.append(errorBox(err));
              }
            });
          },
        },
        field(t('tenantName'), name),
        field(t('signingPolicy'), policy, t('policyHint')),
        button,
        out,
      ),
    ),
  );
  await Promise.all([activity.load(), refusals.load()]);
}
