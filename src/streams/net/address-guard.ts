import { BlockList, isIP } from 'node:net';
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';

/**
 * Customer-supplied destinations must not reach into Verity's own network (SSRF): private, loopback,
 * link-local, CGNAT, multicast and reserved ranges are refused unless VERITY_ALLOW_PRIVATE_DESTINATIONS.
 * The check runs on the resolved address at connect time (the lookup hook), so DNS rebinding between
 * "save" and "send" cannot slip a private address through.
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

export class ForbiddenAddressError extends Error {
  readonly code = 'EFORBIDDENADDRESS';
  constructor(host: string, address: string) {
    super(
      // Read by a customer's admin in the portal as well as by the operator: say who can change it.
      `Verity did not connect to ${host} (${address}): private, loopback and link-local addresses are not allowed as destinations ` +
        "on this server (its operator can allow them on a trusted network with VERITY_ALLOW_PRIVATE_DESTINATIONS=true).",
    );
    this.name = 'ForbiddenAddressError';
  }
}

/**
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged by the IPv4 address they carry. They must not be
 * a subnet of `blocked`: a BlockList compares an IPv4 address with IPv6 rules in its mapped form, so a
 * ::ffff:0:0/96 rule there matched every IPv4 address, public ones included.
 */
const mapped = new BlockList();
mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return blocked.check(address, 'ipv4');
  if (mapped.check(address, 'ipv6')) {
    const embedded = embeddedIpv4(address);
    return embedded === undefined || blocked.check(embedded, 'ipv4');
  }
  return blocked.check(address, 'ipv6');
}

/** The IPv4 address in the last 32 bits of an IPv4-mapped IPv6 address, dotted (::ffff:1.2.3.4) or hex (::ffff:102:304). */
function embeddedIpv4(address: string): string | undefined {
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted?.[1] !== undefined) return dotted[1];
  const hex = /:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] === undefined || hex[2] === undefined) return undefined;
  const high = Number.parseInt(hex[1], 16);
  const low = Number.parseInt(hex[2], 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * Node skips the lookup hook when the host is already an IP address, so literal addresses
 * (http://127.0.0.1, http://[::1], http://169.254.169.254) must be checked before connecting.
 */
export function assertHostAllowed(host: string, allowPrivate: boolean): void {
  const address = forbiddenLiteral(host);
  if (!allowPrivate && address !== undefined) throw new ForbiddenAddressError(host, address);
}

/** The address, when `host` (a URL host: IPv6 in brackets or not) is a literal forbidden address. */
export function forbiddenLiteral(host: string): string | undefined {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(bare) !== 0 && isForbiddenAddress(bare) ? bare : undefined;
}

/** A dns.lookup replacement for sockets and HTTP agents that refuses forbidden addresses. */
export function guardedLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses;
      const allowed = allowPrivate ? list : list.filter((entry) => !isForbiddenAddress(entry.address));
      if (allowed.length === 0) {
        return callback(new ForbiddenAddressError(hostname, list[0]?.address ?? 'no address'), '', 0);
      }
      if (options.all === true) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
      const first = allowed[0] as dns.LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}
