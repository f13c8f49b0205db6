// Refusals at intake: what a platform handed over and the relay would not take, with the
// code and the reply the sender got (an SMTP reply or an HTTP status), newest first, for
// one tenant or (operator) every tenant, with more pages on demand.
import { api, tenantPath } from './api.js';
import { h, table, section, busy, clear } from './dom.js';
import { t, when, errorBox, errorWords } from './i18n.js';

const PAGE = 20;

export function refusalsSection(ctx, tenantId) {
  const box = h('div', { id: tenantId ? 'refusal-list' : 'all-refusals', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  let items = [];
  let cursor = null;
  const tenantName = (id) => ctx.tenants.find((x) => x.id === id)?.name ?? '—';
  const draw = () => {
    clear(box);
    if (!items.length) return box.append(h('p', {}, t('noRefusals')));
    const heads = [t('refusedAt')];
    if (!tenantId) heads.push(t('tenant'));
    heads.push(t('source'), t('error'), t('refusalReply'), t('from'), t('subject'), t('to'));
    box.append(
      table(
        heads,
        items.map((r) => {
          const row = [when(r.createdAt)];
          if (!tenantId) row.push(r.tenantId ? tenantName(r.tenantId) : '—');
          const to = r.envelope.to.join(', ');
          row.push(
            r.source,
            h('span', { title: r.message }, errorWords(r.code)),
            h('code', {}, r.reply),
            r.from ?? r.envelope.from ?? '',
            r.subject ?? '',
            r.recipientCount > r.envelope.to.length
              ? `${to} ${t('andMore', { n: r.recipientCount - r.envelope.to.length })}`
              : to,
          );
          return row;
        }),
        t('refusalsTitle'),
      ),
    );
  };
  const fetchPage = (after) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (after) q.set('cursor', after);
    return api('GET', tenantId ? tenantPath(tenantId, `/refusals?${q}`) : `/v1/refusals?${q}`);
  };
  const load = async () => {
    try {
      const page = await fetchPage(null);
      if (ctx.stale()) return;
      items = page.items;
      cursor = page.nextCursor;
      more.hidden = !cursor;
      draw();
    } catch (err) {
      clear(box).append(errorBox(err));
    }
  };
  more.addEventListener('click', () =>
    busy(more, async () => {
      if (!cursor) return;
      try {
        const page = await fetchPage(cursor);
        if (ctx.stale()) return;
        const shown = new Set(items.map((r) => r.id));
        items = items.concat(page.items.filter((r) => !shown.has(r.id)));
        cursor = page.nextCursor;
        more.hidden = !cursor;
        draw();
      } catch (err) {
        box.prepend(errorBox(err));
      }
    }),
  );
  const el = section(t('refusalsTitle'), h('p', {}, t('refusalsIntro')), box, more);
  return { el, load };
}
