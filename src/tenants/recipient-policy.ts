/**
 * Per-recipient-domain signing. A tenant lists domains whose readers are better served
 * another way: `unsigned` (mobile-carrier webmail and feature phones show smime.p7s as an
 * attachment or garble the message; Japanese banks that sign skip those addresses),
 * `opaque`, or `detached` (the default for every other domain). A message whose recipients
 * fall under different rules is split at intake, one message per rule.
 */

export const RECIPIENT_SIGNING = ['detached', 'opaque', 'unsigned'] as const;
export type RecipientSigning = (typeof RECIPIENT_SIGNING)[number];

export interface RecipientRule {
  signing: RecipientSigning;
  /** Lower-case domains (A-labels); each also covers its subdomains. */
  domains: string[];
}

/** The domain of an address, lower-case, without a trailing dot. */
const domainOf = (address: string): string =>
  address
    .slice(address.lastIndexOf('@') + 1)
    .toLowerCase()
    .replace(/\.$/, '');

/**
 * The rule for one address: the one naming its domain or the closest parent domain (the
 * longest match wins, so `mail.example.jp` can differ from `example.jp`); undefined when no
 * rule names it.
 */
export function signingFor(address: string, rules: RecipientRule[]): RecipientSigning | undefined {
  const domain = domainOf(address);
  let best: { length: number; signing: RecipientSigning } | undefined;
  for (const rule of rules) {
    for (const d of rule.domains) {
      if ((domain === d || domain.endsWith(`.${d}`)) && (!best || d.length > best.length)) {
        best = { length: d.length, signing: rule.signing };
      }
    }
  }
  return best?.signing;
}

export interface RecipientGroup {
  /** null: no rule names these recipients (the tenant's policy and the transport decide). */
  signing: RecipientSigning | null;
  to: string[];
}

/** The envelope's recipients grouped by their rule, in the order the groups first appear. */
export function groupRecipients(to: string[], rules: RecipientRule[]): RecipientGroup[] {
  const groups = new Map<RecipientSigning | null, string[]>();
  for (const address of to) {
    const signing = rules.length ? (signingFor(address, rules) ?? null) : null;
    const group = groups.get(signing);
    if (group) group.push(address);
    else groups.set(signing, [address]);
  }
  return [...groups].map(([signing, list]) => ({ signing, to: list }));
}

/**
 * Starter lists a tenant can adopt (never applied on their own). Japanese mobile-carrier
 * mail domains, from the carriers' and retailers' published lists: docomo.ne.jp (NTT
 * docomo); ezweb.ne.jp, au.com, biz.au.com (au/KDDI; au.com since 2018, ezweb.ne.jp kept);
 * softbank.ne.jp, i.softbank.jp, disney.ne.jp, vodafone.ne.jp with its [a-t] subdomains
 * (SoftBank); ymobile.ne.jp (Y!mobile); uqmobile.jp (UQ mobile); rakumail.jp (Rakuten
 * Mobile); pdx.ne.jp, willcom.com, emnet.ne.jp (WILLCOM/EMOBILE, older addresses). Sources:
 * faq.restaurant-board.airregi.jp/hc/ja/articles/360005174434 (carrier domain list),
 * www.softbank.jp/mobile/iphone/service/mail/email_i/ (i.softbank.jp); banks skipping these
 * addresses: www2.smbc.co.jp/security/smime/, moneykit.net/visitor/qa/qa11_01.html.
 */
export const RECIPIENT_PRESETS: Record<
  string,
  { description: string; rule: RecipientRule; sources: string[] }
> = {
  'jp-mobile-carriers': {
    description:
      'Japanese mobile-carrier mail: send unsigned, as Japanese banks that sign do, because ' +
      'carrier webmail and feature phones show smime.p7s as an attachment or garble the message.',
    rule: {
      signing: 'unsigned',
      domains: [
        'docomo.ne.jp',
        'ezweb.ne.jp',
        'au.com',
        'biz.au.com',
        'softbank.ne.jp',
        'i.softbank.jp',
        'disney.ne.jp',
        'vodafone.ne.jp',
        'ymobile.ne.jp',
        'uqmobile.jp',
        'rakumail.jp',
        'pdx.ne.jp',
        'willcom.com',
        'emnet.ne.jp',
      ],
    },
    sources: [
      'https://faq.restaurant-board.airregi.jp/hc/ja/articles/360005174434',
      'https://www.softbank.jp/mobile/iphone/service/mail/email_i/',
      'https://www2.smbc.co.jp/security/smime/',
      'https://moneykit.net/visitor/qa/qa11_01.html',
    ],
  },
};
