import ipaddr from 'ipaddr.js';

/** An IP address family as Node reports it. */
export type IpFamily = 4 | 6;

/** One address a hostname resolved to (or a literal IP from the URL). */
export interface ResolvedAddress {
  address: string;
  family: IpFamily;
}

/** The verdict on one address or URL. */
export type PolicyDecision = { allowed: true } | { allowed: false; reason: string };

/** The verdict on a URL: where to connect, and the literal address when the host is an IP. */
export type UrlCheck =
  | { allowed: true; hostname: string; port: number; literal: ResolvedAddress | null }
  | { allowed: false; reason: string };

/** Which outbound destinations are acceptable: the SSRF guard, applied to URLs and resolved IPs. */
export interface AddressPolicy {
  /** Scheme, credentials, port and (for IP literals) the address of a URL; hostnames still need resolving. */
  checkUrl(url: URL): UrlCheck;
  /** Whether a connection to this IP (any spelling: dotted, decimal, octal, hex, bracketed IPv6) is allowed. */
  checkAddress(ip: string, family?: IpFamily): PolicyDecision;
}

/** How the policy is configured (`HOOKLINE_ALLOW_HTTP`, `HOOKLINE_ALLOW_NETWORKS`). */
export interface AddressPolicyOptions {
  /** Let endpoints use `http://` (development only). */
  allowHttp: boolean;
  /** CIDRs (or single IPs) exempt from the address checks, e.g. `127.0.0.0/8` for local receivers. */
  allowNetworks: readonly string[];
  /** When set, only these ports may be used. */
  allowedPorts?: readonly number[];
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

// ipaddr.js's range names, as sentences; anything but `unicast` is refused.
const RANGE_LABELS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT (100.64.0.0/10) address',
  private: 'a private-network address',
  reserved: 'a reserved or documentation address',
  as112: 'an AS112 (DNS sink) address',
  amt: 'an AMT relay address',
  benchmarking: 'a benchmarking address',
  uniqueLocal: 'a unique local IPv6 address (fc00::/7)',
  deprecatedSiteLocal: 'a site-local IPv6 address (fec0::/10)',
  discard: 'a discard-only IPv6 address',
  teredo: 'a Teredo tunnel address',
  as112v6: 'an AS112 (DNS sink) address',
  deprecatedOrchid: 'an ORCHID address',
  orchid2: 'an ORCHID address',
  droneRemoteIdProtocolEntityTags: 'a DRIP entity tag address',
  segmentRouting: 'a segment-routing address',
  rfc6052: 'a local-use NAT64 address',
};

const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');
const LOOPBACK_V4 = ipaddr.IPv4.parse('127.0.0.1');

/** `localhost`, any name under `.localhost`, with or without trailing dots. */
function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}
const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96');

function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  try {
    if (trimmed.includes('/')) return ipaddr.parseCIDR(trimmed);
    const address = ipaddr.parse(trimmed);
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    throw new RangeError(
      `"${text}" in the allowed networks is not a CIDR such as 127.0.0.0/8 or fd00::/8.`,
    );
  }
}

/** Parses an IP in any spelling Node or a URL may hand us: bracketed IPv6, and IPv4 in dotted, decimal, octal or hex. */
export function parseIp(ip: string): Address | null {
  const text = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  try {
    return ipaddr.parse(text);
  } catch {
    return null;
  }
}

/** The IPv4 address an IPv6 address carries and routes to (mapped, SIIT, NAT64, 6to4), if any. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const p = address.parts;
  const fromParts = (hi: number, lo: number) =>
    new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  switch (address.range()) {
    case 'ipv4Mapped':
    case 'rfc6145':
      return fromParts(p[6]!, p[7]!);
    case 'rfc6052':
      // Only the well-known /96 has a fixed place for the IPv4 address; the local-use /48 is refused as a whole.
      return address.match(NAT64_WELL_KNOWN) ? fromParts(p[6]!, p[7]!) : null;
    case '6to4':
      return fromParts(p[1]!, p[2]!);
    default:
      return null;
  }
}

function describeEmbedding(address: ipaddr.IPv6): string {
  switch (address.range()) {
    case '6to4':
      return 'a 6to4 address';
    case 'rfc6052':
      return 'a NAT64 address';
    case 'rfc6145':
      return 'an IPv4-translated IPv6 address';
    default:
      return 'an IPv4-mapped IPv6 address';
  }
}

/** Why an address is refused by range (as "a loopback address"), or null for ordinary unicast. */
function refusedRange(address: Address): string | null {
  const range = address.range();
  if (address.kind() === 'ipv6' && range === 'unicast') {
    const v6 = address as ipaddr.IPv6;
    if (v6.parts.slice(0, 6).every((part) => part === 0)) {
      return 'an IPv4-compatible IPv6 address (deprecated)';
    }
    if (!v6.match(GLOBAL_UNICAST_V6)) return 'not a global unicast IPv6 address';
  }
  if (range === 'unicast') return null;
  return RANGE_LABELS[range] ?? `in the special-purpose range "${range}"`;
}

/** Builds the SSRF policy; throws `RangeError` naming any malformed CIDR or port. */
export function createAddressPolicy(options: AddressPolicyOptions): AddressPolicy {
  const allowed = options.allowNetworks.filter((n) => n.trim() !== '').map(parseCidr);
  const ports = options.allowedPorts ? new Set(options.allowedPorts) : null;
  for (const port of ports ?? []) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`Allowed port ${port} is not an integer between 1 and 65535.`);
    }
  }

  function isAllowListed(address: Address): boolean {
    return allowed.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits));
  }

  function checkParsed(address: Address): PolicyDecision {
    if (isAllowListed(address)) return { allowed: true };
    if (address.kind() === 'ipv6') {
      const v6 = address as ipaddr.IPv6;
      const v4 = embeddedIPv4(v6);
      if (v4) {
        if (isAllowListed(v4)) return { allowed: true };
        const refused = refusedRange(v4);
        if (refused === null) return { allowed: true };
        return {
          allowed: false,
          reason: `${v6.toString()} is ${describeEmbedding(v6)} of ${v4.toString()}, ${refused}`,
        };
      }
    }
    const refused = refusedRange(address);
    if (refused === null) return { allowed: true };
    return { allowed: false, reason: `${address.toString()} is ${refused}` };
  }

  function checkAddress(ip: string): PolicyDecision {
    const address = parseIp(ip);
    if (!address) return { allowed: false, reason: `"${ip}" is not an IP address` };
    return checkParsed(address);
  }

  function checkUrl(url: URL): UrlCheck {
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && options.allowHttp)) {
      return {
        allowed: false,
        reason:
          url.protocol === 'http:'
            ? 'The URL must use https:// (http:// is allowed only with HOOKLINE_ALLOW_HTTP=true).'
            : `The URL must use https://, not ${url.protocol}//.`,
      };
    }
    if (url.username !== '' || url.password !== '') {
      return { allowed: false, reason: 'The URL must not contain a user name or password.' };
    }
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    if (ports && !ports.has(port)) {
      return { allowed: false, reason: `Port ${port} is not allowed.` };
    }
    const host = url.hostname;
    if (host === '') return { allowed: false, reason: 'The URL has no host.' };
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    // WHATWG URL parsing already rewrote every IPv4 spelling (2130706433, 0x7f.1, 127.1) as dotted decimal.
    if (ipaddr.isValid(bare)) {
      const address = ipaddr.parse(bare);
      const verdict = checkParsed(address);
      if (!verdict.allowed) {
        return { allowed: false, reason: `The URL's host is not allowed: ${verdict.reason}.` };
      }
      const family: IpFamily = address.kind() === 'ipv4' ? 4 : 6;
      return {
        allowed: true,
        hostname: bare,
        port,
        literal: { address: address.toString(), family },
      };
    }
    // RFC 6761: localhost names are loopback whatever a resolver answers; refuse them by name too.
    if (isLocalhostName(host) && !isAllowListed(LOOPBACK_V4)) {
      return {
        allowed: false,
        reason: `The URL's host is not allowed: ${host} is a loopback name.`,
      };
    }
    return { allowed: true, hostname: host, port, literal: null };
  }

  return { checkUrl, checkAddress };
}

/**
 * The same policy, calling `onRefused` for every refusing verdict (metrics). A check stops at its
 * first refusal (`resolveTarget`, the registration check), so that is one call per refused URL.
 */
export function observeRefusals(policy: AddressPolicy, onRefused: () => void): AddressPolicy {
  return {
    checkUrl(url) {
      const verdict = policy.checkUrl(url);
      if (!verdict.allowed) onRefused();
      return verdict;
    },
    checkAddress(ip, family) {
      const verdict = policy.checkAddress(ip, family);
      if (!verdict.allowed) onRefused();
      return verdict;
    },
  };
}
