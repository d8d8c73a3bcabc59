/**
 * Which address a request comes from, for per-address limits (sessions per
 * minute, open connections). By default it is the TCP peer and nothing a
 * client writes can change it: X-Forwarded-For is read only when the peer is
 * a proxy the operator listed (`TRUST_PROXY`), and then the address is the
 * rightmost hop that is not one of those proxies, the one the outermost
 * trusted proxy saw. Hops to its left were written by the client and are never
 * believed.
 *
 * Built on @fastify/proxy-addr, the code behind Fastify's own `request.ip`:
 * given the same list as Fastify's `trustProxy` option, the REST edge and the
 * socket edge derive the same address for the same client.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';

/**
 * The proxies whose X-Forwarded-For is believed: addresses, CIDR ranges
 * (`10.0.0.0/8`, `fd00::/8`) or the presets `loopback`, `linklocal`,
 * `uniquelocal`. `false`: none, the header is ignored.
 */
export type TrustProxy = false | readonly string[];

/** Derives a client's address from the TCP peer and the X-Forwarded-For header(s) of its request. */
export type AddressResolver = (peer: string | undefined, forwardedFor: string | readonly string[] | undefined) => string;

/** The address used when the peer's is unknown (its socket already closed). */
export const UNKNOWN_ADDRESS = 'unknown';

/**
 * Parses a `TRUST_PROXY` setting: empty or `false` turns trust off; else a
 * comma-separated list of proxy addresses, ranges or presets. `true` and hop
 * counts are refused: neither checks that the peer is a proxy, so every
 * client could choose its own address by sending the header.
 */
export function parseTrustProxy(value: string | undefined): TrustProxy {
  const v = value?.trim() ?? '';
  if (v === '' || v === 'false') return false;
  if (v === 'true' || /^\d+$/.test(v)) {
    throw new Error('TRUST_PROXY lists the proxies (addresses, CIDR ranges, loopback, linklocal, uniquelocal); "true" and hop counts would believe any client');
  }
  const list = v.split(',').map((s) => s.trim());
  try {
    proxyAddr.compile(list);
  } catch (err) {
    throw new Error(`TRUST_PROXY: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return list;
}

/** A resolver for one trust setting (compiled once, called per connection or request). */
export function clientAddressResolver(trust: TrustProxy): AddressResolver {
  if (trust === false || trust.length === 0) return (peer) => canonicalAddress(peer);
  const trusted = proxyAddr.compile([...trust]);
  return (peer, forwardedFor) => {
    if (peer === undefined) return UNKNOWN_ADDRESS;
    const header = typeof forwardedFor === 'string' ? forwardedFor : forwardedFor?.join(',');
    // proxy-addr reads only these two fields of a request.
    const req = { socket: { remoteAddress: peer }, headers: { 'x-forwarded-for': header } } as unknown as IncomingMessage;
    // [peer, nearest hop, …], cut after the first address that is not a trusted proxy.
    const hops = proxyAddr.all(req, trusted);
    const client = hops[hops.length - 1];
    // A hop that is not an address came from a misconfigured proxy or from a
    // client inside a trusted range; it is not a key anyone should get to pick.
    return client !== undefined && isIP(client) !== 0 ? canonicalAddress(client) : canonicalAddress(peer);
  };
}

/**
 * One spelling per address: IPv4-mapped IPv6 (`::ffff:203.0.113.7`, what a
 * dual-stack listener reports for IPv4 clients) becomes the IPv4 address,
 * IPv6 is lower-cased.
 */
export function canonicalAddress(address: string | undefined): string {
  if (address === undefined || address === '') return UNKNOWN_ADDRESS;
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1] && isIP(mapped[1]) === 4) return mapped[1];
  return lower;
}

/**
 * The key a per-address limit counts under: the IPv4 address, or the /64 an
 * IPv6 address belongs to. One IPv6 host usually holds a whole /64 (2^64
 * addresses), so counting single IPv6 addresses would cap nobody.
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = ipv6Groups(address);
  if (!groups) return address;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (zone id dropped, embedded IPv4 tail expanded). */
function ipv6Groups(address: string): number[] | undefined {
  const bare = address.split('%')[0] ?? '';
  const parse = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [Number.parseInt(g, 16)];
      const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const gap = bare.indexOf('::');
  const groups =
    gap < 0
      ? parse(bare)
      : (() => {
          const head = parse(bare.slice(0, gap));
          const tail = parse(bare.slice(gap + 2));
          return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
        })();
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}
