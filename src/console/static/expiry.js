// Days until a certificate stops working, and the colour class that goes with it.
import { h } from './dom.js';
import { t } from './i18n.js';

export const daysLeft = (notAfter) =>
  Math.floor((new Date(notAfter).getTime() - Date.now()) / 86_400_000);

/** ok: more than 30 days; warning: 30 or fewer; danger: 7 or fewer, or expired. */
export function expiryClass(days) {
  if (days <= 7) return 'danger';
  if (days <= 30) return 'warning';
  return 'ok';
}

export function expiryBadge(days) {
  const text = days < 0 ? t('expired') : t('daysLeftN', { n: days });
  return h('span', { class: `badge ${expiryClass(days)}` }, text);
}
