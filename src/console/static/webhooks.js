// Webhooks: subscribe (the secret is shown once), send a test, read the delivery log,
// enable a disabled subscription again, rotate its secret (the new one shown once), and
// unsubscribe.
import { api, tenantPath } from './api.js';
import { h, field, input, table, section, busy, clear } from './dom.js';
import { actionForm, disclosure, removeButton, say, shownOnce } from './forms.js';
import { t, lang, when, errorBox, okBox } from './i18n.js';

const DEFAULT_EVENTS = new Set([
  'message.signing_failed',
  'message.delivery_failed',
  'certificate.expiring',
]);

function deliveriesTable(list) {
  if (!list.length) return h('p', {}, t('noDeliveries'));
  return table(
    [t('when'), t('event'), t('attempt'), t('httpStatus'), t('latency'), t('response')],
    list.map((d) => [
      when(d.at),
      d.type,
      String(d.attempt),
      d.status == null ? (d.error ?? '—') : String(d.status),
      d.latencyMs == null ? '—' : `${d.latencyMs} ms`,
      d.response ? h('code', { class: 'reply' }, d.response) : '',
    ]),
    t('deliveryLog'),
  );
}

function subscriptionRow(ctx, w, reload, status) {
  const base = tenantPath(ctx.tenantId, `/webhooks/${encodeURIComponent(w.id)}`);
  const out = h('div', { 'aria-live': 'polite' });
  const test = h('button', { type: 'button', class: 'secondary' }, t('sendTest'));
  const log = disclosure(t('deliveryLog'), out, async () =>
    deliveriesTable(await api('GET', `${base}/deliveries?limit=50`)),
  );
  const remove = removeButton(t('remove'), {
    question: t('confirmRemoveWebhook', { url: w.url }),
    run: () => api('DELETE', base),
    reload,
    status,
    done: t('removedWebhook', { url: w.url }),
  });
  test.addEventListener('click', () =>
    busy(test, async () => {
      clear(out);
      try {
        const r = await api('POST', `${base}/test`);
        out.append(
          r.ok
            ? okBox(t('testOk', { status: r.status, ms: r.latencyMs }))
            : errorBox(
                { code: 'webhook_test_failed', message: r.error ?? `HTTP ${r.status}` },
                lang === 'ja' && r.status
                  ? [t('receiverAnswered', { status: r.status })]
                  : undefined,
              ),
        );
      } catch (err) {
        out.append(errorBox(err));
      }
    }),
  );
  return h(
    'li',
    { class: 'webhook' },
    h(
      'p',
      {},
      h('code', {}, w.url),
      ' ',
      h(
        'span',
        { class: `badge ${w.enabled ? 'ok' : 'danger'}` },
        w.enabled ? t('enabled') : t('disabled'),
      ),
    ),
    w.disabledReason ? h('p', { class: 'hint' }, w.disabledReason) : null,
    h('p', { class: 'hint' }, w.events.join(', ')),
    h('div', { class: 'row' }, test, log, ...actions(w, base, { out, status, reload }), remove),
    out,
  );
}

/** Enable again (for a disabled subscription) and Rotate the secret, for one row. */
function actions(w, base, { out, status, reload }) {
  const rotate = h('button', { type: 'button', class: 'secondary' }, t('rotateSecret'));
  rotate.addEventListener('click', () =>
    busy(rotate, async () => {
      if (!window.confirm(t('confirmRotate', { url: w.url }))) return;
      clear(out);
      try {
        const r = await api('POST', `${base}/rotate-secret`);
        const once = shownOnce([t('rotated', { url: w.url }), r.secret]);
        say(out, once);
      } catch (err) {
        say(out, errorBox(err));
      }
    }),
  );
  if (w.enabled) return [rotate];
  const enable = h('button', { type: 'button' }, t('enableAgain'));
  enable.addEventListener('click', () =>
    busy(enable, async () => {
      try {
        await api('PATCH', base, { json: { enabled: true } });
        await reload();
        say(status, okBox(t('enabledAgain', { url: w.url })));
      } catch (err) {
        say(status, errorBox(err));
      }
    }),
  );
  return [enable, rotate];
}

export async function renderWebhooks(ctx) {
  const { main, tenantId } = ctx;
  const tenant = await api('GET', tenantPath(tenantId));
  if (ctx.stale()) return;
  main.append(h('h1', {}, t('webhooksTitle', { tenant: tenant.name })));
  const listBox = h('div', { id: 'webhook-list' });
  const status = h('div', { 'aria-live': 'polite' });
  const reload = async () => {
    const list = await api('GET', tenantPath(tenantId, '/webhooks'));
    clear(listBox);
    if (!list.length) return listBox.append(h('p', {}, t('noWebhooks')));
    listBox.append(
      h(
        'ul',
        { class: 'plain' },
        list.map((w) => subscriptionRow(ctx, w, reload, status)),
      ),
    );
  };
  const url = input({
    type: 'url',
    required: true,
    placeholder: 'https://hooks.example.com/smime-relay',
  });
  const description = input({ maxlength: 500 });
  // The event types come from the server (GET /v1/about), so the list cannot fall behind.
  const boxes = ctx.about.webhookEvents.map((e) =>
    input({ type: 'checkbox', value: e, checked: DEFAULT_EVENTS.has(e) }),
  );
  const button = h('button', { type: 'submit' }, t('subscribe'));
  const out = h('div', { 'aria-live': 'polite', id: 'webhook-created' });
  const form = actionForm(
    button,
    out,
    async () => {
      const w = await api('POST', tenantPath(tenantId, '/webhooks'), {
        json: {
          url: url.value.trim(),
          events: boxes.filter((b) => b.checked).map((b) => b.value),
          ...(description.value.trim() ? { description: description.value.trim() } : {}),
        },
      });
      url.value = '';
      out.append(shownOnce([t('secret'), w.secret]));
      await reload();
    },
    field(t('webhookUrl'), url),
    h(
      'fieldset',
      {},
      h('legend', {}, t('events')),
      boxes.map((b) => field(b.value, b)),
    ),
    field(t('description'), description),
    button,
    out,
  );
  main.append(section(t('newWebhook'), form), section(t('webhookList'), status, listBox));
  await reload();
}
