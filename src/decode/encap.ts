// Tunnel decapsulation. Once the captured packet has decoded, a packet that carries another
// one (IP-in-IP, GRE and what GRE leads to, VXLAN, VXLAN-GPE, GENEVE, and the UDP carriers
// of encap-udp.ts: GTP-U, Teredo, AYIYA) is replaced, layer by layer, by the packet inside
// it: flows are then keyed on what the inner endpoints exchanged, and out.encap /
// out.encapDepth say how the packet travelled.
//
// On failure a layer is not removed: when its header is malformed or cut by the snaplen, or
// its payload is not a usable IP packet, the packet is reported as the enclosing packet that
// carried it (for a single layer, the captured packet). That is still a real flow between
// the tunnel endpoints, so nothing is dropped, and one informational anomaly is counted.
// A carrier that is an IP fragment is never opened: the inner packet is split across
// fragments and this decoder does not reassemble.
//
// gap: L2TP (UDP 1701) is not removed: it is VPN transport whose PPP sessions are judged
// as VPN traffic, so those packets stay keyed on their outer flow.

import { ANOMALY, failWith, failedAnomaly } from './anomalies';
import { be16 } from './bytes';
import {
  DLT, ERSPAN_FRAME_TYPE, ERSPAN_III_FLAG_O, ERSPAN_III_FT_MASK,
  ERSPAN_III_FT_SHIFT, ERSPAN_III_HEADER_BYTES, ERSPAN_III_SUBHEADER_BYTES,
  ERSPAN_II_HEADER_BYTES, ERSPAN_VERSION, ETHERTYPE, GENEVE_FLAG_O, GENEVE_HEADER_BYTES,
  GENEVE_OPT_LEN_MASK, GENEVE_OPT_UNIT_BYTES, GENEVE_VERSION_SHIFT, GRE_ACK,
  GRE_BASE_HEADER_BYTES, GRE_FLAG, GRE_FLAGS2_RESERVED, GRE_OPTION_BYTES, GRE_VERSION,
  GRE_VERSION_MASK, IPPROTO_TUNNEL, MAX_ENCAP_DEPTH, VXLAN_FLAG_I, VXLAN_GPE_FLAG,
  VXLAN_GPE_NEXT, VXLAN_GPE_VERSION_MASK, VXLAN_HEADER_BYTES,
} from './constants';
import { KEEP_ENCLOSING, headerFits } from './encap-common';
import { decodeAyiya, decodeGtpu, decodeTeredo, udpCarrierOf } from './encap-udp';
import { IP_BAD_UDP_LENGTH, IP_LENGTH_ZERO, decodeIpPacket } from './ip';
import { decodeEthertype, decodeLink, decodePppProtocol } from './link';
import { ENCAP, IPPROTO, copyDecodedPacket, newDecodedPacket } from './packet';
import type { DecodeCounters } from './anomalies';
import type { DecodedPacket } from './packet';

/**
 * The enclosing layer while the one inside is decoded, restored if that fails. One per
 * module, so one per worker thread: decoding is synchronous and never re-entered.
 */
const enclosing = newDecodedPacket();

/** GRE flags that RFC 2784 section 2.3 says a receiver must discard the packet for. */
const GRE_FORBIDDEN_FLAGS = GRE_FLAG.ROUTING | GRE_FLAG.STRICT_ROUTE | GRE_FLAG.RECURSION_HIGH;

/**
 * The ENCAP code of the tunnel `out` is the carrier of, or ENCAP.NONE. decodePacket tests the
 * same carriers inline before calling decapsulate (UDP ones through udpCarrierOf, as the
 * dispatcher's shard key does); a carrier added here must be added there.
 */
export function encapOf(out: DecodedPacket): number {
  switch (out.proto) {
    case IPPROTO_TUNNEL.IPV4:
      return ENCAP.IPIP;
    case IPPROTO_TUNNEL.IPV6:
      return ENCAP.SIX_IN_FOUR;
    case IPPROTO_TUNNEL.GRE:
      return ENCAP.GRE;
    case IPPROTO.UDP:
      return udpCarrierOf(out.srcPort, out.dstPort);
    default:
      return ENCAP.NONE;
  }
}

/**
 * Replaces `out`, a decoded packet that is not a fragment, by the innermost packet it
 * carries, at most MAX_ENCAP_DEPTH layers down. Counts the informational anomalies of every
 * inner packet it keeps and at most one tunnel anomaly. Never throws, never allocates.
 */
export function decapsulate(b: Uint8Array, out: DecodedPacket, counters: DecodeCounters): void {
  for (let depth = 1; !out.fragment; depth++) {
    const encap = encapOf(out);
    if (encap === ENCAP.NONE) return;
    if (depth > MAX_ENCAP_DEPTH) {
      counters.add(ANOMALY.encap_too_deep);
      return;
    }
    copyDecodedPacket(out, enclosing);
    // The inner packet ends with the carrier's captured payload, never in its padding.
    const end = out.payloadOffset + out.payloadLength;
    out.encap = encap;
    let result = decodeTunnelHeader(b, end, out);
    if (result >= 0) {
      // Ports and TCP fields belong to the carrier; a non-first inner fragment has none.
      out.srcPort = 0;
      out.dstPort = 0;
      out.tcpFlags = 0;
      out.tcpSeq = 0;
      out.tcpAck = 0;
      result = decodeIpPacket(b, result, end, out);
    }
    if (result < 0) {
      copyDecodedPacket(enclosing, out);
      if (result !== KEEP_ENCLOSING) counters.add(tunnelAnomaly(failedAnomaly(result), out));
      return;
    }
    out.vlan = enclosing.vlan; // an 802.1Q tag inside the tunnel is not the capture's VLAN
    out.encapDepth = depth;
    // The inner length fields are capped by what the carrier says it carried, so a forged
    // inner IP length cannot inflate the flow's payload byte count.
    const wireRoom = enclosing.payloadOffset + enclosing.payloadLengthOnWire - out.payloadOffset;
    if (out.payloadLengthOnWire > wireRoom) out.payloadLengthOnWire = wireRoom;
    // A Teredo bubble (RFC 4380 section 5.2.6) is an IPv6 header with payload length 0 on
    // purpose, and encap-udp.ts checked that it fills the datagram: not a TSO length.
    if ((result & IP_LENGTH_ZERO) !== 0 && encap !== ENCAP.TEREDO) {
      counters.add(ANOMALY.ip_length_zero);
    }
    if ((result & IP_BAD_UDP_LENGTH) !== 0) counters.add(ANOMALY.bad_udp_length);
  }
}

/**
 * Which tunnel anomaly a failed layer counts. The inner packet's own link, IP and transport
 * anomalies name dropped packets elsewhere, so they are folded into tunnel names here: a
 * truncation is the snaplen's doing only when the carrier itself was cut short, otherwise
 * the inner packet claims more bytes than its carrier held.
 */
function tunnelAnomaly(anomaly: number, carrier: DecodedPacket): number {
  switch (anomaly) {
    case ANOMALY.truncated_encap:
    case ANOMALY.bad_gre_header:
    case ANOMALY.bad_erspan_header:
    case ANOMALY.bad_vxlan_header:
    case ANOMALY.bad_geneve_header:
    case ANOMALY.bad_gtpu_header:
    case ANOMALY.bad_teredo_header:
    case ANOMALY.bad_ayiya_header:
      return anomaly;
    case ANOMALY.non_ip:
    case ANOMALY.unknown_ethertype:
      return ANOMALY.encap_non_ip;
    case ANOMALY.truncated_link:
    case ANOMALY.truncated_ipv4:
    case ANOMALY.truncated_ipv6:
    case ANOMALY.truncated_ipv6_ext:
    case ANOMALY.truncated_tcp:
    case ANOMALY.truncated_udp:
    case ANOMALY.truncated_icmp:
      return carrier.payloadLength < carrier.payloadLengthOnWire
        ? ANOMALY.truncated_encap : ANOMALY.bad_inner_packet;
    default:
      return ANOMALY.bad_inner_packet;
  }
}

/**
 * Reads the tunnel header at out.payloadOffset and returns the offset of the inner IP header
 * (out.ipVersion set to 4 or 6, or 0 to let the version nibble decide), KEEP_ENCLOSING, or
 * failWith(anomaly). Parsers may refine out.encap (GRE turns out to be ERSPAN or PPTP).
 */
function decodeTunnelHeader(b: Uint8Array, end: number, out: DecodedPacket): number {
  switch (out.encap) {
    case ENCAP.IPIP:
      out.ipVersion = 4; // no header of its own: the IPv4 packet is the payload (RFC 2003)
      return out.payloadOffset;
    case ENCAP.SIX_IN_FOUR:
      out.ipVersion = 6; // likewise for IPv6 (RFC 4213 section 3.5)
      return out.payloadOffset;
    case ENCAP.GRE:
      return decodeGre(b, end, out);
    case ENCAP.VXLAN:
      return decodeVxlan(b, end, out);
    case ENCAP.VXLAN_GPE:
      return decodeVxlanGpe(b, end, out);
    case ENCAP.GTP_U:
      return decodeGtpu(b, out);
    case ENCAP.TEREDO:
      return decodeTeredo(b, out);
    case ENCAP.AYIYA:
      return decodeAyiya(b, out);
    default:
      return decodeGeneve(b, end, out);
  }
}

/** GRE (RFC 2784, with RFC 2890 key and sequence) and PPTP's enhanced GRE (RFC 2637 s4.1). */
function decodeGre(b: Uint8Array, end: number, out: DecodedPacket): number {
  const p = out.payloadOffset;
  let fits = headerFits(out, GRE_BASE_HEADER_BYTES, ANOMALY.bad_gre_header);
  if (fits < 0) return fits;
  // C R K S s Recur (1), A Flags Ver (1), protocol type (2)
  const flags = b[p];
  const flags2 = b[p + 1];
  const protocol = be16(b, p + 2);
  const version = flags2 & GRE_VERSION_MASK;
  if ((flags & GRE_FORBIDDEN_FLAGS) !== 0) return failWith(ANOMALY.bad_gre_header);

  // Optional 4-byte fields in wire order: checksum and reserved1, key, sequence number, and
  // for PPTP the acknowledgment number.
  let options: number;
  if (version === GRE_VERSION.STANDARD) {
    options = ((flags & GRE_FLAG.CHECKSUM) !== 0 ? 1 : 0) +
      ((flags & GRE_FLAG.KEY) !== 0 ? 1 : 0) + ((flags & GRE_FLAG.SEQUENCE) !== 0 ? 1 : 0);
  } else if (version === GRE_VERSION.PPTP) {
    // No checksum, a key always (payload length, call id), PPP inside (RFC 2637 s4.1).
    if ((flags & GRE_FLAG.CHECKSUM) !== 0 || (flags & GRE_FLAG.KEY) === 0 ||
      (flags2 & GRE_FLAGS2_RESERVED) !== 0 || protocol !== ETHERTYPE.PPP) {
      return failWith(ANOMALY.bad_gre_header);
    }
    options = 1 + ((flags & GRE_FLAG.SEQUENCE) !== 0 ? 1 : 0) +
      ((flags2 & GRE_ACK) !== 0 ? 1 : 0);
  } else {
    return failWith(ANOMALY.bad_gre_header);
  }
  const headerBytes = GRE_BASE_HEADER_BYTES + options * GRE_OPTION_BYTES;
  fits = headerFits(out, headerBytes, ANOMALY.bad_gre_header);
  if (fits < 0) return fits;
  const inner = p + headerBytes;

  if (version === GRE_VERSION.PPTP) {
    out.encap = ENCAP.PPTP;
    // The key's high half is the payload length: 0 on an acknowledgment-only packet.
    if (be16(b, p + GRE_BASE_HEADER_BYTES) === 0) return KEEP_ENCLOSING;
    return decodePppProtocol(b, inner, end, out);
  }
  switch (protocol) {
    case ETHERTYPE.TRANSPARENT_ETHERNET:
      return decodeLink(b, inner, end, DLT.EN10MB, out);
    case ETHERTYPE.ERSPAN_II:
      out.encap = ENCAP.ERSPAN;
      // Type I has no sequence number and no ERSPAN header: the mirrored frame follows.
      if ((flags & GRE_FLAG.SEQUENCE) === 0) return decodeLink(b, inner, end, DLT.EN10MB, out);
      return decodeErspanII(b, inner, end, out);
    case ETHERTYPE.ERSPAN_III:
      out.encap = ENCAP.ERSPAN;
      return decodeErspanIII(b, inner, end, out);
    default:
      // IPv4, IPv6, MPLS, VLAN: the protocol type is an EtherType (RFC 2784 section 2.4).
      return decodeEthertype(b, inner, end, protocol, out);
  }
}

/** ERSPAN type II header (draft-foschiano-erspan-03 section 4.2), then the mirrored frame. */
function decodeErspanII(b: Uint8Array, p: number, end: number, out: DecodedPacket): number {
  const fits = headerFits(out, p - out.payloadOffset + ERSPAN_II_HEADER_BYTES,
    ANOMALY.bad_erspan_header);
  if (fits < 0) return fits;
  // Ver (4) VLAN (12), COS (3) En (2) T (1) session id (10), reserved (12) index (20)
  if (b[p] >> 4 !== ERSPAN_VERSION.TYPE_II) return failWith(ANOMALY.bad_erspan_header);
  return decodeLink(b, p + ERSPAN_II_HEADER_BYTES, end, DLT.EN10MB, out);
}

/** ERSPAN type III header (draft-foschiano-erspan-03 section 4.3), optional subheader. */
function decodeErspanIII(b: Uint8Array, p: number, end: number, out: DecodedPacket): number {
  const start = p - out.payloadOffset;
  let fits = headerFits(out, start + ERSPAN_III_HEADER_BYTES, ANOMALY.bad_erspan_header);
  if (fits < 0) return fits;
  // Ver VLAN (2), COS BSO T session id (2), timestamp (4), SGT (2), P FT HW-ID D Gra O (2)
  if (b[p] >> 4 !== ERSPAN_VERSION.TYPE_III) return failWith(ANOMALY.bad_erspan_header);
  const word = be16(b, p + 10);
  const frameType = (word & ERSPAN_III_FT_MASK) >> ERSPAN_III_FT_SHIFT;
  const headerBytes = ERSPAN_III_HEADER_BYTES +
    ((word & ERSPAN_III_FLAG_O) !== 0 ? ERSPAN_III_SUBHEADER_BYTES : 0);
  fits = headerFits(out, start + headerBytes, ANOMALY.bad_erspan_header);
  if (fits < 0) return fits;
  if (frameType === ERSPAN_FRAME_TYPE.ETHERNET) {
    return decodeLink(b, p + headerBytes, end, DLT.EN10MB, out);
  }
  if (frameType !== ERSPAN_FRAME_TYPE.IP) return failWith(ANOMALY.non_ip);
  out.ipVersion = 0; // the version nibble decides
  return p + headerBytes;
}

/** VXLAN (RFC 7348 section 5): 8-byte header, then an Ethernet frame. */
function decodeVxlan(b: Uint8Array, end: number, out: DecodedPacket): number {
  const p = out.payloadOffset;
  const fits = headerFits(out, VXLAN_HEADER_BYTES, ANOMALY.bad_vxlan_header);
  if (fits < 0) return fits;
  // flags (1), reserved (3), VNI (3), reserved (1). Bits other than I are ignored on receipt.
  if ((b[p] & VXLAN_FLAG_I) === 0) return failWith(ANOMALY.bad_vxlan_header);
  return decodeLink(b, p + VXLAN_HEADER_BYTES, end, DLT.EN10MB, out);
}

/**
 * VXLAN-GPE (draft-ietf-nvo3-vxlan-gpe-13 section 3.3): VXLAN with a next-protocol byte. A
 * packet without P is refused, as Linux does: the draft requires P, and its payload type
 * would be a guess.
 */
function decodeVxlanGpe(b: Uint8Array, end: number, out: DecodedPacket): number {
  const p = out.payloadOffset;
  const fits = headerFits(out, VXLAN_HEADER_BYTES, ANOMALY.bad_vxlan_header);
  if (fits < 0) return fits;
  // flags (1), reserved (2), next protocol (1), VNI (3), reserved (1)
  const flags = b[p];
  if ((flags & VXLAN_GPE_VERSION_MASK) !== 0 || (flags & VXLAN_GPE_FLAG.I) === 0 ||
    (flags & VXLAN_GPE_FLAG.P) === 0) {
    return failWith(ANOMALY.bad_vxlan_header);
  }
  if ((flags & VXLAN_GPE_FLAG.O) !== 0) return KEEP_ENCLOSING; // OAM between the endpoints
  const inner = p + VXLAN_HEADER_BYTES;
  switch (b[p + 3]) {
    case VXLAN_GPE_NEXT.IPV4:
      out.ipVersion = 4;
      return inner;
    case VXLAN_GPE_NEXT.IPV6:
      out.ipVersion = 6;
      return inner;
    case VXLAN_GPE_NEXT.ETHERNET:
      return decodeLink(b, inner, end, DLT.EN10MB, out);
    default:
      return failWith(ANOMALY.non_ip); // NSH (service chaining) and unassigned values
  }
}

/** GENEVE (RFC 8926 section 3.4): 8-byte header, options, then the protocol type's frame. */
function decodeGeneve(b: Uint8Array, end: number, out: DecodedPacket): number {
  const p = out.payloadOffset;
  let fits = headerFits(out, GENEVE_HEADER_BYTES, ANOMALY.bad_geneve_header);
  if (fits < 0) return fits;
  // Ver (2) Opt Len (6), O C reserved (6) (1), protocol type (2), VNI (3), reserved (1)
  if (b[p] >> GENEVE_VERSION_SHIFT !== 0) return failWith(ANOMALY.bad_geneve_header);
  // Opt Len is 6 bits, so the options are at most 252 bytes: no separate cap is needed.
  const optionBytes = (b[p] & GENEVE_OPT_LEN_MASK) * GENEVE_OPT_UNIT_BYTES;
  const headerBytes = GENEVE_HEADER_BYTES + optionBytes;
  fits = headerFits(out, headerBytes, ANOMALY.bad_geneve_header);
  if (fits < 0) return fits;
  // A control message: "transit devices MUST NOT attempt to interpret it" (section 3.4).
  if ((b[p + 1] & GENEVE_FLAG_O) !== 0) return KEEP_ENCLOSING;
  const protocol = be16(b, p + 2);
  const inner = p + headerBytes;
  if (protocol === ETHERTYPE.TRANSPARENT_ETHERNET) {
    return decodeLink(b, inner, end, DLT.EN10MB, out);
  }
  return decodeEthertype(b, inner, end, protocol, out);
}
