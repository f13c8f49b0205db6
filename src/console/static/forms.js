// Two pieces every "create" form of the console shares: a form that runs its action with the
// button busy and shows a failure in plain words, and the box of values shown only once.
import { h, busy, clear, copyable } from './dom.js';
import { t, errorBox } from './i18n.js';

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
