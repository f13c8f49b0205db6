// Transit check on the Sending setup page: the latest check of the tenant with its verdict
// and problems, and a button to run one now. The seed mailbox is set with the API
// (PUT /v1/tenants/:tenantId/transit-check), as the hint says.
import { api, tenantPath } from './api.js';
import { h, section, busy, clear } from './dom.js';
import { t, when, errorBox } from './i18n.js';

function verdict(check) {
  const r = check.result;
  const rows = [
    h(
      'p',
      {},
      h('span', { class: `badge transit-${check.state}` }, t(`transit_${check.state}`)),
      ' ',
      t('transitWhen', { from: check.from, to: check.to }),
      ' ',
      when(check.startedAt),
    ),
  ];
  if (r) {
    rows.push(
      h(
        'ul',
        {},
        h('li', {}, `${t('transitDelivered')}: ${r.delivered ? t('yes') : t('no')}`),
        h('li', {}, `${t('transitArrived')}: ${r.arrived ? t('yes') : t('no')}`),
        r.smime
          ? h(
              'li',
              {},
              `S/MIME: ${r.smime.valid ? t('yes') : r.smime.errors.map((e) => e.code).join(', ')}`,
            )
          : null,
        r.dkim ? h('li', {}, `DKIM: ${r.dkim.result}`) : null,
        h('li', {}, `${t('transitTime')}: ${Math.round(r.timings.totalMs / 100) / 10} s`),
      ),
    );
    if (r.problems.length)
      rows.push(h('ul', { class: 'problems' }, ...r.problems.map((p) => h('li', {}, p))));
  }
  return rows;
}

export function transitSection(ctx) {
  const { tenantId } = ctx;
  const box = h('div', { id: 'transit-latest', 'aria-live': 'polite' });
  const run = h('button', { type: 'button', id: 'transit-run' }, t('transitRun'));
  const reload = async () => {
    const list = await api('GET', tenantPath(tenantId, '/transit-checks?limit=1'));
    clear(box);
    if (!list.length) return box.append(h('p', {}, t('transitNone')));
    box.append(...verdict(list[0]));
    if (list[0].state === 'running') setTimeout(() => !ctx.stale() && reload(), 2000);
  };
  run.addEventListener('click', () =>
    busy(run, async () => {
      try {
        await api('POST', tenantPath(tenantId, '/transit-checks'));
        await reload();
      } catch (err) {
        clear(box).append(errorBox(err));
      }
    }),
  );
  return { el: section(t('transitTitle'), h('p', {}, t('transitHint')), run, box), reload };
}
