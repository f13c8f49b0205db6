// Certificates: upload a .p12/.pfx with its password or PEM files (drag and drop or the
// file picker), the list with addresses, issuer, days left and status, and removal.
import { expiryTimeline } from './charts.js';
import { signingKeysSection } from './signing-keys.js';
import { api, tenantPath } from './api.js';
import { h, field, input, table, section, busy, clear } from './dom.js';
import { t, lang, day, errorBox, okBox } from './i18n.js';
import { daysLeft, expiryBadge } from './expiry.js';
import { sortPemFiles } from './pem-files.js';
import { removeButton } from './forms.js';

const isPem = (text) => text.includes('-----BEGIN');

async function upload(tenantId, files, password) {
  const texts = await Promise.all(files.map((f) => f.text()));
  if (files.length === 1 && !isPem(texts[0])) {
    const form = new FormData();
    form.append('file', files[0], files[0].name);
    form.append('password', password);
    return api('POST', tenantPath(tenantId, '/certificates'), { body: form });
  }
  // PEM: told apart by content, whatever the files' order and names.
  const pem = sortPemFiles(texts.filter(isPem));
  return api('POST', tenantPath(tenantId, '/certificates'), {
    json: {
      certificate: pem.certificate,
      ...(pem.privateKey ? { privateKey: pem.privateKey } : {}),
      ...(pem.chain ? { chain: pem.chain } : {}),
      ...(password ? { password } : {}),
    },
  });
}

function uploadForm(ctx, reload) {
  let chosen = [];
  const fileInput = input({
    type: 'file',
    accept: '.p12,.pfx,.pem,.crt,.cer,.key',
    multiple: true,
  });
  const chosenText = h('p', { class: 'chosen', 'aria-live': 'polite' }, t('noFileChosen'));
  const choose = (files) => {
    chosen = [...files];
    chosenText.textContent = chosen.length
      ? chosen.map((f) => f.name).join(', ')
      : t('noFileChosen');
  };
  fileInput.addEventListener('change', () => choose(fileInput.files));
  const zone = h(
    'div',
    { class: 'dropzone', id: 'dropzone' },
    h('p', {}, t('dropHere')),
    field(t('chooseFile'), fileInput),
    chosenText,
  );
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer && e.dataTransfer.files.length) choose(e.dataTransfer.files);
  });
  const password = input({ type: 'password', autocomplete: 'off', id: 'cert-password' });
  const button = h('button', { type: 'submit' }, t('upload'));
  const out = h('div', { 'aria-live': 'polite', id: 'upload-result' });
  return h(
    'form',
    {
      onsubmit: (e) => {
        e.preventDefault();
        clear(out);
        if (!chosen.length) {
          out.append(errorBox({ code: 'invalid_request', message: t('noFileChosen') }));
          return;
        }
        busy(button, async () => {
          try {
            const stored = await upload(ctx.tenantId, chosen, password.value);
            password.value = '';
            choose([]);
            fileInput.value = '';
            await reload();
            out.append(okBox(t('uploaded', { addresses: stored.emailAddresses.join(', ') })));
          } catch (err) {
            out.append(errorBox(err));
          }
        });
      },
    },
    zone,
    field(t('certPassword'), password, t('certPasswordHint')),
    button,
    out,
  );
}

/**
 * What the S/MIME Baseline Requirements lint found for a certificate: each finding with its
 * severity, code and rule. In English also the API's sentence; a Japanese reader gets the
 * Japanese words for the severity and the code (the sentences are English).
 */
function lintReport(c) {
  const findings = c.lint.findings.filter((f) => f.severity !== 'notice');
  const errors = findings.filter((f) => f.severity === 'error').length;
  return h(
    'details',
    { class: 'lint', open: errors > 0 },
    h(
      'summary',
      {},
      t('lintSummary', {
        addresses: c.emailAddresses.join(', '),
        errors,
        warnings: findings.length - errors,
      }),
    ),
    h(
      'ul',
      {},
      findings.map((f) =>
        h(
          'li',
          {},
          h(
            'span',
            { class: `badge ${f.severity === 'error' ? 'danger' : 'warning'}` },
            t(f.severity === 'error' ? 'lintError' : 'lintWarning'),
          ),
          ' ',
          lang === 'en' ? f.message : t('lintFinding'),
          ' ',
          h('code', {}, f.code),
          h('small', {}, ` (${f.reference})`),
        ),
      ),
    ),
  );
}

export async function renderCertificates(ctx) {
  const { main, tenantId } = ctx;
  const tenant = await api('GET', tenantPath(tenantId));
  if (ctx.stale()) return;
  main.append(h('h1', {}, t('certificatesTitle', { tenant: tenant.name })));
  const listBox = h('div', { id: 'certificate-list' });
  const timelineBox = h('div', { id: 'certificate-timeline' });
  const status = h('div', { 'aria-live': 'polite' });
  const reload = async () => {
    const list = await api('GET', tenantPath(tenantId, '/certificates'));
    clear(listBox);
    if (!list.length) {
      listBox.append(h('p', {}, t('noCertificates')));
      return;
    }
    const rows = list.map((c) => {
      const addresses = c.emailAddresses.join(', ');
      const remove = removeButton(t('remove'), {
        question: t('confirmRemoveCert', { addresses }),
        run: () => api('DELETE', tenantPath(tenantId, `/certificates/${encodeURIComponent(c.id)}`)),
        reload,
        status,
        done: t('removedCert', { addresses }),
      });
      return [
        addresses,
        day(c.notAfter),
        expiryBadge(daysLeft(c.notAfter)),
        c.status === 'active' ? t('statusActive') : t('statusRemoved'),
        c.issuer,
        remove,
      ];
    });
    listBox.append(
      table(
        [t('addresses'), t('expires'), t('daysLeft'), t('status'), t('issuer'), t('actions')],
        rows,
        t('certificateList'),
      ),
    );
    const checked = list.filter(
      (c) => c.status === 'active' && (c.lint?.findings ?? []).some((f) => f.severity !== 'notice'),
    );
    for (const c of checked) listBox.append(lintReport(c));
    const active = list.filter((c) => c.status === 'active');
    clear(timelineBox);
    if (active.length) {
      const caption = t('timelineTenantTitle');
      timelineBox.append(
        h('h3', {}, caption),
        expiryTimeline(
          active.map((c) => ({ label: c.emailAddresses.join(', '), notAfter: c.notAfter })),
          caption,
        ),
      );
    }
  };
  main.append(section(t('uploadTitle'), uploadForm(ctx, reload)));
  main.append(section(t('certificateList'), status, listBox, timelineBox));
  const keys = signingKeysSection(ctx, reload);
  main.append(keys.el);
  await Promise.all([reload(), keys.reload()]);
}
