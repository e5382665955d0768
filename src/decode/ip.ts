// Network layer. Each decoder fills addresses, proto and fragment, and leaves in
// out.payloadOffset / payloadLength / payloadLengthOnWire the span of the transport header
// plus payload (captured and claimed). The transport decoder then narrows that span.
//
// Returns failWith(anomaly), or a non-negative set of IP_* bits: IP_HAS_TRANSPORT when a
// transport header follows (not for non-first fragments, ESP, "no next header"),
// IP_LENGTH_ZERO when the length field was 0 and the capture length was used. Informational
// anomalies are counted by the caller once the whole packet decoded, so that a dropped
// packet bumps exactly one counter.
//
// Checksums are not verified: offloading makes captured checksums wrong on the sender side,
// and a sensor must see what the wire saw.

import { ANOMALY, failWith } from './anomalies';
import { be16, be32 } from './bytes';
import {
  IPV4_MIN_HEADER_BYTES, IPV6_EXT, IPV6_FRAGMENT_HEADER_BYTES, IPV6_HEADER_BYTES,
  MAX_IPV6_EXT_HEADERS,
} from './constants';
import { TRANSPORT_BAD_UDP_LENGTH, decodeTransport } from './transport';
import type { DecodedPacket } from './packet';

export const IP_HAS_TRANSPORT = 1;
export const IP_LENGTH_ZERO = 2;
/** Returned by decodeIpPacket only: the UDP length was wrong and the IP length was used. */
export const IP_BAD_UDP_LENGTH = 4;

/** IPv4-mapped IPv6 prefix word (::ffff:0:0/96, RFC 4291 section 2.5.5.2). */
const IPV4_MAPPED_WORD = 0xffff;

/** IPv4 flags/fragment-offset field (RFC 791 section 3.1). */
const IPV4_MORE_FRAGMENTS = 0x2000;
const IPV4_FRAGMENT_OFFSET_MASK = 0x1fff;

/** IPv6 fragment header offset field: 13 bits of 8-byte units above 3 flag bits. */
const IPV6_FRAGMENT_OFFSET_MASK = 0xfff8;

/** "No Next Header" (RFC 8200 section 4.7) and ESP (RFC 4303): nothing to parse after. */
const IPPROTO_NONE = 59;
const IPPROTO_ESP = 50;

/**
 * A first fragment too short for its transport header (the tiny-fragment case of RFC 1858)
 * is still an IP fragment: keep it without ports, like the ones after it, with the IP
 * payload bounds saved before the transport decoder tried it.
 */
export function keepPortlessFragment(
  out: DecodedPacket, payloadOffset: number, payloadLength: number, payloadLengthOnWire: number,
): void {
  out.srcPort = 0;
  out.dstPort = 0;
  out.tcpFlags = 0;
  out.tcpSeq = 0;
  out.tcpAck = 0;
  out.payloadOffset = payloadOffset;
  out.payloadLength = payloadLength;
  out.payloadLengthOnWire = payloadLengthOnWire;
}

/**
 * One IP packet found inside a tunnel: its headers, then the transport header when one
 * follows. decodePacket writes the same steps out for the captured packet (see there why).
 * Returns failWith(anomaly) or the informational bits IP_LENGTH_ZERO and IP_BAD_UDP_LENGTH
 * for the caller to count.
 */
export function decodeIpPacket(
  b: Uint8Array, off: number, end: number, out: DecodedPacket,
): number {
  const ipResult = decodeIp(b, off, end, out);
  if (ipResult < 0 || (ipResult & IP_HAS_TRANSPORT) === 0) return ipResult;

  const payloadOffset = out.payloadOffset;
  const payloadLength = out.payloadLength;
  const payloadLengthOnWire = out.payloadLengthOnWire;
  const transportResult = decodeTransport(b, out);
  if (transportResult === TRANSPORT_BAD_UDP_LENGTH) return ipResult | IP_BAD_UDP_LENGTH;
  if (transportResult < 0) {
    if (!out.fragment) return transportResult;
    keepPortlessFragment(out, payloadOffset, payloadLength, payloadLengthOnWire);
  }
  return ipResult;
}

/** Dispatches on what the link layer announced (4, 6) or, for raw IP (0), on the nibble. */
export function decodeIp(
  b: Uint8Array, off: number, end: number, out: DecodedPacket,
): number {
  if (off >= end) {
    return failWith(out.ipVersion === 6 ? ANOMALY.truncated_ipv6 : ANOMALY.truncated_ipv4);
  }
  const version = b[off] >> 4;
  if (out.ipVersion !== 0 && out.ipVersion !== version) return failWith(ANOMALY.bad_ip_version);
  if (version === 4) return decodeIpv4(b, off, end, out);
  if (version === 6) return decodeIpv6(b, off, end, out);
  return failWith(ANOMALY.bad_ip_version);
}

/** IPv4 (RFC 791 section 3.1). */
function decodeIpv4(
  b: Uint8Array, off: number, end: number, out: DecodedPacket,
): number {
  if (off + IPV4_MIN_HEADER_BYTES > end) return failWith(ANOMALY.truncated_ipv4);
  const headerBytes = (b[off] & 0x0f) * 4; // IHL in 32-bit words
  let totalLength = be16(b, off + 2);
  const fragmentField = be16(b, off + 6);
  const proto = b[off + 9];
  if (headerBytes < IPV4_MIN_HEADER_BYTES) return failWith(ANOMALY.bad_ipv4_header);
  if (off + headerBytes > end) return failWith(ANOMALY.truncated_ipv4);
  let flags = IP_HAS_TRANSPORT;
  if (totalLength === 0) {
    // TCP segmentation offload leaves the length to the NIC: trust the capture instead.
    flags |= IP_LENGTH_ZERO;
    totalLength = end - off;
  } else if (totalLength < headerBytes) {
    return failWith(ANOMALY.bad_ipv4_header);
  }

  out.ipVersion = 4;
  out.proto = proto;
  writeMappedIpv4(out.src, be32(b, off + 12));
  writeMappedIpv4(out.dst, be32(b, off + 16));

  // Ethernet padding and trailers sit past totalLength and are not payload.
  const transportStart = off + headerBytes;
  const ipEnd = Math.min(off + totalLength, end);
  out.payloadOffset = transportStart;
  out.payloadLength = ipEnd - transportStart;
  out.payloadLengthOnWire = totalLength - headerBytes;

  const fragmentOffset = fragmentField & IPV4_FRAGMENT_OFFSET_MASK;
  if ((fragmentField & IPV4_MORE_FRAGMENTS) !== 0 || fragmentOffset !== 0) {
    out.fragment = true;
    // Only the first fragment carries the transport header.
    if (fragmentOffset !== 0) flags &= ~IP_HAS_TRANSPORT;
  }
  return flags;
}

/** IPv6 (RFC 8200 sections 3 and 4) with its extension header chain. */
function decodeIpv6(
  b: Uint8Array, off: number, end: number, out: DecodedPacket,
): number {
  if (off + IPV6_HEADER_BYTES > end) return failWith(ANOMALY.truncated_ipv6);
  // version/traffic class/flow label (4), payload length (2), next header (1), hop limit (1)
  let payloadLength = be16(b, off + 4);
  let next = b[off + 6];
  readAddress(b, off + 8, out.src);
  readAddress(b, off + 24, out.dst);
  out.ipVersion = 6;

  const start = off + IPV6_HEADER_BYTES;
  let flags = IP_HAS_TRANSPORT;
  if (payloadLength === 0) {
    // Jumbogram (RFC 2675) or segmentation offload: the capture is the only length we have.
    flags |= IP_LENGTH_ZERO;
    payloadLength = end - start;
  }
  const claimedEnd = start + payloadLength;
  const ipEnd = Math.min(claimedEnd, end);

  let p = start;
  for (let headers = 0; (flags & IP_HAS_TRANSPORT) !== 0; headers++) {
    let headerBytes: number;
    if (isSkippableExtension(next)) {
      if (p + 2 > ipEnd) return failWith(extensionPastEnd(p + 2, claimedEnd));
      // next header (1), length (1); AH counts 4-byte units minus 2 (RFC 4302 section 2.2),
      // the others 8-byte units minus 1 (RFC 8200 section 4.3).
      headerBytes = next === IPV6_EXT.AH ? (b[p + 1] + 2) * 4 : (b[p + 1] + 1) * 8;
      next = b[p];
    } else if (next === IPV6_EXT.FRAGMENT) {
      if (p + IPV6_FRAGMENT_HEADER_BYTES > ipEnd) {
        return failWith(extensionPastEnd(p + IPV6_FRAGMENT_HEADER_BYTES, claimedEnd));
      }
      headerBytes = IPV6_FRAGMENT_HEADER_BYTES;
      out.fragment = true;
      if ((be16(b, p + 2) & IPV6_FRAGMENT_OFFSET_MASK) !== 0) flags &= ~IP_HAS_TRANSPORT;
      next = b[p];
    } else {
      break;
    }
    if (headers >= MAX_IPV6_EXT_HEADERS) return failWith(ANOMALY.ipv6_ext_too_deep);
    if (p + headerBytes > ipEnd) return failWith(extensionPastEnd(p + headerBytes, claimedEnd));
    p += headerBytes;
  }

  out.proto = next;
  out.payloadOffset = p;
  out.payloadLength = ipEnd - p;
  out.payloadLengthOnWire = claimedEnd - p;
  if (next === IPPROTO_NONE || next === IPPROTO_ESP) flags &= ~IP_HAS_TRANSPORT;
  return flags;
}

/** Extension headers with the generic "next header, length" prefix that we step over. */
function isSkippableExtension(next: number): boolean {
  return next === IPV6_EXT.HOP_BY_HOP || next === IPV6_EXT.ROUTING ||
    next === IPV6_EXT.DEST_OPTS || next === IPV6_EXT.AH || next === IPV6_EXT.MOBILITY ||
    next === IPV6_EXT.HIP || next === IPV6_EXT.SHIM6;
}

/** An extension ending at `needEnd` does not fit: past the claimed length or the capture? */
function extensionPastEnd(needEnd: number, claimedEnd: number): number {
  return needEnd > claimedEnd ? ANOMALY.bad_ipv6_ext : ANOMALY.truncated_ipv6_ext;
}

function writeMappedIpv4(words: Uint32Array, address: number): void {
  words[0] = 0;
  words[1] = 0;
  words[2] = IPV4_MAPPED_WORD;
  words[3] = address;
}

function readAddress(b: Uint8Array, i: number, words: Uint32Array): void {
  words[0] = be32(b, i);
  words[1] = be32(b, i + 4);
  words[2] = be32(b, i + 8);
  words[3] = be32(b, i + 12);
}
