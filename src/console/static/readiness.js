// The domain readiness report: SPF, DKIM, DMARC, S/MIME coverage, one-click unsubscribe and
// the transit check of one domain, each with its status and, unless it passes, the fix. The
// API words its findings in English; they are shown as it gives them (marked lang="en"), under
// the check's name and status in the reader's language.
import { api, tenantPath } from './api.js';
import { h, field, input, section, table, clear } from './dom.js';
import { actionForm } from './forms.js';
import { t, when } from './i18n.js';

const BADGE = { pass: 'ok', warn: 'warning', fail: 'danger' };
const statusBadge = (s) =>
  h('span', { class: `badge ${BADGE[s] ?? ''} status-${s}` }, t(`status_${s}`));
const english = (text) => (text ? h('span', { lang: 'en' }, text) : t('readinessNothingToFix'));

function report(r) {
  return h(
    'div',
    { id: 'readiness-report' },
    h(
      'p',
      {},
      `${t('readinessOverall')}: `,
      statusBadge(r.overall),
      ' ',
      h('span', { class: 'hint' }, t('readinessChecked', { when: when(r.checkedAt) })),
    ),
    table(
      [t('readinessCheck'), t('readinessStatus'), t('readinessFound'), t('readinessFix')],
      r.items.map((i) => [
        t(`check_${i.check}`),
        statusBadge(i.status),
        english(i.summary),
        english(i.fix),
      ]),
      t('readinessItems', { domain: r.domain }),
    ),
  );
}

/** The readiness section; `useDomain(d)` fills the domain box when the person has not typed. */
export function readinessSection(ctx) {
  const domain = input({
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'example.com',
  });
  let typed = false;
  domain.addEventListener('input', () => (typed = true));
  const button = h('button', { type: 'submit' }, t('readinessRun'));
  const out = h('div', { 'aria-live': 'polite', id: 'readiness-result' });
  const form = actionForm(
    button,
    out,
    async () => {
      const name = domain.value.trim().toLowerCase();
      const r = await api(
        'GET',
        tenantPath(ctx.tenantId, `/domains/${encodeURIComponent(name)}/readiness`),
      );
      clear(out).append(report(r));
    },
    field(t('readinessDomain'), domain),
    button,
  );
  return {
    el: section(t('readinessTitle'), h('p', {}, t('readinessIntro')), form, out),
    useDomain(d) {
      if (d && !typed) domain.value = d;
    },
  };
}
