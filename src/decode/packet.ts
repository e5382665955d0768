// The decoded view of one packet. One instance is reused for every packet a decoder sees, so
// the hot path allocates nothing: decodePacket() overwrites every field it owns.

/** IP protocol numbers the flow layer understands (IANA "Assigned Internet Protocol Numbers"). */
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

/** TCP flag bits as they sit in the 13th byte of the TCP header (RFC 9293 section 3.1). */
export const TCP_FLAG = {
  FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80,
} as const;

/**
 * How the decoded packet reached the wire when it was carried inside another one. Codes are
 * stable, and leave the process by name (ENCAP_NAMES[code]). Each names the carrier; the
 * outer packet may be IPv4 or IPv6 whatever the name says about the inner one.
 */
export const ENCAP = {
  NONE: 0,
  IPIP: 1, // IP protocol 4: IPv4 in IPv4 (RFC 2003) or in IPv6 (RFC 2473)
  SIX_IN_FOUR: 2, // IP protocol 41: IPv6 in IPv4 (RFC 4213) or in IPv6 (RFC 2473)
  GRE: 3, // IP protocol 47 (RFC 2784, RFC 2890)
  VXLAN: 4, // UDP 4789 (RFC 7348)
  GENEVE: 5, // UDP 6081 (RFC 8926)
  ERSPAN: 6, // Cisco port mirroring over GRE, type I/II/III (draft-foschiano-erspan-03)
  PPTP: 7, // enhanced GRE, version 1, carrying PPP (RFC 2637 section 4.1)
  VXLAN_GPE: 8, // UDP 4790 (draft-ietf-nvo3-vxlan-gpe-13)
  GTP_U: 9, // UDP 2152, mobile-core user plane (3GPP TS 29.281)
  TEREDO: 10, // UDP 3544, IPv6 over UDP over IPv4 through NAT (RFC 4380)
  AYIYA: 11, // UDP 5072, SixXS "Anything In Anything" tunnel broker protocol
} as const;

/** Lower-case name of each ENCAP code, indexed by the code. */
export const ENCAP_NAMES: readonly string[] = [
  'none', 'ipip', '6in4', 'gre', 'vxlan', 'geneve', 'erspan', 'pptp', 'vxlan-gpe', 'gtp-u',
  'teredo', 'ayiya',
];

export interface DecodedPacket {
  /** 4 or 6 when an IP header was decoded, 0 otherwise. */
  ipVersion: number;
  /**
   * Source and destination address as four big-endian u32 words. IPv4 uses the IPv4-mapped
   * IPv6 form (0, 0, 0xffff, addr) so one 128-bit key shape serves both families.
   */
  src: Uint32Array;
  dst: Uint32Array;
  /** IP protocol of the transport header (after IPv6 extension headers), or 0. */
  proto: number;
  /** TCP/UDP ports; for ICMP/ICMPv6 srcPort = type, dstPort = code. */
  srcPort: number;
  dstPort: number;
  /** TCP flags byte, 0 for other transports. */
  tcpFlags: number;
  tcpSeq: number;
  tcpAck: number;
  /** Offset of the transport payload inside the buffer passed to decodePacket. */
  payloadOffset: number;
  /** Transport payload length actually present in the capture (never past caplen). */
  payloadLength: number;
  /** Payload length the IP header claims (differs from payloadLength when snaplen cut it). */
  payloadLengthOnWire: number;
  /** True when this is an IP fragment (non-first fragments carry no transport header). */
  fragment: boolean;
  /** Outermost VLAN id, or -1. Tags inside a tunnel do not replace the capture's own. */
  vlan: number;
  /**
   * ENCAP code of the innermost tunnel layer that was removed, 0 when none was. When it is
   * not 0, every field above but vlan describes the packet inside the tunnel; the tunnel
   * endpoints themselves are not kept.
   */
  encap: number;
  /** Tunnel layers removed to reach the decoded packet (0 to MAX_ENCAP_DEPTH). */
  encapDepth: number;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    ipVersion: 0, src: new Uint32Array(4), dst: new Uint32Array(4), proto: 0,
    srcPort: 0, dstPort: 0, tcpFlags: 0, tcpSeq: 0, tcpAck: 0,
    payloadOffset: 0, payloadLength: 0, payloadLengthOnWire: 0, fragment: false, vlan: -1,
    encap: 0, encapDepth: 0,
  };
}

/** Copies every field of `from` into `to` without allocating (addresses are copied in place). */
export function copyDecodedPacket(from: DecodedPacket, to: DecodedPacket): void {
  // Word by word: TypedArray.set() costs a call each, on the tunnel path's every layer.
  const fs = from.src;
  const fd = from.dst;
  const ts = to.src;
  const td = to.dst;
  ts[0] = fs[0]; ts[1] = fs[1]; ts[2] = fs[2]; ts[3] = fs[3];
  td[0] = fd[0]; td[1] = fd[1]; td[2] = fd[2]; td[3] = fd[3];
  to.ipVersion = from.ipVersion;
  to.proto = from.proto;
  to.srcPort = from.srcPort;
  to.dstPort = from.dstPort;
  to.tcpFlags = from.tcpFlags;
  to.tcpSeq = from.tcpSeq;
  to.tcpAck = from.tcpAck;
  to.payloadOffset = from.payloadOffset;
  to.payloadLength = from.payloadLength;
  to.payloadLengthOnWire = from.payloadLengthOnWire;
  to.fragment = from.fragment;
  to.vlan = from.vlan;
  to.encap = from.encap;
  to.encapDepth = from.encapDepth;
}
