// RDATA decoders, one per layout, each reading only [start, stop) of the record (names may
// still point back into the message). A layout that does not fit its RDLENGTH gives no
// data and a `bad_rdata` anomaly; the record itself is kept.

import { formatAddress } from '../../decode/flow-key';
import { u16be, u32be, u8 } from '../reader';
import { readDnsName } from './names';
import type { NameCursor } from './names';
import {
  DNS_NULL_PREVIEW_BYTES, DNS_OPT_DO_BIT, DNS_TYPE, MAX_DNS_OPT_OPTIONS, MAX_DNS_TXT_STRINGS,
} from './record-types';
import type { DnsAnomaly } from './record-types';
import type { DnsRdata } from './types';

const A_BYTES = 4; // RFC 1035 section 3.4.1
const AAAA_BYTES = 16; // RFC 3596 section 2.2
const SOA_NUMBERS_BYTES = 20; // SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM: five uint32
const OPT_OPTION_HEADER_BYTES = 4; // OPTION-CODE, OPTION-LENGTH (RFC 6891 section 6.1.2)

/** The bytes an RDATA decoder needs, and where it reports what it found wrong. */
export interface RdataContext {
  b: Uint8Array;
  /** Start of the message: compression pointers count from here. */
  base: number;
  cursor: NameCursor;
  anomaly: (a: DnsAnomaly) => void;
}

/**
 * Decodes the RDATA of `type` in [start, stop). `rclass` and `ttl` are the record's, which
 * OPT reuses for its own fields. Returns undefined for types not decoded and for malformed
 * RDATA (after reporting it).
 */
export function decodeRdata(
  ctx: RdataContext, type: number, rclass: number, ttl: number, start: number, stop: number,
): DnsRdata | undefined {
  switch (type) {
    case DNS_TYPE.A:
      if (stop - start !== A_BYTES) return bad(ctx);
      return { kind: 'a', address: ipv4(ctx.b, start, stop) };
    case DNS_TYPE.AAAA:
      if (stop - start !== AAAA_BYTES) return bad(ctx);
      return { kind: 'aaaa', address: ipv6(ctx.b, start, stop) };
    case DNS_TYPE.CNAME:
    case DNS_TYPE.NS:
    case DNS_TYPE.PTR: {
      const name = nameFilling(ctx, start, stop);
      return name === undefined ? undefined : { kind: 'name', name };
    }
    case DNS_TYPE.MX: {
      const exchange = nameFilling(ctx, start + 2, stop);
      if (exchange === undefined) return undefined;
      return { kind: 'mx', preference: u16be(ctx.b, start, stop), exchange };
    }
    case DNS_TYPE.SRV: {
      // RFC 2782 forbids compressing the target; senders that do are still understood.
      const target = nameFilling(ctx, start + 6, stop);
      if (target === undefined) return undefined;
      const b = ctx.b;
      return {
        kind: 'srv', priority: u16be(b, start, stop), weight: u16be(b, start + 2, stop),
        port: u16be(b, start + 4, stop), target,
      };
    }
    case DNS_TYPE.SOA:
      return soa(ctx, start, stop);
    case DNS_TYPE.TXT:
      return txt(ctx, start, stop);
    case DNS_TYPE.NULL:
      return { kind: 'null', length: stop - start, head: hexHead(ctx.b, start, stop) };
    case DNS_TYPE.OPT:
      return opt(ctx, rclass, ttl, start, stop);
    case DNS_TYPE.SVCB:
    case DNS_TYPE.HTTPS:
      return svcb(ctx, start, stop);
    default:
      return undefined;
  }
}

function bad(ctx: RdataContext): undefined {
  ctx.anomaly('bad_rdata');
  return undefined;
}

/** A name read inside the RDATA: its own bytes must stay below `stop`. */
function nameIn(ctx: RdataContext, at: number, stop: number): string | undefined {
  if (at >= stop) return bad(ctx);
  const name = readDnsName(ctx.b, ctx.base, at, stop, ctx.cursor);
  if (name !== undefined) return name;
  const why = ctx.cursor.failure;
  ctx.anomaly(why === undefined || why === 'truncated' ? 'bad_rdata' : why);
  return undefined;
}

/** A name that is the last field: it must also end exactly at `stop`. */
function nameFilling(ctx: RdataContext, at: number, stop: number): string | undefined {
  const name = nameIn(ctx, at, stop);
  if (name !== undefined && ctx.cursor.next !== stop) return bad(ctx);
  return name;
}

function soa(ctx: RdataContext, start: number, stop: number): DnsRdata | undefined {
  const mname = nameIn(ctx, start, stop);
  if (mname === undefined) return undefined;
  const rname = nameIn(ctx, ctx.cursor.next, stop);
  if (rname === undefined) return undefined;
  const p = ctx.cursor.next;
  if (stop - p !== SOA_NUMBERS_BYTES) return bad(ctx);
  const b = ctx.b;
  return {
    kind: 'soa', mname, rname, serial: u32be(b, p, stop), refresh: u32be(b, p + 4, stop),
    retry: u32be(b, p + 8, stop), expire: u32be(b, p + 12, stop),
    minimum: u32be(b, p + 16, stop),
  };
}

/** One or more <character-string>s: a length byte, then that many bytes (section 3.3). */
function txt(ctx: RdataContext, start: number, stop: number): DnsRdata | undefined {
  const strings: string[] = [];
  for (let p = start; p < stop;) {
    const length = u8(ctx.b, p, stop);
    if (p + 1 + length > stop) return bad(ctx);
    if (strings.length === MAX_DNS_TXT_STRINGS) {
      ctx.anomaly('txt_too_many_strings');
      break;
    }
    let s = '';
    for (let i = p + 1; i < p + 1 + length; i++) s += String.fromCharCode(u8(ctx.b, i, stop));
    strings.push(s);
    p += 1 + length;
  }
  if (strings.length === 0) return bad(ctx); // at least one string, even if empty
  return { kind: 'txt', strings };
}

/** OPT pseudo-record (RFC 6891 section 6.1.2/6.1.3): CLASS is the UDP size, TTL flags. */
function opt(
  ctx: RdataContext, rclass: number, ttl: number, start: number, stop: number,
): DnsRdata | undefined {
  const options: number[] = [];
  for (let p = start; p < stop;) {
    const code = u16be(ctx.b, p, stop);
    const length = u16be(ctx.b, p + 2, stop);
    if (length < 0 || p + OPT_OPTION_HEADER_BYTES + length > stop) return bad(ctx);
    if (options.length < MAX_DNS_OPT_OPTIONS) options.push(code);
    p += OPT_OPTION_HEADER_BYTES + length;
  }
  return {
    kind: 'opt', udpSize: rclass, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff,
    dnssecOk: (ttl & DNS_OPT_DO_BIT) !== 0, options,
  };
}

/** SVCB/HTTPS (RFC 9460 section 2.2): SvcPriority, TargetName; SvcParams not decoded. */
function svcb(ctx: RdataContext, start: number, stop: number): DnsRdata | undefined {
  const priority = u16be(ctx.b, start, stop);
  if (priority < 0) return bad(ctx);
  const target = nameIn(ctx, start + 2, stop);
  if (target === undefined) return undefined;
  return { kind: 'svcb', priority, target };
}

function ipv4(b: Uint8Array, at: number, stop: number): string {
  return `${u8(b, at, stop)}.${u8(b, at + 1, stop)}.${u8(b, at + 2, stop)}.${u8(b, at + 3, stop)}`;
}

const words = new Uint32Array(4);

/** RFC 5952 text; an IPv4-mapped address keeps its ::ffff: prefix (it is notable in AAAA). */
function ipv6(b: Uint8Array, at: number, stop: number): string {
  for (let i = 0; i < 4; i++) words[i] = u32be(b, at + 4 * i, stop);
  const text = formatAddress(words);
  return text.includes(':') ? text : `::ffff:${text}`;
}

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'));

function hexHead(b: Uint8Array, start: number, stop: number): string {
  let out = '';
  const to = Math.min(stop, start + DNS_NULL_PREVIEW_BYTES);
  for (let i = start; i < to; i++) out += HEX_BYTE[u8(b, i, stop) & 0xff];
  return out;
}
