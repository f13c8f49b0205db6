// Try it: paste or upload an .eml, sign it with the tenant's certificate, download the
// signed file, and read the verification report of the result.
import { api, tenantPath } from './api.js';
import { h, field, input, section, busy, clear, table } from './dom.js';
import { t, day, lang, errorBox, errorWords, okBox } from './i18n.js';

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

/**
 * The text of a message's bytes to show in the box: decoded in the charset its first
 * Content-Type names (UTF-8 when none, or one the browser does not know).
 */
function preview(bytes) {
  let head = '';
  for (let i = 0; i < Math.min(bytes.length, 8192); i++) head += String.fromCharCode(bytes[i]);
  const m = /charset\s*=\s*"?([A-Za-z0-9_.:-]+)/i.exec(head);
  let decoder;
  try {
    decoder = new TextDecoder(m ? m[1] : 'utf-8');
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  return decoder.decode(bytes);
}

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
    table([t('check'), t('result')], rows, t('reportTitle')),
    // The API's explanation is English: a Japanese reader gets the words and the code.
    r.errors.map((e) =>
      h('p', { class: 'error-words' }, errorWords(e.code), lang === 'en' ? ` — ${e.message}` : ''),
    ),
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
  const fileNote = h('p', { class: 'hint', id: 'eml-file-note', 'aria-live': 'polite' });
  // An uploaded file is signed as its bytes, never as text: mail in Shift_JIS, EUC-JP or
  // any 8-bit charset would not survive a round trip through a string.
  let uploaded = null;
  file.addEventListener('change', async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    uploaded = chosen;
    text.value = preview(new Uint8Array(await chosen.arrayBuffer()));
    fileNote.textContent = t('emlFileAsIs', { name: chosen.name, size: chosen.size });
  });
  text.addEventListener('input', () => {
    uploaded = null;
    file.value = '';
    fileNote.textContent = '';
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
            const raw = uploaded ?? text.value.replace(/\r?\n/g, '\r\n');
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
    fileNote,
    button,
  );
  main.append(section(t('tryIntroTitle'), h('p', {}, t('tryIntro')), form), out);
}
