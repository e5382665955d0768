// Address sets from CIDR lists (config networks.internal, assets.*, ExpectedDoHResolvers).
// Matching is node:net's BlockList, which handles IPv4, IPv6 and IPv4-mapped IPv6; this file
// only parses and explains bad input.

import { BlockList, isIP } from 'node:net';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parse "10.0.0.0/8", "fd00::/8" or a bare address (a /32 or /128); null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const v = isIP(address);
  // A zone id (fe80::1%eth0) names a link on some host; flow addresses never carry one,
  // so such an entry could never match anything.
  if (v === 0 || address.includes('%')) return null;
  const max = v === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    // "/08" is refused like "/8x": a prefix written with a leading zero is a typo as often
    // as not, and the rule in the message says 0-32 / 0-128.
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    prefix = Number(p);
    if (prefix > max) return null;
  }
  return { address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** The rule a CIDR text must follow, as config errors state it. */
export const CIDR_RULE = 'must be an IPv4 or IPv6 address without a %zone, optionally with ' +
  '/prefix (0-32 for IPv4, 0-128 for IPv6, no leading zero)';

/** Why a CIDR text is malformed, for config errors; null when it is fine. */
export function cidrProblem(text: string): string | null {
  return parseCidr(text) === null ? CIDR_RULE : null;
}

/** Addresses whose answer a CidrSet remembers before it starts over. */
export const CIDR_ANSWER_CACHE = 4096;

export class CidrSet {
  private readonly list = new BlockList();
  private readonly answers = new Map<string, boolean>();
  readonly size: number;

  /** Entries must already be valid (the config schema checks them). */
  constructor(entries: readonly string[]) {
    let n = 0;
    for (const e of entries) {
      const c = parseCidr(e);
      if (c === null) throw new TypeError(`not a CIDR: ${e}`);
      this.list.addSubnet(c.address, c.prefix, c.family);
      n++;
    }
    this.size = n;
  }

  /** Whether the address (as formatted in flow records) falls in any entry. */
  contains(ip: string): boolean {
    if (this.size === 0) return false;
    // BlockList.check builds and validates a SocketAddress per call (about 50 us): the
    // relay signal alone asks several times per flow, and the same few addresses recur.
    const known = this.answers.get(ip);
    if (known !== undefined) return known;
    const v = isIP(ip);
    const hit = v !== 0 && this.list.check(ip, v === 4 ? 'ipv4' : 'ipv6');
    // Bounded: a scan of random addresses must not grow it without end.
    if (this.answers.size >= CIDR_ANSWER_CACHE) this.answers.clear();
    this.answers.set(ip, hit);
    return hit;
  }
}
