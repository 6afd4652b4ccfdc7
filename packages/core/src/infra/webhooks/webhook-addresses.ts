import { lookup } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import { BlockList, isIP } from "node:net";

/**
 * Addresses a webhook may never reach (SSRF): loopback, private (RFC 1918, CGNAT, fc00::/7),
 * link-local (169.254/16, fe80::/10, where cloud metadata services live), unspecified,
 * multicast and reserved. BlockList also matches IPv4-mapped IPv6 (::ffff:127.0.0.1) against
 * the IPv4 rules.
 */
const refused = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  refused.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  refused.addSubnet(network, prefix, "ipv6");
}

/** Whether an address is one a webhook may not reach; anything that is not an IP address is. */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return refused.check(address, family === 4 ? "ipv4" : "ipv6");
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** `refused`: the address is forbidden (final); otherwise the name did not resolve (may be temporary). */
export type AddressCheck =
  | { ok: true; address: ResolvedAddress }
  | { ok: false; reason: string; refused: boolean };

/** Where webhooks may go. Implemented by createWebhookAddresses; a service takes it as a dependency. */
export interface WebhookAddresses {
  /**
   * Resolves the URL's host once and returns the address to connect to, or why not: when private
   * addresses are refused, a host with any refused address is refused (a round-robin name cannot
   * slip one in).
   */
  check(url: string): Promise<AddressCheck>;
  /** False in tests only: loopback receivers are allowed. */
  readonly refusesPrivate: boolean;
}

export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

const resolveWithSystem: HostResolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => ({
    address: entry.address,
    family: entry.family === 6 ? 6 : 4,
  }));

export function createWebhookAddresses(options: {
  allowPrivate: boolean;
  resolve?: HostResolver;
}): WebhookAddresses {
  const resolve = options.resolve ?? resolveWithSystem;
  return {
    refusesPrivate: !options.allowPrivate,
    async check(url) {
      // URL keeps an IPv6 literal's brackets in hostname; the resolver wants the bare address.
      const hostname = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
      let addresses: ResolvedAddress[];
      try {
        addresses = await resolve(hostname);
      } catch {
        return { ok: false, reason: `The host ${hostname} does not resolve`, refused: false };
      }
      const [first] = addresses;
      if (!first) return { ok: false, reason: `The host ${hostname} does not resolve`, refused: false };
      if (!options.allowPrivate && addresses.some((entry) => isRefusedAddress(entry.address))) {
        return {
          ok: false,
          reason: `The host ${hostname} resolves to a loopback, private, link-local or reserved address`,
          refused: true,
        };
      }
      return { ok: true, address: first };
    },
  };
}

/**
 * A `lookup` for http.request that answers with the address already checked: the connection
 * goes where the check said, even if the name resolves elsewhere a moment later (DNS rebinding).
 * TLS still verifies the certificate against the URL's host name.
 */
export function pinnedLookup(address: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: address.address, family: address.family }]);
    else callback(null, address.address, address.family);
  };
}
