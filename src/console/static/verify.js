// Verify a received message: an uploaded .eml goes to POST /v1/verify as its bytes (never as
// text, so 8-bit mail and exact line endings survive), and the report comes back as a verdict
// in plain words, every problem with its code, and the signer's addresses next to From:.
import { api, tenantPath } from './api.js';
import { h, field, input, section, table, clear } from './dom.js';
import { actionForm } from './forms.js';
import { t, day, when, lang, errorBox, errorWords, okBox } from './i18n.js';

/** The problem that decides the headline comes first: no signature, then a broken one, … */
const ORDER = [
  'not_signed',
  'bad_signature_format',
  'signer_certificate_missing',
  'digest_mismatch',
  'bad_signature',
  'chain_untrusted',
  'certificate_expired',
  'certificate_not_yet_valid',
  'certificate_wrong_purpose',
  'signing_time_mismatch',
  'from_mismatch',
  'weak_digest',
];
const rank = (code) => (ORDER.includes(code) ? ORDER.indexOf(code) : ORDER.length);

/** One problem in plain words, with its code; in English also the API's own sentence. */
function problemWords(e, r) {
  const key = `verdict_${e.code}`;
  const words =
    t(key) === key
      ? errorWords(e.code)
      : `${t(key, {
          from: r.from ?? '—',
          addresses: r.signer?.emailAddresses.join(', ') || '—',
        })} (${e.code})`;
  return h(
    'li',
    { class: `verdict-problem code-${e.code}` },
    h('span', { class: 'error-words' }, words),
    lang === 'en' && e.message ? h('span', { class: 'error-detail' }, ` — ${e.message}`) : null,
  );
}

function facts(r) {
  const yes = (v) => (v ? t('yes') : t('no'));
  const s = r.signer;
  return table(
    [t('check'), t('result')],
    [
      [t('from'), r.from ?? '—'],
      [t('signerAddresses'), s ? s.emailAddresses.join(', ') || '—' : '—'],
      [t('fromMatches'), r.from && s ? yes(r.fromMatches) : '—'],
      [t('signatureValid'), yes(r.signatureValid)],
      [t('signer'), s ? s.subject : '—'],
      [t('issuer'), s ? s.issuer : '—'],
      [t('validUntil'), s ? day(s.notAfter) : '—'],
      [t('signingTime'), r.signingTime ? when(r.signingTime) : '—'],
      [t('format'), r.format ?? '—'],
      [t('digest'), r.digestAlgorithm ?? '—'],
      [t('signatureAlgorithm'), r.signatureAlgorithm ?? '—'],
    ],
    t('verdictFacts'),
  );
}

export function verdict(r) {
  const problems = [...r.errors].sort((a, b) => rank(a.code) - rank(b.code));
  const head = r.valid
    ? okBox(t('verdict_valid'))
    : h(
        'div',
        { class: 'error', role: 'alert' },
        h(
          'ul',
          { class: 'plain verdict-problems' },
          problems.map((e) => problemWords(e, r)),
        ),
      );
  return h(
    'div',
    { id: 'verdict', class: r.valid ? 'verdict-valid' : 'verdict-invalid' },
    head,
    r.signer && r.chainTrusted === null ? h('p', { class: 'hint' }, t('verdictCaNote')) : null,
    facts(r),
  );
}

export async function renderVerify(ctx) {
  const { main, tenantId } = ctx;
  const tenant = await api('GET', tenantPath(tenantId));
  if (ctx.stale()) return;
  main.append(h('h1', {}, `${t('verifyTitle')} · ${tenant.name}`));
  const file = input({ type: 'file', accept: '.eml,message/rfc822', id: 'verify-file' });
  const button = h('button', { type: 'submit' }, t('verifyRun'));
  const out = h('div', { 'aria-live': 'polite', id: 'verify-result' });
  const form = actionForm(
    button,
    out,
    async () => {
      const chosen = file.files[0];
      if (!chosen) {
        out.append(errorBox({ code: 'invalid_request' }, [t('verifyNoFile')]));
        return;
      }
      // The File itself is the body: fetch sends its bytes untouched.
      const r = await api('POST', '/v1/verify', { body: chosen, type: 'message/rfc822' });
      clear(out).append(section(t('verdictTitle'), verdict(r)));
    },
    field(t('verifyFile'), file),
    button,
  );
  main.append(section(t('verifyTitle'), h('p', {}, t('verifyIntro')), form), out);
}
