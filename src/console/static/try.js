// Try it: paste or upload an .eml, sign it with the tenant's certificate, download the
// signed file, and read the verification report of the result.
import { api, tenantPath } from './api.js';
import { h, field, input, section, busy, clear, table } from './dom.js';
import { t, day, errorBox, errorWords, okBox } from './i18n.js';

const SAMPLE = [
  'From: News <news@example.com>',
  'To: reader@example.net',
  'Subject: Hello from the console',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'This message is signed with our own certificate.',
  '',
].join('\r\n');

function report(r) {
  const yes = (v) => (v === null || v === undefined ? '—' : v ? t('yes') : t('no'));
  const rows = [
    [t('valid'), yes(r.valid)],
    [t('signatureValid'), yes(r.signatureValid)],
    [t('fromMatches'), yes(r.fromMatches)],
    [t('from'), r.from ?? '—'],
    [t('signer'), r.signer ? r.signer.subject : '—'],
    [t('addresses'), r.signer ? r.signer.emailAddresses.join(', ') : '—'],
    [t('issuer'), r.signer ? r.signer.issuer : '—'],
    [t('expires'), r.signer ? day(r.signer.notAfter) : '—'],
    [t('format'), r.format ?? '—'],
    [t('digest'), r.digestAlgorithm ?? '—'],
    [t('signatureAlgorithm'), r.signatureAlgorithm ?? '—'],
  ];
  return h(
    'div',
    { id: 'verify-report' },
    r.valid ? okBox(t('reportValid')) : null,
    table([t('check'), t('result')], rows),
    r.errors.map((e) => h('p', { class: 'error-words' }, errorWords(e.code), ' — ', e.message)),
  );
}

export async function renderTry(ctx) {
  const { main, tenantId } = ctx;
  const tenant = await api('GET', tenantPath(tenantId));
  if (ctx.stale()) return;
  main.append(h('h1', {}, t('tryTitle', { tenant: tenant.name })));
  const text = h('textarea', { rows: 12, class: 'mono', spellcheck: 'false', id: 'eml' });
  text.value = SAMPLE;
  const file = input({ type: 'file', accept: '.eml,message/rfc822' });
  file.addEventListener('change', async () => {
    if (file.files[0]) text.value = await file.files[0].text();
  });
  const button = h('button', { type: 'submit' }, t('signAndVerify'));
  const out = h('div', { 'aria-live': 'polite', id: 'try-result' });
  let url = null;
  const form = h(
    'form',
    {
      onsubmit: (e) => {
        e.preventDefault();
        clear(out);
        if (url) URL.revokeObjectURL(url);
        busy(button, async () => {
          try {
            const raw = text.value.replace(/\r?\n/g, '\r\n');
            const signed = await api('POST', tenantPath(tenantId, '/sign'), {
              body: raw,
              type: 'message/rfc822',
              binary: true,
            });
            url = URL.createObjectURL(new Blob([signed], { type: 'message/rfc822' }));
            out.append(
              okBox(t('signedOk', { size: signed.size })),
              h(
                'p',
                {},
                h(
                  'a',
                  { href: url, download: 'signed.eml', class: 'button', id: 'download' },
                  t('download'),
                ),
              ),
            );
            const r = await api('POST', '/v1/verify', { body: signed, type: 'message/rfc822' });
            out.append(section(t('reportTitle'), report(r)));
          } catch (err) {
            out.append(errorBox(err));
          }
        });
      },
    },
    field(t('emlText'), text, t('emlHint')),
    field(t('emlFile'), file),
    button,
  );
  main.append(section(t('tryIntroTitle'), h('p', {}, t('tryIntro')), form), out);
}
