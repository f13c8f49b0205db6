// Keys made in the relay, on the Certificates screen: make a key in a custody (sealed here,
// on an HSM token, in AWS KMS) and get its CSR to send to a CA; attach the certificate the
// CA issued; make a new CSR for the same key to renew. The key is never shown or exported;
// a PIN or secret access key typed here goes to the API once and is never shown back.
import { api, tenantPath } from './api.js';
import { h, field, input, select, table, section, clear, pasteBlock } from './dom.js';
import { actionForm, say } from './forms.js';
import { t, when, okBox, errorBox } from './i18n.js';

const SPECS = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072', 'RSA-4096'];

/** The custody fields for the chosen custody; `value()` is the API's `custody`. */
function custodyFields(kind, about) {
  if (kind === 'pkcs11') {
    const modules = about.pkcs11Modules ?? [];
    const module = select(modules.length ? modules : [['', t('keyNoModules')]], {
      name: 'custody-module',
    });
    const token = input({ name: 'custody-token', required: true, autocomplete: 'off' });
    const pin = input({
      name: 'custody-pin',
      type: 'password',
      required: true,
      autocomplete: 'new-password',
    });
    return {
      el: h(
        'div',
        { class: 'grid' },
        field(t('keyModule'), module, t('keyModuleHint')),
        field(t('keyToken'), token),
        field(t('keyPin'), pin, t('keySecretHint')),
      ),
      value: () => ({
        custody: 'pkcs11',
        module: module.value,
        tokenLabel: token.value.trim(),
        pin: pin.value,
      }),
    };
  }
  if (kind === 'aws-kms') {
    const region = input({ name: 'custody-region', required: true, placeholder: 'ap-northeast-1' });
    const keyId = input({
      name: 'custody-access-key',
      required: true,
      autocomplete: 'off',
      placeholder: 'AKIA…',
    });
    const secret = input({
      name: 'custody-secret',
      type: 'password',
      required: true,
      autocomplete: 'new-password',
    });
    return {
      el: h(
        'div',
        { class: 'grid' },
        field(t('keyRegion'), region),
        field(t('keyAccessKey'), keyId, t('keyAccessKeyHint')),
        field(t('keySecret'), secret, t('keySecretHint')),
      ),
      value: () => ({
        custody: 'aws-kms',
        region: region.value.trim(),
        accessKeyId: keyId.value.trim(),
        secretAccessKey: secret.value,
      }),
    };
  }
  return { el: h('p', { class: 'hint' }, t('keySealedHint')), value: () => 'sealed' };
}

/** A CSR to copy, and to download as a .csr file. */
function csrBlock(key) {
  const url = URL.createObjectURL(new Blob([key.csr], { type: 'application/pkcs10' }));
  return h(
    'div',
    { class: 'csr' },
    pasteBlock(t('keyCsr'), key.csr, t('copy'), t('copied')),
    h(
      'a',
      { href: url, download: `${key.emailAddresses[0]}.csr`, class: 'button' },
      t('keyDownloadCsr'),
    ),
  );
}

function attachForm(ctx, key, reload, out, status) {
  const pem = h('textarea', {
    rows: 6,
    class: 'mono',
    spellcheck: 'false',
    name: 'attach-certificate',
    required: true,
  });
  const chain = h('textarea', {
    rows: 4,
    class: 'mono',
    spellcheck: 'false',
    name: 'attach-chain',
  });
  const button = h('button', { type: 'submit' }, t('keyAttach'));
  return actionForm(
    button,
    out,
    async () => {
      const c = await api(
        'POST',
        tenantPath(ctx.tenantId, `/keys/${encodeURIComponent(key.id)}/certificate`),
        {
          json: { certificate: pem.value, ...(chain.value.trim() ? { chain: chain.value } : {}) },
        },
      );
      // The list is drawn again (this form with it): the result goes above the list.
      await reload();
      say(status, okBox(t('keyAttached', { addresses: c.emailAddresses.join(', ') })));
    },
    field(t('keyIssued'), pem, t('keyIssuedHint')),
    field(t('keyChain'), chain),
    button,
  );
}

/** The section: a form to make a key, and the keys with their CSR and actions. */
export function signingKeysSection(ctx, onAttached) {
  const { tenantId, about } = ctx;
  const listBox = h('div', { id: 'key-list' });
  const status = h('div', { id: 'key-status', 'aria-live': 'polite' });
  const made = h('div', { id: 'new-key', 'aria-live': 'polite' });
  const reload = async () => {
    const keys = await api('GET', tenantPath(tenantId, '/keys'));
    clear(listBox);
    if (!keys.length) return listBox.append(h('p', {}, t('keyNone')));
    listBox.append(
      table(
        [t('created'), t('keyCustody'), t('keySpec'), t('addresses'), t('keyCertificates')],
        keys.map((k) => [
          when(k.createdAt),
          t(`custody_${k.custody}`),
          k.spec,
          k.emailAddresses.join(', '),
          String(k.certificateIds.length),
        ]),
        t('keysTitle'),
      ),
    );
    for (const k of keys) {
      const out = h('div', { 'aria-live': 'polite' });
      const renew = h('button', { type: 'button', class: 'secondary' }, t('keyRenew'));
      const box = h('div');
      renew.addEventListener('click', async () => {
        renew.disabled = true;
        try {
          const again = await api(
            'POST',
            tenantPath(tenantId, `/keys/${encodeURIComponent(k.id)}/csr`),
            { json: {} },
          );
          clear(box).append(csrBlock(again));
          say(out, okBox(t('keyRenewed')));
        } catch (err) {
          clear(out).append(errorBox(err));
        } finally {
          renew.disabled = false;
        }
      });
      listBox.append(
        h(
          'details',
          { class: 'key' },
          h(
            'summary',
            {},
            `${k.emailAddresses.join(', ')} · ${k.spec} · ${t(`custody_${k.custody}`)}`,
          ),
          csrBlock(k),
          box,
          h('div', { class: 'row' }, renew),
          attachForm(
            ctx,
            k,
            async () => {
              await reload();
              await onAttached();
            },
            out,
            status,
          ),
          out,
        ),
      );
    }
  };
  const kind = select(
    [
      ['sealed', t('custody_sealed')],
      ['pkcs11', t('custody_pkcs11')],
      ['aws-kms', t('custody_aws-kms')],
    ],
    { name: 'key-custody' },
  );
  const custodyBox = h('div');
  let custody;
  const showCustody = () => {
    custody = custodyFields(kind.value, about);
    clear(custodyBox).append(custody.el);
  };
  kind.addEventListener('change', showCustody);
  showCustody();
  const spec = select(SPECS, { name: 'key-spec' });
  const addresses = input({
    name: 'key-addresses',
    required: true,
    autocomplete: 'off',
    placeholder: 'news@example.com',
  });
  const cn = input({ name: 'key-cn', autocomplete: 'off' });
  const org = input({ name: 'key-org', autocomplete: 'off' });
  const country = input({
    name: 'key-country',
    maxlength: 2,
    autocomplete: 'off',
    placeholder: 'JP',
  });
  const button = h('button', { type: 'submit' }, t('keyMake'));
  const form = actionForm(
    button,
    made,
    async () => {
      const subject = {};
      if (cn.value.trim()) subject.commonName = cn.value.trim();
      if (org.value.trim()) subject.organizationName = org.value.trim();
      if (country.value.trim()) subject.countryName = country.value.trim().toUpperCase();
      const key = await api('POST', tenantPath(tenantId, '/keys'), {
        json: {
          custody: custody.value(),
          spec: spec.value,
          emailAddresses: addresses.value.split(/[\s,]+/).filter(Boolean),
          subject,
        },
      });
      clear(made).append(okBox(t('keyMade')), csrBlock(key));
      await reload();
    },
    h(
      'div',
      { class: 'grid' },
      field(t('keyCustody'), kind),
      field(t('keySpec'), spec, t('keySpecHint')),
      field(t('keyAddresses'), addresses, t('keyAddressesHint')),
      field(t('keyCommonName'), cn),
      field(t('keyOrganization'), org),
      field(t('keyCountry'), country),
    ),
    custodyBox,
    button,
  );
  const el = section(t('keysTitle'), h('p', {}, t('keysIntro')), form, made, status, listBox);
  return { el, reload };
}
