// The tenant's DKIM key (one at a time): the DNS TXT record to publish, with copy buttons;
// create one, replace it under a new selector (rotation), or remove it.
import { api, tenantPath } from './api.js';
import { h, field, input, select, section, clear, copyable } from './dom.js';
import { actionForm, removeButton, say } from './forms.js';
import { t, okBox } from './i18n.js';

/** The DNS record of a key: name, type and value, each copyable. */
function dnsRecord(key) {
  const r = key.dnsRecord;
  const copy = (label, value, multiline) =>
    copyable(label, value, t('copy'), t('copied'), { multiline });
  return h(
    'div',
    { class: 'dns-record', id: 'dkim-record' },
    h('h3', {}, t('dnsRecordTitle')),
    copy(t('dnsName'), r.name, false),
    h('p', {}, `${t('dnsType')}: `, h('code', {}, r.type)),
    copy(t('dnsValue'), r.value, true),
    h('p', { class: 'hint' }, t('dnsSplitHint')),
  );
}

/** The next selector to suggest: s1 → s2, news2024 → news2025, anything else → s1. */
function nextSelector(selector) {
  const m = /^(.*?)(\d+)$/.exec(selector ?? '');
  return m ? `${m[1]}${Number(m[2]) + 1}` : 's1';
}

/**
 * The DKIM section. `suggestedDomain` fills the form when there is no key yet; `onChange`
 * hears the key's domain (or undefined) after every change.
 */
export function dkimSection(ctx, { suggestedDomain, onChange }) {
  const path = tenantPath(ctx.tenantId, '/dkim');
  const keyBox = h('div', { id: 'dkim-key' });
  const status = h('div', { 'aria-live': 'polite' });
  const domain = input({ required: true, autocomplete: 'off', spellcheck: 'false' });
  const selector = input({ required: true, autocomplete: 'off', spellcheck: 'false' });
  const keyType = select([
    ['rsa', t('dkimRsa')],
    ['ed25519', t('dkimEd25519')],
  ]);
  const ownKey = h('textarea', { rows: 4, class: 'mono', spellcheck: 'false' });
  const button = h('button', { type: 'submit' }, t('dkimCreate'));
  const rotateHint = h('p', { class: 'hint', hidden: true }, t('dkimRotateHint'));
  const out = h('div', { 'aria-live': 'polite', id: 'dkim-result' });

  const show = (key) => {
    clear(keyBox);
    if (!key) {
      keyBox.append(h('p', {}, t('dkimNone')));
      button.textContent = t('dkimCreate');
      rotateHint.hidden = true;
      if (!domain.value) domain.value = suggestedDomain ?? '';
      selector.value = 's1';
      onChange(undefined);
      return;
    }
    const remove = removeButton(t('dkimRemove'), {
      question: t('confirmRemoveDkim', { domain: key.domain }),
      run: () => api('DELETE', path),
      reload,
      status,
      done: t('dkimRemoved', { domain: key.domain }),
    });
    keyBox.append(
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, t('dkimDomain')),
        h('dd', {}, key.domain),
        h('dt', {}, t('dkimSelector')),
        h('dd', {}, h('code', {}, key.selector)),
        h('dt', {}, t('dkimAlgorithm')),
        h('dd', {}, key.algorithm),
      ),
      dnsRecord(key),
      h('div', { class: 'row' }, remove),
    );
    button.textContent = t('dkimRotate');
    rotateHint.hidden = false;
    domain.value = key.domain;
    selector.value = nextSelector(key.selector);
    onChange(key.domain);
  };

  async function reload() {
    try {
      show(await api('GET', path));
    } catch (err) {
      if (err.status !== 404) throw err;
      show(undefined);
    }
  }

  const form = actionForm(
    button,
    out,
    async () => {
      const pem = ownKey.value.trim();
      const key = await api('PUT', path, {
        json: {
          domain: domain.value.trim(),
          selector: selector.value.trim(),
          ...(pem ? { privateKey: pem } : { keyType: keyType.value }),
        },
      });
      ownKey.value = '';
      show(key);
      say(out, okBox(t('dkimCreated')));
    },
    h(
      'div',
      { class: 'grid' },
      field(t('dkimDomain'), domain, t('dkimDomainHint')),
      field(t('dkimSelector'), selector, t('dkimSelectorHint')),
    ),
    field(t('dkimKeyType'), keyType),
    field(t('dkimOwnKey'), ownKey, t('dkimOwnKeyHint')),
    rotateHint,
    button,
    out,
  );
  return {
    el: section(t('dkimTitle'), h('p', {}, t('dkimIntro')), status, keyBox, form),
    reload,
  };
}
