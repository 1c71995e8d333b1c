/**
 * Local addresses: this computer and the local network. A web page on the internet must not be
 * able to make Vidmux fetch them (a router's admin page, a NAS, a service on localhost), so the
 * page provider refuses them for a page on a public address unless the user allowed its site.
 *
 * Only what the URL itself says is seen: literal IP addresses and names reserved for local use. A
 * public name whose DNS answer is a private IP cannot be seen from an extension (it has no DNS API,
 * and fetch does not say which address it reached), so it passes.
 */
import { ProviderError } from '../errors';
import { SiteHostSchema } from '../schemas/ids';
import type { RequestHooks } from './http';

/** Which kind of local address a host is. */
export type LocalKind = 'loopback' | 'private' | 'link-local' | 'unique-local' | 'local-name';

/** Name suffixes only a local network answers for (mDNS, RFC 8375's home.arpa, ICANN's .internal). */
const LOCAL_SUFFIXES = ['.local', '.home.arpa', '.internal', '.lan', '.intranet'];

/**
 * What kind of local address `url`'s host is, or null for a public one. URLs are parsed first,
 * which writes every IPv4 form (`0x7f.1`, `2130706433`) as `a.b.c.d` and IPv6 in hex.
 */
export function localAddressKind(url: string): LocalKind | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol === 'file:') return 'loopback';
  return hostKind(u.hostname);
}

/** {@link localAddressKind} of a host name as a URL writes it (IPv6 in brackets). */
export function hostKind(hostname: string): LocalKind | null {
  const host = hostname.toLowerCase().replace(/\.+$/, '');
  if (!host) return null;
  if (host.startsWith('[')) {
    const words = ipv6Words(host.slice(1, -1));
    return words ? ipv6Kind(words) : null;
  }
  const v4 = ipv4Bytes(host);
  if (v4) return ipv4Kind(v4);
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  // A name without a dot is looked up in the local network's search domains ("router", "nas").
  if (!host.includes('.') || LOCAL_SUFFIXES.some((s) => host.endsWith(s))) return 'local-name';
  return null;
}

/** Whether a page at `url` is on the internet: http(s) on a host that is not local. */
export function isPublicPage(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && hostKind(u.hostname) === null;
  } catch {
    return false;
  }
}

/** The site a page is on, as the user allows it: its host name, without port. */
export function siteOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase().replace(/\.+$/, '');
  } catch {
    return '';
  }
}

const KIND_WORDS: Record<LocalKind, string> = {
  loopback: 'an address of this computer',
  private: 'an address on your local network',
  'link-local': 'a link-local address of your network',
  'unique-local': 'a private IPv6 address of your network',
  'local-name': 'a name only your local network knows',
};

/**
 * Request hooks that refuse every request to a local address, for the requests made for a page at
 * `pageUrl`; null when the page is itself local or the user allowed its site. A redirect is seen
 * only once fetch has followed it (a browser does not show where it goes first): its answer is
 * refused then.
 */
export function privateNetworkGuard(pageUrl: string, allowedSites: readonly string[], provider: string): RequestHooks | null {
  const site = siteOf(pageUrl);
  if (!isPublicPage(pageUrl) || allowedSites.includes(site)) return null;
  const check = (url: string) => {
    const kind = localAddressKind(url);
    if (!kind) return;
    let where = url;
    try {
      where = new URL(url).host;
    } catch {
      /* the URL as given */
    }
    throw new ProviderError(
      'forbidden',
      `${site} asks for ${where}, ${KIND_WORDS[kind]}: Vidmux does not let a page on the internet reach this computer or your local network. If you trust ${site}, choose “Allow ${site} to use local addresses” on this download, or add ${site} under “Local addresses” in Vidmux options.`,
      // Only a site the settings can hold is offered to allow.
      { provider, ...(SiteHostSchema.safeParse(site).success ? { privateNetworkSite: site } : {}) },
    );
  };
  return {
    beforeAttempt: (attempt) => check(attempt.url),
    afterResponse: (_attempt, res) => {
      if (res.redirectedTo) check(res.redirectedTo);
    },
  };
}

function ipv4Bytes(host: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function ipv4Kind([a, b]: number[]): LocalKind | null {
  // 0.0.0.0/8 reaches this computer on Linux and macOS.
  if (a === 127 || a === 0) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  // 100.64/10: carrier-grade NAT and overlay networks (Tailscale), private like the RFC 1918 ranges.
  if (a === 10 || (a === 172 && b! >= 16 && b! <= 31) || (a === 192 && b === 168) || (a === 100 && b! >= 64 && b! <= 127)) return 'private';
  return null;
}

/** The eight 16-bit words of an IPv6 address (a dotted IPv4 tail allowed), or null. */
function ipv6Words(text: string): number[] | null {
  let s = text;
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const b = ipv4Bytes(dotted[2]!);
    if (!b) return null;
    s = `${dotted[1]}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const gap = 8 - head.length - tail.length;
  if (halves.length === 2 ? gap < 1 : gap !== 0) return null;
  const words = [...head, ...Array<string>(halves.length === 2 ? gap : 0).fill('0'), ...tail];
  if (!words.every((w) => /^[0-9a-f]{1,4}$/i.test(w))) return null;
  return words.map((w) => parseInt(w, 16));
}

function ipv6Kind(w: number[]): LocalKind | null {
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  const v4 = () => [w[6]! >> 8, w[6]! & 0xff, w[7]! >> 8, w[7]! & 0xff];
  // ::1 is this computer; :: (unspecified) reaches it too.
  if (zeros(0, 7) && w[7]! <= 1) return 'loopback';
  // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d).
  if ((zeros(0, 5) && w[5] === 0xffff) || zeros(0, 6) || (w[0] === 0x64 && w[1] === 0xff9b && zeros(2, 6))) return ipv4Kind(v4());
  if ((w[0]! & 0xfe00) === 0xfc00) return 'unique-local';
  if ((w[0]! & 0xffc0) === 0xfe80) return 'link-local';
  // fec0::/10, site-local: deprecated, still a local network's.
  if ((w[0]! & 0xffc0) === 0xfec0) return 'private';
  return null;
}
