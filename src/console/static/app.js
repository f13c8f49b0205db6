// The console's shell: sign-in, the header with the tenant picker, navigation and the
// hash router (#/tenants, #/t/<tenantId>/<screen>[/<id>]). The token is never in the URL.
import { api, session, whenUnauthorized, ApiError } from './api.js';
import { h, clear, field } from './dom.js';
import { t, lang, errorBox, okBox } from './i18n.js';
import { renderTenants } from './tenants.js';
import { renderCertificates } from './certificates.js';
import { renderSending } from './sending.js';
import { renderMessages } from './messages.js';
import { renderWebhooks } from './webhooks.js';
import { renderTry } from './try.js';
import { renderKeys } from './keys.js';
import { renderDomain } from './domain.js';
import { renderMautic } from './mautic.js';
import { renderVerify } from './verify.js';
import { renderTenantSettings } from './tenant-settings.js';

const SCREENS = {
  certificates: renderCertificates,
  sending: renderSending,
  messages: renderMessages,
  webhooks: renderWebhooks,
  try: renderTry,
  keys: renderKeys,
  domain: renderDomain,
  mautic: renderMautic,
  verify: renderVerify,
  tenant: renderTenantSettings,
};

const root = document.getElementById('app');
let about = null;
let tenants = [];
let renderToken = 0;
/** A result to announce on the next screen (after a deletion took the old one away). */
let notice = null;

document.documentElement.lang = lang;
document.title = t('title');

function signIn(problem) {
  about = null;
  tenants = [];
  clear(root);
  const token = h('input', {
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
  });
  const button = h('button', { type: 'submit' }, t('signIn'));
  const out = h('div', { 'aria-live': 'polite' }, problem ? errorBox(problem) : null);
  const form = h(
    'form',
    {
      class: 'card signin',
      onsubmit: async (e) => {
        e.preventDefault();
        button.disabled = true;
        clear(out);
        try {
          const value = token.value.trim();
          about = await api('GET', '/v1/about', { token: value });
          session.set(value);
          token.value = '';
          await start();
        } catch (err) {
          out.append(errorBox(err));
        } finally {
          button.disabled = false;
        }
      },
    },
    h('h1', {}, t('title')),
    h('p', {}, t('signInIntro')),
    field(t('tokenLabel'), token, t('tokenHint')),
    button,
    out,
  );
  root.append(h('main', { id: 'main' }, form));
  token.focus();
}

function signOut() {
  session.clear();
  if (location.hash) history.replaceState(null, '', location.pathname);
  signIn();
}

whenUnauthorized((err) => {
  session.clear();
  signIn(err);
});

async function start() {
  if (!about) about = await api('GET', '/v1/about');
  tenants = await api('GET', '/v1/tenants');
  if (!location.hash || location.hash === '#/') {
    // The hashchange event renders the screen.
    location.hash = isOperator() ? '#/tenants' : `#/t/${tenants[0]?.id ?? ''}/certificates`;
    return;
  }
  await route();
}

const isOperator = () => about && about.caller.kind === 'operator';

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (parts[0] === 't')
    return { tenantId: parts[1], screen: parts[2] || 'certificates', sub: parts[3] };
  return { screen: parts[0] || 'tenants' };
}

function nav(tenantId, current) {
  const items = [];
  if (isOperator()) items.push(['#/tenants', 'tenants', t('navTenants')]);
  if (tenantId) {
    const base = `#/t/${encodeURIComponent(tenantId)}/`;
    items.push([base + 'certificates', 'certificates', t('navCertificates')]);
    items.push([base + 'sending', 'sending', t('navSending')]);
    items.push([base + 'messages', 'messages', t('navMessages')]);
    items.push([base + 'webhooks', 'webhooks', t('navWebhooks')]);
    items.push([base + 'try', 'try', t('navTry')]);
    items.push([base + 'verify', 'verify', t('navVerify')]);
    items.push([base + 'domain', 'domain', t('navDomain')]);
    items.push([base + 'mautic', 'mautic', t('navMautic')]);
    if (isOperator()) items.push([base + 'keys', 'keys', t('navKeys')]);
    if (isOperator()) items.push([base + 'tenant', 'tenant', t('navTenant')]);
  }
  return h(
    'nav',
    { 'aria-label': t('navLabel') },
    h(
      'ul',
      {},
      items.map(([href, id, text]) =>
        h('li', {}, h('a', { href, 'aria-current': id === current ? 'page' : null }, text)),
      ),
    ),
  );
}

function header(tenantId) {
  const who = isOperator() ? t('signedInOperator') : t('signedInTenant');
  let picker = null;
  if (tenants.length > 0) {
    const sel = h('select', { id: 'tenant-picker' });
    if (!tenantId) sel.append(h('option', { value: '' }, t('pickTenant')));
    for (const x of tenants) sel.append(h('option', { value: x.id }, x.name));
    if (tenantId) sel.value = tenantId;
    sel.addEventListener('change', () => {
      if (sel.value) location.hash = `#/t/${encodeURIComponent(sel.value)}/certificates`;
    });
    picker = h('div', { class: 'picker' }, h('label', { for: sel.id }, t('tenant')), sel);
  }
  return h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: isOperator() ? '#/tenants' : '#/' }, t('title')),
    picker,
    h('span', { class: 'who' }, who),
    h('button', { type: 'button', class: 'secondary', onclick: signOut }, t('signOut')),
  );
}

export async function route() {
  if (!session.token()) return signIn();
  const mine = ++renderToken;
  const { tenantId, screen, sub } = parseHash();
  if (tenantId && isOperator() && !tenants.some((x) => x.id === tenantId)) {
    tenants = await api('GET', '/v1/tenants');
    if (mine !== renderToken) return;
  }
  clear(root);
  const main = h('main', { id: 'main', tabindex: '-1' });
  root.append(h('a', { class: 'skip', href: '#main', onclick: skip }, t('skip')));
  root.append(header(tenantId), nav(tenantId, screen), main);
  const announce = notice ? okBox(notice) : null;
  notice = null;
  if (announce) main.append(announce);
  const ctx = {
    about,
    tenants,
    tenantId,
    sub,
    main,
    isOperator: isOperator(),
    stale: () => mine !== renderToken,
    refreshTenants: async () => {
      tenants = await api('GET', '/v1/tenants');
    },
    notice: (text) => {
      notice = text;
    },
  };
  try {
    if (!tenantId) {
      if (screen === 'tenants' && isOperator()) await renderTenants(ctx);
      else main.append(errorBox(new ApiError(404, 'not_found', '')));
    } else {
      const render = SCREENS[screen];
      if (!render) throw new ApiError(404, 'not_found', '');
      await render(ctx);
    }
  } catch (err) {
    if (!ctx.stale()) main.append(errorBox(err));
  }
  // The link or button that was focused went with the old screen: start from the new one.
  if (!ctx.stale() && announce) {
    announce.tabIndex = -1;
    announce.focus({ preventScroll: true });
  } else if (
    !ctx.stale() &&
    (!document.activeElement || document.activeElement === document.body)
  ) {
    main.focus({ preventScroll: true });
  }
}

function skip(e) {
  e.preventDefault();
  document.getElementById('main')?.focus();
}

window.addEventListener('hashchange', () => {
  if (location.hash !== '#main') route();
});

if (session.token()) start().catch((err) => signIn(err));
else signIn();
