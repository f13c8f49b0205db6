// Messages: a search (state, recipient, subject, Message-ID, accepted between two days)
// over the list (newest first, more on demand), refreshed while any message is still on
// its way; the tenant's activity per hour or day; the refusals at intake; a detail view
// with every attempt and the upstream's replies; and a retry for failed messages.
import { api, tenantPath } from './api.js';
import { h, field, input, select, table, section, busy, clear } from './dom.js';
import { activitySection } from './charts.js';
import { refusalsSection } from './refusals.js';
import { t, when, errorBox, errorWords, stateWords, okBox } from './i18n.js';
import { say } from './forms.js';

const STATES = ['queued', 'retrying', 'delivered', 'failed', 'sent_unsigned'];
const REFRESH_MS = 2000;
const PAGE = 50;
const stateBadge = (s) => h('span', { class: `badge state-${s}` }, stateWords(s));
/** The state, and for an unsigned send why: a recipient-domain rule, or no certificate. */
const stateOf = (m) =>
  m.unsignedReason
    ? h('span', {}, stateBadge(m.state), ' ', h('small', {}, t(`unsignedBy_${m.unsignedReason}`)))
    : stateBadge(m.state);
const msgHref = (tenantId, id) =>
  `#/t/${encodeURIComponent(tenantId)}/messages/${encodeURIComponent(id)}`;

async function renderList(ctx) {
  const { main, tenantId } = ctx;
  const filter = select([['', t('allStates')], ...STATES.map((s) => [s, stateWords(s)])], {
    id: 'state-filter',
  });
  const recipient = input({
    id: 'search-recipient',
    type: 'search',
    maxlength: 320,
    autocomplete: 'off',
  });
  const subject = input({
    id: 'search-subject',
    type: 'search',
    maxlength: 300,
    autocomplete: 'off',
  });
  const messageId = input({
    id: 'search-message-id',
    type: 'search',
    maxlength: 998,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const since = input({ id: 'search-since', type: 'date' });
  const until = input({ id: 'search-until', type: 'date' });
  const search = h('button', { type: 'submit' }, t('search'));
  const reset = h('button', { type: 'reset', class: 'secondary' }, t('searchReset'));
  const refresh = h('button', { type: 'button', class: 'secondary' }, t('refresh'));
  const listBox = h('div', { id: 'message-list', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, t('more'));
  // The list as shown: the first page, and the pages "Show more" added. `cursor` is where the
  // next page starts (null: there is none); `generation` changes whenever the list starts
  // over, so a page that arrives for an older list is dropped, never appended twice.
  let cursor = null;
  let items = [];
  let generation = 0;
  let timer = null;

  const draw = () => {
    clear(listBox);
    if (!items.length)
      return listBox.append(h('p', {}, t(searching() ? 'noMatches' : 'noMessages')));
    listBox.append(
      table(
        [t('accepted'), t('from'), t('to'), t('subject'), t('state'), t('attempts'), t('error')],
        items.map((m) => [
          h('a', { href: msgHref(tenantId, m.id) }, when(m.createdAt)),
          m.from,
          m.envelope.to.join(', '),
          m.subject ?? '',
          stateOf(m),
          String(m.attempts),
          m.lastError ? h('code', {}, m.lastError.code) : '',
        ]),
        t('messageList'),
      ),
    );
  };
  const fetchPage = (after) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (filter.value) q.set('status', filter.value);
    for (const [name, box] of [
      ['recipient', recipient],
      ['subject', subject],
      ['messageId', messageId],
    ]) {
      if (box.value.trim()) q.set(name, box.value.trim());
    }
    // Whole days in the reader's time zone: from the start of `since` to the end of `until`.
    if (since.value) q.set('since', new Date(`${since.value}T00:00:00`).toISOString());
    if (until.value) {
      const end = new Date(`${until.value}T00:00:00`);
      end.setDate(end.getDate() + 1);
      q.set('until', end.toISOString());
    }
    if (after) q.set('cursor', after);
    return api('GET', tenantPath(tenantId, `/messages?${q}`));
  };
  const showCursor = (next) => {
    cursor = next;
    more.hidden = !cursor;
  };
  /** The first page again: the list starts over. */
  const loadFirst = async () => {
    const mine = ++generation;
    clearTimeout(timer);
    const page = await fetchPage(null);
    if (ctx.stale() || mine !== generation) return;
    items = page.items;
    showCursor(page.nextCursor);
    draw();
    // Keep the list current while something is still on its way, as long as only the
    // first page is shown (a refresh would drop the pages added by "Show more").
    if (items.some((m) => m.state === 'queued' || m.state === 'retrying')) {
      timer = setTimeout(() => {
        if (!ctx.stale() && items.length <= PAGE) loadFirst().catch(() => undefined);
      }, REFRESH_MS);
    }
  };
  /** The page after the last one shown; nothing when there is none. */
  const loadNext = async () => {
    if (!cursor) return;
    const mine = generation;
    const page = await fetchPage(cursor);
    if (ctx.stale() || mine !== generation) return;
    const shown = new Set(items.map((m) => m.id));
    items = items.concat(page.items.filter((m) => !shown.has(m.id)));
    showCursor(page.nextCursor);
    draw();
  };
  const searching = () =>
    [recipient, subject, messageId, since, until].some((box) => box.value.trim()) ||
    Boolean(filter.value);
  const guarded = (button, load) =>
    busy(button, () => load().catch((err) => listBox.prepend(errorBox(err))));
  filter.addEventListener('change', () =>
    loadFirst().catch((err) => listBox.prepend(errorBox(err))),
  );
  refresh.addEventListener('click', () => guarded(refresh, loadFirst));
  more.addEventListener('click', () => guarded(more, loadNext));
  const form = h(
    'form',
    {
      id: 'message-search',
      role: 'search',
      onsubmit: (e) => {
        e.preventDefault();
        guarded(search, loadFirst);
      },
      onreset: () => setTimeout(() => guarded(search, loadFirst)),
    },
    h(
      'div',
      { class: 'grid search' },
      field(t('filterState'), filter),
      field(t('searchRecipient'), recipient, t('searchRecipientHint')),
      field(t('searchSubject'), subject),
      field(t('searchMessageId'), messageId, t('searchMessageIdHint')),
      field(t('searchSince'), since),
      field(t('searchUntil'), until),
    ),
    h('div', { class: 'row' }, search, reset, refresh),
  );
  main.append(section(t('messageList'), form, listBox, more));
  const activity = activitySection(ctx, tenantId);
  const refusals = refusalsSection(ctx, tenantId);
  main.append(activity.el, refusals.el);
  await Promise.all([activity.load(), refusals.load()]);
  await loadFirst();
}

async function renderDetail(ctx) {
  const { main, tenantId, sub } = ctx;
  const m = await api('GET', tenantPath(tenantId, `/messages/${encodeURIComponent(sub)}`));
  if (ctx.stale()) return;
  const out = h('div', { 'aria-live': 'polite' });
  const facts = [
    [t('state'), h('span', { id: 'message-state' }, stateOf(m))],
    [t('from'), m.from],
    [t('envelopeFrom'), m.envelope.from || '<>'],
    [t('to'), m.envelope.to.join(', ')],
    [t('subject'), m.subject ?? ''],
    [t('source'), m.source],
    [t('size'), `${m.size} B`],
    [t('accepted'), when(m.createdAt)],
    [t('finished'), when(m.finishedAt)],
    [t('nextAttempt'), when(m.nextAttemptAt)],
    [t('messageIdHeader'), m.messageIdHeader ? h('code', {}, m.messageIdHeader) : '—'],
    [t('providerId'), m.providerMessageId ?? '—'],
  ];
  const retry =
    m.state === 'failed' ? h('button', { type: 'button', id: 'retry' }, t('retry')) : null;
  retry?.addEventListener('click', () =>
    busy(retry, async () => {
      clear(out);
      try {
        await api('POST', tenantPath(tenantId, `/messages/${encodeURIComponent(m.id)}/retry`));
        clear(document.getElementById('message-state')).append(stateBadge('queued'));
        retry.remove();
        // The button is gone: the focus goes to the result, which is read out.
        say(out, okBox(t('retryQueued')));
      } catch (err) {
        out.append(errorBox(err));
      }
    }),
  );
  main.append(
    h(
      'p',
      {},
      h('a', { href: `#/t/${encodeURIComponent(tenantId)}/messages` }, t('backToMessages')),
    ),
    section(
      t('messageTitle'),
      h(
        'dl',
        { class: 'facts' },
        facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
      ),
      m.lastError ? errorBox(m.lastError) : null,
      retry,
      out,
    ),
    section(
      t('attemptLog'),
      m.attemptLog.length
        ? table(
            [t('attempt'), t('started'), t('outcome'), t('error'), t('reply')],
            m.attemptLog.map((a) => [
              String(a.attempt),
              when(a.startedAt),
              a.outcome === 'retry' ? t('outcomeRetry') : stateWords(a.outcome),
              a.errorCode
                ? h('span', { title: errorWords(a.errorCode) }, h('code', {}, a.errorCode))
                : '',
              a.reply ? h('code', { class: 'reply' }, a.reply) : '',
            ]),
            t('attemptLog'),
          )
        : h('p', {}, t('noAttempts')),
    ),
  );
}

export async function renderMessages(ctx) {
  const tenant = await api('GET', tenantPath(ctx.tenantId));
  if (ctx.stale()) return;
  ctx.main.append(h('h1', {}, t('messagesTitle', { tenant: tenant.name })));
  return ctx.sub ? renderDetail(ctx) : renderList(ctx);
}
