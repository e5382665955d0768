// Link layer: find where the IP header starts. Each function returns the offset of the IP
// header (with out.ipVersion set to 4 or 6, or 0 when the link does not say and the version
// nibble must decide) or failWith(anomaly). out.vlan receives the outermost 802.1Q id.

import { ANOMALY, failWith } from './anomalies';
import { be16, be32, le32 } from './bytes';
import {
  ARPHRD_NETLINK, BSD_AF, CHDLC_BROADCAST, CHDLC_UNICAST, DLT, ETHER_HEADER_BYTES,
  ETHER_MAX_LENGTH_FIELD, ETHERTYPE, MAX_MPLS_LABELS, MAX_VLAN_TAGS, MPLS_ENTRY_BYTES,
  NON_IP_ETHERTYPES, NULL_HEADER_BYTES, PPP_ADDRESS, PPP_CONTROL, PPP_PROTO, PPPOE_CODE_SESSION,
  PPPOE_HEADER_BYTES, PPPOE_VER_TYPE, SLL2_HEADER_BYTES, SLL_HEADER_BYTES, VLAN_TAG_BYTES,
} from './constants';
import type { DecodedPacket } from './packet';

/** Dispatches on the capture's link type; `end` is one past the last captured byte. */
export function decodeLink(
  b: Uint8Array, off: number, end: number, linkType: number, out: DecodedPacket,
): number {
  switch (linkType) {
    case DLT.EN10MB:
      if (off + ETHER_HEADER_BYTES > end) return failWith(ANOMALY.truncated_link);
      // dst MAC (6), src MAC (6), EtherType (2)
      return decodeEthertype(b, off + ETHER_HEADER_BYTES, end, be16(b, off + 12), out);
    case DLT.RAW:
    case DLT.RAW_OPENBSD:
    case DLT.LINKTYPE_RAW:
      out.ipVersion = 0;
      return off;
    case DLT.IPV4:
      out.ipVersion = 4;
      return off;
    case DLT.IPV6:
      out.ipVersion = 6;
      return off;
    case DLT.NULL:
      return decodeNull(b, off, end, out, false);
    case DLT.LOOP:
      return decodeNull(b, off, end, out, true);
    case DLT.LINUX_SLL:
      return decodeSll(b, off, end, out);
    case DLT.LINUX_SLL2:
      return decodeSll2(b, off, end, out);
    case DLT.PPP:
    case DLT.PPP_SERIAL:
    case DLT.C_HDLC:
      return decodePppOrHdlc(b, off, end, out);
    case DLT.PPP_ETHER:
      return decodePppoe(b, off, end, out);
    default:
      return failWith(ANOMALY.unknown_linktype);
  }
}

/**
 * Follows an EtherType through 802.1Q/802.1ad tags, PPPoE sessions and MPLS label stacks to
 * the IP header. Shared by Ethernet, SLL and SLL2, whose protocol fields are EtherTypes.
 */
export function decodeEthertype(
  b: Uint8Array, off: number, end: number, etherType: number, out: DecodedPacket,
): number {
  let type = etherType;
  for (let tags = 0; ; tags++) {
    switch (type) {
      case ETHERTYPE.IPV4:
        out.ipVersion = 4;
        return off;
      case ETHERTYPE.IPV6:
        out.ipVersion = 6;
        return off;
      case ETHERTYPE.VLAN:
      case ETHERTYPE.QINQ:
      case ETHERTYPE.QINQ_LEGACY:
      case ETHERTYPE.QINQ_LEGACY2:
        if (tags >= MAX_VLAN_TAGS) return failWith(ANOMALY.vlan_too_deep);
        if (off + VLAN_TAG_BYTES > end) return failWith(ANOMALY.truncated_link);
        // TCI: priority (3 bits), DEI (1), VLAN id (12); then the inner EtherType
        if (out.vlan < 0) out.vlan = be16(b, off) & 0x0fff;
        type = be16(b, off + 2);
        off += VLAN_TAG_BYTES;
        continue;
      case ETHERTYPE.PPPOE_SESSION:
        return decodePppoe(b, off, end, out);
      case ETHERTYPE.MPLS_UNICAST:
      case ETHERTYPE.MPLS_MULTICAST:
        return decodeMpls(b, off, end, out);
      default:
        // 802.3 length field (LLC follows) or a known non-IP protocol.
        // gap: LLC/SNAP-encapsulated IP (RFC 1042) is not decoded; it is rare on modern LANs.
        if (type <= ETHER_MAX_LENGTH_FIELD || NON_IP_ETHERTYPES.has(type)) {
          return failWith(ANOMALY.non_ip);
        }
        return failWith(ANOMALY.unknown_ethertype);
    }
  }
}

/** PPPoE session stage (RFC 2516 section 4): ver/type, code, session id, length, PPP. */
function decodePppoe(b: Uint8Array, off: number, end: number, out: DecodedPacket): number {
  if (off + PPPOE_HEADER_BYTES > end) return failWith(ANOMALY.truncated_link);
  if (b[off] !== PPPOE_VER_TYPE || b[off + 1] !== PPPOE_CODE_SESSION) {
    return failWith(ANOMALY.bad_pppoe_header);
  }
  // session id (2) and payload length (2) are not needed: the IP length bounds the packet.
  return decodePppProtocol(b, off + PPPOE_HEADER_BYTES, end, out);
}

/**
 * DLT_PPP, DLT_PPP_SERIAL and DLT_C_HDLC: PPP with or without HDLC-like address/control
 * bytes, or Cisco HDLC (address 0x0f/0x8f, control 0, then an EtherType).
 */
function decodePppOrHdlc(b: Uint8Array, off: number, end: number, out: DecodedPacket): number {
  if (off + 2 > end) return failWith(ANOMALY.truncated_link);
  const address = b[off];
  if ((address === CHDLC_UNICAST || address === CHDLC_BROADCAST) && b[off + 1] === 0) {
    if (off + 4 > end) return failWith(ANOMALY.truncated_link);
    return decodeEthertype(b, off + 4, end, be16(b, off + 2), out);
  }
  return decodePppProtocol(b, off, end, out);
}

/** PPP protocol field, after optional 0xff 0x03 (RFC 1662 s3.1, omitted under ACFC). */
export function decodePppProtocol(
  b: Uint8Array, off: number, end: number, out: DecodedPacket,
): number {
  if (off + 2 <= end && b[off] === PPP_ADDRESS && b[off + 1] === PPP_CONTROL) off += 2;
  if (off + 1 > end) return failWith(ANOMALY.truncated_link);
  let proto: number;
  if ((b[off] & 1) === 1) {
    // Protocol-Field-Compression (RFC 1661 section 6.5): one byte, odd.
    proto = b[off];
    off += 1;
  } else {
    if (off + 2 > end) return failWith(ANOMALY.truncated_link);
    proto = be16(b, off);
    off += 2;
  }
  if (proto === PPP_PROTO.IPV4) {
    out.ipVersion = 4;
    return off;
  }
  if (proto === PPP_PROTO.IPV6) {
    out.ipVersion = 6;
    return off;
  }
  return failWith(ANOMALY.non_ip); // LCP, IPCP, CHAP and friends
}

/** MPLS label stack (RFC 3032 section 2.1): label 20, TC 3, S 1, TTL 8 bits per entry. */
function decodeMpls(b: Uint8Array, off: number, end: number, out: DecodedPacket): number {
  for (let labels = 0; ; labels++) {
    if (labels >= MAX_MPLS_LABELS) return failWith(ANOMALY.mpls_too_deep);
    if (off + MPLS_ENTRY_BYTES > end) return failWith(ANOMALY.truncated_link);
    const bottomOfStack = (b[off + 2] & 0x01) === 1;
    off += MPLS_ENTRY_BYTES;
    if (bottomOfStack) break;
  }
  // MPLS carries no payload type: the first nibble tells IPv4/IPv6 (RFC 4928 section 2).
  // gap: pseudowires (first nibble 0, RFC 4385 control word, Ethernet inside) are not
  // decoded; they are provider-core encapsulation, rare on a sensor's span port.
  out.ipVersion = 0;
  if (off >= end) return failWith(ANOMALY.truncated_link);
  const nibble = b[off] >> 4;
  return nibble === 4 || nibble === 6 ? off : failWith(ANOMALY.non_ip);
}

/**
 * DLT_NULL: a 4-byte address family in the capturing host's byte order (a value above
 * 0xffff means the other order). DLT_LOOP: the same in network byte order.
 */
function decodeNull(
  b: Uint8Array, off: number, end: number, out: DecodedPacket, networkOrder: boolean,
): number {
  if (off + NULL_HEADER_BYTES > end) return failWith(ANOMALY.truncated_link);
  let family = networkOrder ? be32(b, off) : le32(b, off);
  if (!networkOrder && family > 0xffff) family = be32(b, off);
  switch (family) {
    case BSD_AF.INET:
      out.ipVersion = 4;
      return off + NULL_HEADER_BYTES;
    case BSD_AF.INET6_BSD:
    case BSD_AF.INET6_FREEBSD:
    case BSD_AF.INET6_DARWIN:
      out.ipVersion = 6;
      return off + NULL_HEADER_BYTES;
    default:
      return failWith(ANOMALY.non_ip);
  }
}

/**
 * Linux cooked v1 (LINKTYPE_LINUX_SLL): packet type (2), ARPHRD type (2), address length
 * (2), address (8), protocol (2, an EtherType for every ARPHRD we can use).
 */
function decodeSll(b: Uint8Array, off: number, end: number, out: DecodedPacket): number {
  if (off + SLL_HEADER_BYTES > end) return failWith(ANOMALY.truncated_link);
  if (be16(b, off + 2) === ARPHRD_NETLINK) return failWith(ANOMALY.non_ip);
  return decodeEthertype(b, off + SLL_HEADER_BYTES, end, be16(b, off + 14), out);
}

/**
 * Linux cooked v2 (LINKTYPE_LINUX_SLL2): protocol (2), reserved (2), interface index (4),
 * ARPHRD type (2), packet type (1), address length (1), address (8).
 */
function decodeSll2(b: Uint8Array, off: number, end: number, out: DecodedPacket): number {
  if (off + SLL2_HEADER_BYTES > end) return failWith(ANOMALY.truncated_link);
  if (be16(b, off + 8) === ARPHRD_NETLINK) return failWith(ANOMALY.non_ip);
  return decodeEthertype(b, off + SLL2_HEADER_BYTES, end, be16(b, off), out);
}
