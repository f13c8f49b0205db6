// Japanese or English, following the browser: any ja* language first in the list → Japanese.
import { en as enBase } from './strings-en.js';
import { ja as jaBase } from './strings-ja.js';
import { enScreens } from './screens-en.js';
import { jaScreens } from './screens-ja.js';

const merged = (a, b) => ({ ui: { ...a.ui, ...b.ui }, errors: { ...a.errors, ...b.errors } });
const en = merged(enBase, enScreens);
const ja = merged(jaBase, jaScreens);

const wanted = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
export const lang = wanted.toLowerCase().startsWith('ja') ? 'ja' : 'en';
const strings = lang === 'ja' ? ja : en;

/** The text for `key`, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const s = strings.ui[key] ?? en.ui[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] === undefined ? `{${k}}` : String(vars[k])));
}

/** Plain words for an API error code, with the code in brackets. */
export function errorWords(code) {
  const words = strings.errors[code] ?? en.errors[code] ?? strings.ui.unknownError;
  return `${words} (${code})`;
}

const dateFormat = new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
});
export const when = (iso) => (iso ? dateFormat.format(new Date(iso)) : '—');
export const day = (iso) =>
  iso
    ? new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', { dateStyle: 'medium' }).format(
        new Date(iso),
      )
    : '—';

/** A message state in words. */
export const stateWords = (state) => t(`state_${state}`);

import { h } from './dom.js';

/**
 * An error as a person reads it: plain words and the code. Below them, `details` (lines in
 * the reader's language) when given; otherwise, in English only, the API's own message,
 * which is English: a Japanese reader gets the Japanese words alone.
 */
export function errorBox(err, details) {
  const code = err && err.code ? err.code : 'internal_error';
  const lines = details ?? (lang === 'en' && err && err.message ? [err.message] : []);
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', { class: 'error-words' }, errorWords(code)),
    lines.map((line) => h('p', { class: 'error-detail' }, line)),
  );
}

export const okBox = (text) => h('div', { class: 'success', role: 'status' }, text);
