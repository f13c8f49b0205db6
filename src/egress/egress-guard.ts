/**
 * The one egress guard for every destination a tenant or an integration can set: webhook
 * and platform URLs, provider API roots, SMTP upstreams, IMAP seed mailboxes, unsubscribe
 * links. A destination is checked when it is saved (checkUrl, checkedAddress) and again at
 * each connection: IP literals before connecting (checkUrlWithoutDns), host names inside the
 * connection's own DNS lookup (guardedLookup), so an answer that changes after the save (DNS
 * rebinding) is still refused. Addresses are classified by address-class.ts. allowPrivate
 * (set per destination, see egress-policy.ts) lets loopback, private, unique-local and
 * carrier-grade NAT addresses through; cloud metadata, link-local and the rest never pass.
 */
import { promises as dns } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { addressClass, PRIVATE_CLASSES } from './address-class';

export class EgressRefused extends Error {
  override readonly name: string = 'EgressRefused';
}

/** The host does not resolve (now): refused for this connection, but maybe fine later. */
export class EgressUnresolved extends EgressRefused {
  override readonly name = 'EgressUnresolved';
}

/** Resolves a host name to every address it has. */
export type Lookup = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export interface EgressOptions {
  /**
   * Whether a loopback, private, unique-local or carrier-grade NAT address may be reached:
   * for every such address, or for those the function accepts (an operator's allow-list).
   */
  allowPrivate: boolean | ((address: string) => boolean);
  lookup?: Lookup;
}

export const systemLookup: Lookup = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/**
 * The name of the blocked range `address` belongs to ("loopback", "private", …), or
 * undefined for a public address. Something that is not an IP address is "unrecognised".
 */
export function blockedRange(address: string): string | undefined {
  const c = addressClass(address);
  return c === 'public' ? undefined : c;
}

/** The URL as it may appear in messages: no credentials, no query string, no fragment. */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function refusal(subject: string, address: string, range: string): EgressRefused {
  const article = /^([aeio]|un(?!i))/i.test(range) ? 'an' : 'a';
  return new EgressRefused(
    `${subject} resolves to ${address}, ${article} ${range} address; outbound connections may only go to public addresses`,
  );
}

/**
 * allowPrivate lets loopback, private, unique-local and carrier-grade NAT addresses through;
 * metadata, link-local, multicast, reserved and the rest stay refused whatever is allowed.
 */
function refuseBlocked(
  subject: string,
  addresses: string[],
  allowPrivate: EgressOptions['allowPrivate'],
): void {
  for (const address of addresses) {
    const range = blockedRange(address);
    if (range === undefined) continue;
    const allowed =
      PRIVATE_CLASSES.has(range) &&
      (typeof allowPrivate === 'function' ? allowPrivate(address) : allowPrivate);
    if (!allowed) throw refusal(subject, address, range);
  }
}

/** The host without IPv6 brackets. */
function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The checks that need no DNS: a parsable http(s) URL without credentials whose host, if
 * it is an IP literal, is public. Host names are left to guardedLookup at connect time.
 */
export function checkUrlWithoutDns(url: string, o: Pick<EgressOptions, 'allowPrivate'>): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EgressRefused('the URL is not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new EgressRefused(
      `${shown(parsed)} uses ${parsed.protocol.replace(/:$/, '')}; only http and https are allowed`,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new EgressRefused(
      `${shown(parsed)} contains a user name or password; URLs may not carry credentials`,
    );
  }
  const host = bareHostname(parsed);
  if (isIP(host)) refuseBlocked(shown(parsed), [host], o.allowPrivate);
  return parsed;
}

/**
 * Checks a webhook URL before a subscription is saved: everything checkUrlWithoutDns
 * checks, and that the host resolves, and (unless allowPrivate) only to public addresses.
 */
export async function checkUrl(url: string, o: EgressOptions): Promise<URL> {
  const parsed = checkUrlWithoutDns(url, o);
  const host = bareHostname(parsed);
  if (isIP(host)) return parsed;
  let addresses: string[];
  try {
    addresses = (await (o.lookup ?? systemLookup)(host)).map((a) => a.address);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    const reason = typeof code === 'string' ? ` (${code})` : '';
    throw new EgressRefused(
      `${shown(parsed)} cannot be reached: ${host} does not resolve${reason}`,
    );
  }
  if (addresses.length === 0) {
    throw new EgressRefused(`${shown(parsed)} cannot be reached: ${host} has no address`);
  }
  refuseBlocked(shown(parsed), addresses, o.allowPrivate);
  return parsed;
}

function wantedFamily(family: unknown): 4 | 6 | undefined {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return undefined;
}

/**
 * A `lookup` for http.request / https.request that resolves the host and refuses, with an
 * EgressRefused error, if any of its addresses is blocked. DNS failures are passed on as
 * they are (a network error, worth a retry), refusals as EgressRefused.
 */
export function guardedLookup(o: EgressOptions): LookupFunction {
  const lookup = o.lookup ?? systemLookup;
  return (hostname, options, callback) => {
    const family = wantedFamily(options.family);
    lookup(hostname)
      .then((answers) => {
        refuseBlocked(
          hostname,
          answers.map((a) => a.address),
          o.allowPrivate,
        );
        const usable = answers.filter((a) => family === undefined || a.family === family);
        if (usable.length === 0) {
          const wanted = family === undefined ? '' : ` IPv${family}`;
          throw Object.assign(new Error(`${hostname} has no${wanted} address`), {
            code: 'ENOTFOUND',
            hostname,
          });
        }
        return usable;
      })
      .then(
        (usable) => {
          if (options.all) callback(null, usable);
          else callback(null, usable[0].address, usable[0].family);
        },
        (err: NodeJS.ErrnoException) => callback(err, options.all ? [] : ''),
      );
  };
}

/**
 * The address to connect to for a host that is not reached over HTTP (an IMAP server): the
 * host is resolved once, refused if any address is blocked, and the first address returned,
 * so that the connection goes where the check looked.
 */
export async function checkedAddress(host: string, o: EgressOptions): Promise<string> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(bare)) addresses = [bare];
  else {
    try {
      addresses = (await (o.lookup ?? systemLookup)(bare)).map((a) => a.address);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new EgressUnresolved(
        `${bare} does not resolve${typeof code === 'string' ? ` (${code})` : ''}`,
      );
    }
  }
  if (addresses.length === 0) throw new EgressUnresolved(`${bare} has no address`);
  refuseBlocked(bare, addresses, o.allowPrivate);
  return addresses[0];
}
