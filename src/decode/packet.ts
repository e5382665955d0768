// The decoded view of one packet. One instance is reused for every packet a decoder sees, so
// the hot path allocates nothing: decodePacket() overwrites every field it owns.

/** IP protocol numbers the flow layer understands (IANA "Assigned Internet Protocol Numbers"). */
export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

/** TCP flag bits as they sit in the 13th byte of the TCP header (RFC 9293 section 3.1). */
export const TCP_FLAG = {
  FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80,
} as const;

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
  /** Outermost VLAN id, or -1. */
  vlan: number;
}

export function newDecodedPacket(): DecodedPacket {
  return {
    ipVersion: 0, src: new Uint32Array(4), dst: new Uint32Array(4), proto: 0,
    srcPort: 0, dstPort: 0, tcpFlags: 0, tcpSeq: 0, tcpAck: 0,
    payloadOffset: 0, payloadLength: 0, payloadLengthOnWire: 0, fragment: false, vlan: -1,
  };
}
