// Charts drawn as SVG in the page, without a library: delivery attempts per hour or day by
// outcome (stacked bars), and certificates on a timeline of when they stop working. Every
// chart has its figures as a table beside it (in a disclosure), so a screen reader and a
// keyboard get the same facts; colours come from styles.css (the page's CSP allows no
// inline styles) and every series also differs by its place in the stack and its legend.
import { api, tenantPath } from './api.js';
import { h, select, field, clear, table, section } from './dom.js';
import { t, lang, day, errorBox } from './i18n.js';
import { daysLeft, expiryClass } from './expiry.js';

const SVG = 'http://www.w3.org/2000/svg';
export const SERIES = ['signed', 'unsigned', 'failed', 'retried'];

/** An SVG element with attributes (never text as markup). */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * The chart in a box that scrolls sideways on a narrow screen (so its text stays readable):
 * a named region in the tab order, so a keyboard can scroll it too.
 */
const scroller = (svg, caption) =>
  h('div', { class: 'chart-scroll', tabindex: '0', role: 'region', 'aria-label': caption }, svg);

const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const monthNames = new Intl.DateTimeFormat(lang === 'ja' ? 'ja-JP' : 'en-GB', {
  month: 'short',
  timeZone: 'UTC',
});
/** "2026-12-03T18:00" (a local time the API gave) as the reader reads an hour or a day. */
function bucketLabel(at, interval) {
  const [d, hm] = at.split('T');
  const [y, m, dd] = d.split('-').map(Number);
  if (lang === 'ja') return interval === 'day' ? `${m}/${dd}` : `${m}/${dd} ${hm.slice(0, 2)}時`;
  const month = monthNames.format(new Date(Date.UTC(y, m - 1, dd)));
  return interval === 'day' ? `${dd} ${month}` : `${dd} ${month} ${hm}`;
}

/** A round axis top at or above `max`: 1, 2, 5, 10, 20, 50 … */
function niceTop(max) {
  if (max <= 4) return Math.max(max, 1);
  const p = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((f) => f * p).find((v) => v >= max);
}

/** Stacked bars, one per bucket; the figures as a table below. */
export function activityChart(stats, caption) {
  const W = 720;
  const H = 220;
  const left = 40;
  const bottom = 28;
  const plotW = W - left - 8;
  const plotH = H - bottom - 10;
  const top = niceTop(
    Math.max(0, ...stats.buckets.map((b) => SERIES.reduce((n, k) => n + b[k], 0))),
  );
  const step = plotW / stats.buckets.length;
  const barW = Math.max(1, step * 0.75);
  const y = (v) => 10 + plotH - (v / top) * plotH;
  const labelEvery = Math.ceil(stats.buckets.length / 8);
  const svg = s(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      class: 'chart',
      role: 'img',
      'aria-label': `${caption}: ${SERIES.map((k) => `${t(`series_${k}`)} ${stats.totals[k]}`).join(', ')}`,
    },
    // Axis lines and the top value.
    s('line', { x1: left, y1: y(0), x2: W - 8, y2: y(0), class: 'axis' }),
    s('line', { x1: left, y1: y(top), x2: W - 8, y2: y(top), class: 'gridline' }),
    s('text', { x: left - 4, y: y(top) + 4, class: 'tick', 'text-anchor': 'end' }, String(top)),
    s('text', { x: left - 4, y: y(0) + 4, class: 'tick', 'text-anchor': 'end' }, '0'),
    stats.buckets.map((b, i) => {
      const x = left + i * step + (step - barW) / 2;
      let base = 0;
      const parts = SERIES.filter((k) => b[k] > 0).map((k) => {
        const rect = s(
          'rect',
          {
            x: x.toFixed(1),
            y: y(base + b[k]).toFixed(1),
            width: barW.toFixed(1),
            height: (y(base) - y(base + b[k])).toFixed(1),
            class: `bar bar-${k}`,
          },
          s('title', {}, `${bucketLabel(b.at, stats.interval)} · ${t(`series_${k}`)}: ${b[k]}`),
        );
        base += b[k];
        return rect;
      });
      const label =
        i % labelEvery === 0
          ? s(
              'text',
              { x: (x + barW / 2).toFixed(1), y: H - 8, class: 'tick', 'text-anchor': 'middle' },
              bucketLabel(b.at, stats.interval),
            )
          : null;
      return [parts, label];
    }),
  );
  const legend = h(
    'ul',
    { class: 'legend' },
    SERIES.map((k) =>
      h(
        'li',
        {},
        h('span', { class: `swatch bar-${k}`, 'aria-hidden': 'true' }),
        `${t(`series_${k}`)}: ${stats.totals[k]}`,
      ),
    ),
  );
  const rows = stats.buckets
    .filter((b) => SERIES.some((k) => b[k] > 0))
    .map((b) => [bucketLabel(b.at, stats.interval), ...SERIES.map((k) => String(b[k]))]);
  const figures = h(
    'details',
    { class: 'figures' },
    h('summary', {}, t('chartFigures')),
    rows.length
      ? table([t('chartWhen'), ...SERIES.map((k) => t(`series_${k}`))], rows, caption)
      : h('p', {}, t('chartNothing')),
  );
  return h('figure', { class: 'chart-box' }, scroller(svg, caption), legend, figures);
}

/**
 * A section with the activity chart of one tenant (`tenantId`) or every tenant (null), and
 * a choice of hours (the last 48) or days (the last 30), in the reader's time zone.
 */
export function activitySection(ctx, tenantId) {
  const interval = select(
    [
      ['hour', t('chartHours')],
      ['day', t('chartDays')],
    ],
    { id: tenantId ? 'activity-interval' : 'overall-interval' },
  );
  const box = h('div', {
    id: tenantId ? 'activity-chart' : 'overall-chart',
    'aria-live': 'polite',
  });
  const load = async () => {
    const q = new URLSearchParams({ interval: interval.value, timeZone: timeZone() });
    const path = tenantId
      ? tenantPath(tenantId, `/stats/messages?${q}`)
      : `/v1/stats/messages?${q}`;
    try {
      const stats = await api('GET', path);
      if (ctx.stale()) return;
      clear(box).append(activityChart(stats, t(tenantId ? 'activityTitle' : 'activityAllTitle')));
    } catch (err) {
      clear(box).append(errorBox(err));
    }
  };
  interval.addEventListener('change', load);
  const el = section(
    t(tenantId ? 'activityTitle' : 'activityAllTitle'),
    h('div', { class: 'row filters' }, field(t('chartInterval'), interval)),
    box,
  );
  return { el, load };
}

const DAY = 86_400_000;

/**
 * Certificates on a line from today to just past the last one (at least 90 days, at most
 * the 825 days an S/MIME certificate may last; later ones sit at the right edge, expired
 * ones at the left): a mark per certificate, coloured as the expiry badges are, with the
 * figures as a table. `certs`: [{ label, notAfter, href? }].
 */
export function expiryTimeline(certs, caption) {
  const furthest = Math.max(0, ...certs.map((c) => daysLeft(c.notAfter)));
  const spanDays = Math.min(Math.max(90, Math.ceil(furthest * 1.1)), 825);
  const W = 720;
  const rowH = 28;
  const left = 8;
  const right = 8;
  const axisY = 24;
  const now = Date.now();
  const x = (iso) => {
    const d = Math.min(Math.max((new Date(iso).getTime() - now) / DAY, 0), spanDays);
    return left + (d / spanDays) * (W - left - right);
  };
  const sorted = [...certs].sort((a, b) => new Date(a.notAfter) - new Date(b.notAfter));
  const H = axisY + 12 + sorted.length * rowH;
  // Ticks far enough apart to read (about 60 px at full width).
  const ticks = [];
  for (const d of [0, 30, 90, 180, 365, 730]) {
    if (d <= spanDays && (!ticks.length || ((d - ticks.at(-1)) / spanDays) * W >= 60))
      ticks.push(d);
  }
  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'chart timeline', role: 'img', 'aria-label': caption },
    s('line', { x1: left, y1: axisY, x2: W - right, y2: axisY, class: 'axis' }),
    ticks.map((d) => {
      const tx = left + (d / spanDays) * (W - left - right);
      return [
        s('line', { x1: tx, y1: axisY - 4, x2: tx, y2: H, class: 'gridline' }),
        s(
          'text',
          { x: tx, y: axisY - 8, class: 'tick', 'text-anchor': d === 0 ? 'start' : 'middle' },
          d === 0 ? t('today') : t('inDays', { n: d }),
        ),
      ];
    }),
    sorted.map((c, i) => {
      const days = daysLeft(c.notAfter);
      const cy = axisY + 12 + i * rowH + rowH / 2;
      const cx = x(c.notAfter);
      const anchor = cx > W / 2 ? 'end' : 'start';
      return [
        s('line', { x1: left, y1: cy, x2: cx, y2: cy, class: `span ${expiryClass(days)}` }),
        s(
          'circle',
          { cx, cy, r: 5, class: `mark ${expiryClass(days)}` },
          s('title', {}, `${c.label}: ${day(c.notAfter)}`),
        ),
        s(
          'text',
          {
            x: anchor === 'end' ? cx - 9 : cx + 9,
            y: cy + 4,
            class: 'tick',
            'text-anchor': anchor,
          },
          `${c.label} · ${day(c.notAfter)}`,
        ),
      ];
    }),
  );
  const figures = h(
    'details',
    { class: 'figures' },
    h('summary', {}, t('chartFigures')),
    table(
      [t('certificate'), t('expires'), t('daysLeft')],
      sorted.map((c) => [
        c.href ? h('a', { href: c.href }, c.label) : c.label,
        day(c.notAfter),
        String(daysLeft(c.notAfter)),
      ]),
      caption,
    ),
  );
  return h('figure', { class: 'chart-box' }, scroller(svg, caption), figures);
}

/** The expiry timeline in a section of its own, or a line saying there is nothing to show. */
export function expirySection(certs, caption) {
  return section(
    caption,
    certs.length ? expiryTimeline(certs, caption) : h('p', {}, t('noCertificatesTimeline')),
  );
}
