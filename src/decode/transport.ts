// Transport layer. Reads the header at out.payloadOffset (placed there by the IP decoder) and
// narrows the payload span to what follows it. Returns 0, TRANSPORT_BAD_UDP_LENGTH (the
// packet is usable; the caller counts the anomaly) or failWith(anomaly).

import { ANOMALY, failWith } from './anomalies';
import { be16, be32 } from './bytes';
import { ICMP_HEADER_BYTES, TCP_MIN_HEADER_BYTES, UDP_HEADER_BYTES } from './constants';
import { IPPROTO } from './packet';
import type { DecodedPacket } from './packet';

export const TRANSPORT_BAD_UDP_LENGTH = 1;

export function decodeTransport(b: Uint8Array, out: DecodedPacket): number {
  const p = out.payloadOffset;
  switch (out.proto) {
    case IPPROTO.TCP:
      return decodeTcp(b, p, out);
    case IPPROTO.UDP:
      return decodeUdp(b, p, out);
    case IPPROTO.ICMP:
    case IPPROTO.ICMPV6:
      return decodeIcmp(b, p, out);
    default:
      // Other protocols have no header here. IP-in-IP (4, 41) and GRE (47), and VXLAN and
      // GENEVE one layer up, are removed afterwards by encap.ts.
      return 0;
  }
}

/** TCP (RFC 9293 section 3.1). */
function decodeTcp(b: Uint8Array, p: number, out: DecodedPacket): number {
  if (out.payloadLength < TCP_MIN_HEADER_BYTES) return failWith(ANOMALY.truncated_tcp);
  out.srcPort = be16(b, p);
  out.dstPort = be16(b, p + 2);
  out.tcpSeq = be32(b, p + 4);
  out.tcpAck = be32(b, p + 8);
  const headerBytes = (b[p + 12] >> 4) * 4; // data offset in 32-bit words
  out.tcpFlags = b[p + 13];
  // window (2), checksum (2), urgent pointer (2) and options are not needed here.
  if (headerBytes < TCP_MIN_HEADER_BYTES || headerBytes > out.payloadLengthOnWire) {
    return failWith(ANOMALY.bad_tcp_offset);
  }
  if (headerBytes > out.payloadLength) return failWith(ANOMALY.truncated_tcp);
  narrow(out, headerBytes);
  return 0;
}

/** UDP (RFC 768). */
function decodeUdp(b: Uint8Array, p: number, out: DecodedPacket): number {
  if (out.payloadLength < UDP_HEADER_BYTES) return failWith(ANOMALY.truncated_udp);
  out.srcPort = be16(b, p);
  out.dstPort = be16(b, p + 2);
  const udpLength = be16(b, p + 4);
  // checksum (2) is not verified.
  let result = 0;
  if (udpLength >= UDP_HEADER_BYTES && udpLength <= out.payloadLengthOnWire) {
    // Trust the smaller UDP length: bytes past it inside the IP datagram are not payload.
    out.payloadLengthOnWire = udpLength;
    if (out.payloadLength > udpLength) out.payloadLength = udpLength;
  } else if (udpLength !== 0 || out.ipVersion !== 6) {
    // Zero is legal only in IPv6 jumbograms (RFC 2675 section 4); the IP length wins.
    result = TRANSPORT_BAD_UDP_LENGTH;
  }
  narrow(out, UDP_HEADER_BYTES);
  return result;
}

/** ICMP (RFC 792) and ICMPv6 (RFC 4443): type and code are stored as the two ports. */
function decodeIcmp(b: Uint8Array, p: number, out: DecodedPacket): number {
  if (out.payloadLength < ICMP_HEADER_BYTES) return failWith(ANOMALY.truncated_icmp);
  out.srcPort = b[p];
  out.dstPort = b[p + 1];
  // Payload starts after type, code, checksum and the 4-byte rest-of-header (echo id/seq).
  narrow(out, ICMP_HEADER_BYTES);
  return 0;
}

function narrow(out: DecodedPacket, headerBytes: number): void {
  out.payloadOffset += headerBytes;
  out.payloadLength -= headerBytes;
  out.payloadLengthOnWire -= headerBytes;
}
