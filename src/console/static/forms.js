// Pieces the console's forms and lists share: a form that runs its action with the button
// busy and shows a failure in plain words, the box of values shown only once, a result that
// takes the focus, and a Revoke/Remove button.
import { h, busy, clear, copyable } from './dom.js';
import { t, errorBox, okBox } from './i18n.js';

/**
 * A button that shows in `out` what `load` resolves to (loaded afresh each time it opens),
 * or hides it again; aria-expanded says which. A failure shows in `out`.
 */
export function disclosure(label, out, load) {
  const button = h(
    'button',
    { type: 'button', class: 'secondary', 'aria-expanded': 'false' },
    label,
  );
  button.addEventListener('click', () =>
    busy(button, async () => {
      clear(out);
      if (button.getAttribute('aria-expanded') === 'true') {
        return button.setAttribute('aria-expanded', 'false');
      }
      try {
        out.append(await load());
        button.setAttribute('aria-expanded', 'true');
      } catch (err) {
        out.append(errorBox(err));
      }
    }),
  );
  return button;
}

/** A form whose submit clears `out` and runs `action` with `button` busy; failures go to `out`. */
export function actionForm(button, out, action, ...children) {
  return h(
    'form',
    {
      onsubmit: (e) => {
        e.preventDefault();
        clear(out);
        busy(button, async () => {
          try {
            await action();
          } catch (err) {
            out.append(errorBox(err));
          }
        });
      },
    },
    ...children,
  );
}

/** Values the API shows only once (a password, a key, a secret), each with a copy button. */
export function shownOnce(...values) {
  return h(
    'div',
    { class: 'once' },
    h('p', { class: 'warn' }, t('shownOnce')),
    ...values.map(([label, value]) => copyable(label, value, t('copy'), t('copied'))),
  );
}

/**
 * Show `box` (an okBox or errorBox: a status or an alert) in `out` and move the focus to it,
 * for a result whose button went away with the action; a screen reader reads it out.
 */
export function say(out, box) {
  clear(out).append(box);
  box.tabIndex = -1;
  box.focus();
}

/**
 * A Revoke/Remove button for a list row: asks `question`, runs `run`, reloads the list (the
 * row and its button go), then says `done` in `status` with the focus on it.
 */
export function removeButton(text, { question, run, reload, status, done }) {
  const button = h('button', { type: 'button', class: 'danger' }, text);
  button.addEventListener('click', () =>
    busy(button, async () => {
      if (!window.confirm(question)) return;
      try {
        await run();
        await reload();
        say(status, okBox(done));
      } catch (err) {
        say(status, errorBox(err));
      }
    }),
  );
  return button;
}
