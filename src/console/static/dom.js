// Small DOM builders. Text always goes in as text nodes, never as HTML.
let ids = 0;

/** h('p', {class: 'x', onclick: fn}, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export const newId = (prefix = 'f') => `${prefix}-${++ids}`;

/** A labelled control: the label names it for screen readers and clicks. */
export function field(label, control, hint) {
  if (!control.id) control.id = newId();
  const hintEl = hint ? h('small', { id: `${control.id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  const wrap = control.type === 'checkbox' ? 'field check' : 'field';
  return h('div', { class: wrap }, h('label', { for: control.id }, label), control, hintEl);
}

export const input = (attrs = {}) => h('input', { type: 'text', ...attrs });

export function select(options, attrs = {}) {
  const el = h('select', attrs);
  for (const o of options) {
    const [value, text] = Array.isArray(o) ? o : [o, o];
    el.append(h('option', { value }, text));
  }
  if (attrs.value !== undefined) el.value = attrs.value;
  return el;
}

/**
 * A table in a wrapper that scrolls sideways when it must: the wrapper is a named region in
 * the tab order, so a keyboard can scroll it (WCAG 2.1.1). Each cell carries its column's
 * name, which a phone shows above the value when rows are stacked (styles.css). The roles
 * are explicit because stacked rows change the table's display.
 */
export function table(headers, rows, label) {
  return h(
    'div',
    { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': label },
    h(
      'table',
      { role: 'table' },
      h(
        'thead',
        { role: 'rowgroup' },
        h(
          'tr',
          { role: 'row' },
          headers.map((x) => h('th', { scope: 'col', role: 'columnheader' }, x)),
        ),
      ),
      h(
        'tbody',
        { role: 'rowgroup' },
        rows.map((r) =>
          h(
            'tr',
            { role: 'row' },
            r.map((c, i) => h('td', { role: 'cell', 'data-label': headers[i] }, c)),
          ),
        ),
      ),
    ),
  );
}

/**
 * A value to copy: shown read-only with a button that puts it on the clipboard. A long value
 * (a DNS record) goes in a wrapping box with `multiline`.
 */
export function copyable(label, value, copyText, copiedText, { multiline = false } = {}) {
  const box = multiline
    ? h('textarea', { readonly: true, rows: 4, class: 'mono wrap', spellcheck: 'false' })
    : h('input', { type: 'text', readonly: true, value, class: 'mono', spellcheck: 'false' });
  if (multiline) box.value = value;
  const status = h('span', { class: 'copied', role: 'status' });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(value);
        } catch {
          box.select();
          document.execCommand?.('copy');
        }
        status.textContent = copiedText;
      },
    },
    copyText,
  );
  return h(
    'div',
    { class: 'copyable' },
    field(label, box),
    h('div', { class: 'row' }, button, status),
  );
}

/** A block of settings text (pre) with a copy button. */
export function pasteBlock(title, text, copyText, copiedText) {
  const status = h('span', { class: 'copied', role: 'status' });
  return h(
    'div',
    { class: 'paste' },
    h('h3', {}, title),
    h('pre', { class: 'mono', tabindex: '0' }, text),
    h(
      'div',
      { class: 'row' },
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: async () => {
            await navigator.clipboard.writeText(text).catch(() => undefined);
            status.textContent = copiedText;
          },
        },
        copyText,
      ),
      status,
    ),
  );
}

/** Run an async action from a button: disable it meanwhile, show failures in `out`. */
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}
