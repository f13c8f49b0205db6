/**
 * When a signature carries the CMS signingTime attribute, and with which value.
 *
 * signingTime is optional in CMS (RFC 5652 §11.3) and a SHOULD in S/MIME (RFC 8551
 * §2.5.1). Readers use it in two ways:
 * - Thunderbird compares it with the message's `Date:` and shows the signature as not valid
 *   (error 1041, VERIFY_TIME_MISMATCH) when the two are more than one hour apart, or when it
 *   cannot parse `Date:` at all (comm-central, mailnews/mime/src/mimemcms.cpp,
 *   nsSMimeVerificationListener::Notify). Without signingTime that check is skipped.
 * - NSS checks the signer certificate at signingTime when present, at the present moment
 *   otherwise.
 *
 * A relay signs later than the platform composed: scheduled and throttled campaigns, a
 * backlog, retries hours after acceptance. So the rule is: the signature carries the true
 * signing time only when it lies within {@link SIGNING_TIME_WINDOW_MS} of a `Date:` that
 * this module can read without doubt; otherwise it carries no signingTime. The platform's
 * `Date:` is never changed, and no signing time is ever back-dated.
 */
import { fieldValue, stripComments, type HeaderField } from './mime';

/** Thunderbird's limit between signingTime and `Date:`. */
export const READER_DATE_TOLERANCE_MS = 60 * 60_000;
/** How close `Date:` and the moment of signing must be for signingTime to be included. */
export const SIGNING_TIME_WINDOW_MS = 30 * 60_000;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** RFC 5322 §4.3 obsolete zone names; single military letters are not trusted. */
const NAMED_ZONES: Record<string, number> = {
  ut: 0,
  gmt: 0,
  z: 0,
  edt: -4 * 60,
  est: -5 * 60,
  cdt: -5 * 60,
  cst: -6 * 60,
  mdt: -6 * 60,
  mst: -7 * 60,
  pdt: -7 * 60,
  pst: -8 * 60,
};

const DATE_TIME =
  /^(?:([a-z]{3})\s*,\s*)?(\d{1,2})\s+([a-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+([+-]\d{4}|[a-z]{1,3})$/i;

/**
 * An RFC 5322 date-time (§3.3, with the obsolete zone names of §4.3), or undefined when the
 * text is anything else: two-digit years (readers disagree on their century), unknown zones,
 * impossible dates. Comments are ignored.
 */
export function parseDateHeader(value: string): Date | undefined {
  const m = DATE_TIME.exec(stripComments(value).replace(/\s+/g, ' ').trim());
  if (!m) return undefined;
  const [, , dayText, monthText, yearText, hh, mm, ss, zone] = m;
  const month = MONTHS.indexOf(monthText.toLowerCase());
  const day = Number(dayText);
  const [hour, minute, second] = [Number(hh), Number(mm), Number(ss ?? 0)];
  if (month < 0 || hour > 23 || minute > 59 || second > 60) return undefined;
  let offset: number | undefined;
  if (/^[+-]\d{4}$/.test(zone)) {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(3));
    if (zm > 59) return undefined;
    offset = (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm);
  } else {
    offset = NAMED_ZONES[zone.toLowerCase()];
  }
  if (offset === undefined) return undefined;
  const utc = Date.UTC(Number(yearText), month, day, hour, minute, Math.min(second, 59));
  const check = new Date(Date.UTC(Number(yearText), month, day));
  if (check.getUTCDate() !== day) return undefined; // 31 Feb and the like
  return new Date(utc - offset * 60_000);
}

/** The message's `Date:` when there is exactly one and it reads as a date-time. */
export function messageDate(outer: HeaderField[]): Date | undefined {
  const dates = outer.filter((h) => h.name === 'date');
  return dates.length === 1 ? parseDateHeader(fieldValue(dates[0])) : undefined;
}

/** Whether a signingTime of `at` agrees with `date` closely enough to be written. */
export function agreesWithDate(at: Date, date: Date | undefined): boolean {
  return date !== undefined && Math.abs(at.getTime() - date.getTime()) <= SIGNING_TIME_WINDOW_MS;
}

/**
 * The signingTime to write when signing at `now`: `now` itself when it agrees with the
 * message's `Date:`, otherwise none.
 */
export function signingTimeFor(outer: HeaderField[], now: Date): Date | undefined {
  return agreesWithDate(now, messageDate(outer)) ? now : undefined;
}
